// Linear layers in bf16 or int8 through oneDNN (kernels/cpu/matmul_onednn.c),
// the CPU backend's reduced precisions: the same contract as
// tc_cpu_matmul_forward (out = act(inp . w^T + bias)), with the products in
// the reduced type and everything else (bias, activation, the output) in f32.
//
//   bf16  inputs and weights rounded to bf16, products summed in f32
//   int8  weights quantized per output channel (symmetric), inputs per row
//         (asymmetric u8, dynamically, batch by batch), products summed in
//         int32 and scaled back in f32; where the CPU lacks VNNI, inputs
//         keep 7 bits so that AVX2's pairwise u8 x s8 sums cannot saturate
//
// Weights are prepared once, the first time a weight buffer is multiplied
// (quantized or rounded, then reordered to the layout oneDNN's kernel for
// this CPU wants), and kept until the buffer is freed: the backend's weights
// do not change during inference. Only in builds with oneDNN (TC_HAVE_DNNL).
#ifndef TC_CPU_MATMUL_ONEDNN_H
#define TC_CPU_MATMUL_ONEDNN_H

#include <stddef.h>
#include <stdint.h>

#include "common/threadpool.h"
#include "formats/tct.h"
#include "kernels/backend.h"

typedef struct tc_onednn tc_onednn;

// 0 when this build and CPU can compute in `precision` (TCT_BF16 or TCT_I8);
// else -1 and `why` (size n) says what is missing, naming the CPU feature.
int tc_onednn_supported(tct_dtype precision, char *why, size_t n);

// 1 where the CPU has bf16 dot-product units (avx512_bf16, amx_bf16), not emulation.
int tc_onednn_native_bf16(void);

// What oneDNN computes with on this CPU, for -v: "int8 through oneDNN 2.6.3 on avx2 ...".
void tc_onednn_describe(tct_dtype precision, char *text, size_t n);

tc_onednn *tc_onednn_create(tct_dtype precision, int threads);  // NULL after tc_fail
void tc_onednn_destroy(tc_onednn *d);

// int8: the largest quantized input (255, or 127 without VNNI); weights are
// quantized to [-127, 127].
int tc_onednn_input_max(const tc_onednn *d);

// out (N, OC) = act(inp (N, IC) . w (OC, IC)^T + bias); pre as tc_cpu_matmul_forward.
int tc_onednn_matmul_forward(tc_onednn *d, tc_pool *pool, float *out, float *pre, const float *inp, const float *w,
                             const float *bias, int N, int IC, int OC, tc_activation act);

// The same without activation, the product rounded to bf16 into out (N, OC)
// (as tc_cpu_round_bf16 rounds), for a consumer that takes bf16 (attention).
int tc_onednn_matmul_forward_to_bf16(tc_onednn *d, tc_pool *pool, uint16_t *out, const float *inp, const float *w,
                                     const float *bias, int N, int IC, int OC);
// The same product a block of rows at a time, for callers that chain
// products on rows still in the cache (kernels/cpu/layer_tail.c). A weight
// is prepared ahead, by one thread (NULL after tc_fail); then each block of
// at most TC_ONEDNN_BLOCK_ROWS rows is multiplied by the pool thread
// `thread` (0 .. the create's threads - 1): out (M, OC) = act(inp (M, IC)
// . w^T + bias), pre as above. Rows go in blocks of that size, from the
// first, in tc_onednn_matmul_forward too: a caller that blocks the same way
// gets the same bits (int8's outlier columns are chosen per block). A
// failed block returns -1 and keeps the reason for tc_onednn_failure,
// which the caller asks once the pool is done (it clears it).
enum { TC_ONEDNN_BLOCK_ROWS = 64 };
typedef struct tc_onednn_weight tc_onednn_weight;
int tc_onednn_check_pool(const tc_onednn *d, tc_pool *pool);  // -1 after tc_fail: more threads than made for
const tc_onednn_weight *tc_onednn_prepare(tc_onednn *d, const float *w, int IC, int OC);
int tc_onednn_block_forward(tc_onednn *d, const tc_onednn_weight *p, int thread, float *out, float *pre,
                            const float *inp, const float *bias, int M, tc_activation act);
int tc_onednn_failure(tc_onednn *d);  // 0, or -1 after tc_fail with the first failed block's reason
// w is being freed: its prepared copy goes (a new buffer may take its address).
void tc_onednn_forget(tc_onednn *d, const void *w);

#endif
