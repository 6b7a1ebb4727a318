// The CPU backend's operations as plain functions on f32 host buffers, the
// reference implementations (kernels/backend.h documents each operation and
// the dims legend). Each takes the thread pool to spread its work over;
// matrix products call OpenBLAS single-threaded from the pool's threads, so
// one set of threads does all the work. NULL pool: the calling thread only.
#ifndef TC_CPU_OPS_H
#define TC_CPU_OPS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/threadpool.h"
#include "kernels/backend.h"
#include "kernels/cpu/matmul_bf16.h"
#include "kernels/cpu/matmul_onednn.h"

// A pool thread's scratch buffer: at least `want` bytes, 64-byte aligned,
// replaced (its contents dropped) when too small, never shrunk. 0, or -1
// when out of memory (the buffer then empty).
static inline int tc_cpu_grow(void **buf, size_t *have, size_t want) {
    if (*have >= want) return 0;
    free(*buf);
    *have = 0;
    if (!(*buf = aligned_alloc(64, (want + 63) / 64 * 64))) return -1;
    *have = want;
    return 0;
}

// kernels/cpu/embeddings.c
void tc_cpu_embeddings_forward(tc_pool *pool, float *out, const int32_t *ids, const int32_t *pos,
                               const int32_t *types, const float *wte, const float *wpe, const float *wtt, int N,
                               int C);

// kernels/cpu/layernorm.c
void tc_cpu_layernorm_forward(tc_pool *pool, float *out, float *mean, float *rstd, float *sum, const float *inp,
                              const float *residual, const float *w, const float *b, float eps, int N, int C);

// The same for `rows` rows on the calling thread, no statistics kept.
void tc_cpu_layernorm_rows(float *out, const float *inp, const float *residual, const float *w, const float *b,
                           float eps, int rows, int C);
// kernels/cpu/matmul.c
void tc_cpu_matmul_forward(tc_pool *pool, float *out, float *pre, const float *inp, const float *w,
                           const float *bias, int N, int IC, int OC, tc_activation act);
// The same with the products in bf16 (bf16 NULL: fp32, the function above);
// a failure is bf16's, for tc_bf16_check.
void tc_cpu_matmul_forward_bf16(tc_pool *pool, tc_bf16 *bf16, float *out, float *pre, const float *inp,
                                const float *w, const float *bias, int N, int IC, int OC, tc_activation act);

// kernels/cpu/activation.c
void tc_cpu_activation_forward(tc_pool *pool, float *out, const float *inp, size_t n, tc_activation act);
// act applied to n values in place, one thread (the matmul epilogue uses it)
void tc_cpu_activation_inplace(float *x, size_t n, tc_activation act);
// The same with GELU's multiply-adds fused where the build's CPU has FMA:
// for the epilogues of bf16 and int8 products, whose own rounding is far
// coarser (GELU within 4e-7 either way).
void tc_cpu_activation_inplace_fused(float *x, size_t n, tc_activation act);

// kernels/cpu/attention.c
void tc_cpu_attention_forward(tc_pool *pool, float *out, float *att, float *scratch, const float *qkv,
                              const tc_seq_layout *layout, int C, int NH, const tc_attn_bias *bias);
void tc_cpu_attention_forward_bf16(tc_pool *pool, tc_bf16 *bf16, float *out, float *att, float *scratch,
                                   const float *qkv, const tc_seq_layout *layout, int C, int NH,
                                   const tc_attn_bias *bias);
// Inference from q, k, v already rounded to bf16 (N, 3C) (e.g. by
// tc_onednn_matmul_forward_to_bf16): the same bits as the above from their
// f32; only where tc_bf16_takes_bf16(bf16).
void tc_cpu_attention_forward_from_bf16(tc_pool *pool, tc_bf16 *bf16, float *out, const uint16_t *qkv,
                                        const tc_seq_layout *layout, int C, int NH, const tc_attn_bias *bias);
size_t tc_cpu_attention_scratch_bytes(int threads, int T);

// kernels/cpu/layer_tail.c: layer_tail_forward with oneDNN's products, each
// pool thread with its own buffer for its block of rows.
typedef struct tc_cpu_layer_tail tc_cpu_layer_tail;
tc_cpu_layer_tail *tc_cpu_layer_tail_create(int threads);  // NULL after tc_fail
void tc_cpu_layer_tail_destroy(tc_cpu_layer_tail *lt);
int tc_cpu_layer_tail_forward(tc_pool *pool, tc_onednn *d, tc_cpu_layer_tail *lt, float *out, const float *atty,
                              const float *x, const tc_layer_tail *t, int N, int C, int F);
// kernels/cpu/pooling.c
void tc_cpu_pool_forward(tc_pool *pool, float *out, const float *x, const tc_seq_layout *layout, int C,
                         tc_pooling mode);

// kernels/cpu/normalize.c
void tc_cpu_normalize_forward(tc_pool *pool, float *out, const float *x, int B, int D);

#endif
