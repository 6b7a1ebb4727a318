// General matrix products in bf16 with f32 accumulation on the CPU, for
// training (kernels/cpu/matmul_bf16.c): both operands rounded to bf16
// (round to nearest even), the products summed in f32, alpha and beta
// applied in f32. One numerics, two implementations:
//
//   oneDNN    its bf16 matmul, where this CPU and build have a bf16 kernel
//             (the CPUs on which tc-encode accepts --precision bf16)
//   emulated  the operands rounded into f32 scratch, then OpenBLAS sgemm:
//             as slow as fp32 and then some, only for checking results on
//             CPUs without bf16 units; asked for with TC_CPU_BF16_EMULATE=1
//
// Operands are rounded on every call: nothing is kept from one call to the
// next but the scratch buffers (grown as needed, never shrunk) and, for
// oneDNN, one primitive per product shape. Training changes the weights
// every step, so nothing may be prepared once as the inference path does.
#ifndef TC_CPU_MATMUL_BF16_H
#define TC_CPU_MATMUL_BF16_H

#include <cblas.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tc_bf16 tc_bf16;

typedef enum { TC_BF16_ONEDNN = 1, TC_BF16_EMULATED = 2 } tc_bf16_mode;

// The mode bf16 products take on this CPU: oneDNN where it has a bf16
// kernel, else the emulation where TC_CPU_BF16_EMULATE=1. 0, or -1 with
// `why` (size n) naming what the CPU or build lacks (tc_onednn_supported's
// words, the same as tc-encode's refusal).
int tc_bf16_select(tc_bf16_mode *mode, char *why, size_t n);

// For -v and the log: "bf16 through oneDNN 2.6.3 on ..." or "bf16 emulated ...".
void tc_bf16_describe(tc_bf16_mode mode, char *text, size_t n);

tc_bf16 *tc_bf16_create(tc_bf16_mode mode, int threads);  // NULL after tc_fail
void tc_bf16_destroy(tc_bf16 *g);

// C (M, N) = alpha op(A) op(B) + beta C, row-major, as cblas_sgemm, from
// pool thread `thread` (< the threads it was created for). g NULL:
// cblas_sgemm itself, bit for bit. A failure (out of memory, oneDNN) leaves
// C as it was and is kept for tc_bf16_check.
void tc_cpu_gemm(tc_bf16 *g, int thread, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

// Products of operands already in bf16 (attention at inference rounds a
// sequence's q, k and v once for all its heads). 1 where g computes them
// (oneDNN), 0 for the emulation or NULL.
int tc_bf16_takes_bf16(const tc_bf16 *g);

// Pool thread `thread`'s buffer `slot` (0..3), at least `bytes`, 64-byte
// aligned, kept (contents and all) until a larger request; NULL when out of
// memory, the failure kept for tc_bf16_check.
void *tc_bf16_buffer(tc_bf16 *g, int thread, int slot, size_t bytes);

// For each of `batch` products b: C_b (M, N) f32, dense, = A_b (M, K) .
// op(B_b), C_b at C + b M N: A_b stored a_step elements after A_{b-1},
// rows lda apart; B_b b_step after B_{b-1}, stored (K, N) or, b_trans,
// (N, K), rows ldb apart. Every row the shapes name must be readable: pad
// with zero rows, not with the next sequence. A failure leaves C as it was,
// kept for tc_bf16_check. Only where tc_bf16_takes_bf16.
void tc_bf16_gemm_stored(tc_bf16 *g, int thread, int b_trans, int batch, int M, int N, int K, const uint16_t *A,
                         int lda, int a_step, const uint16_t *B, int ldb, int b_step, float *C);

// After a pool run: 0, or -1 after tc_fail with the first failure of a
// thread (and the failures cleared). g NULL: 0.
int tc_bf16_check(tc_bf16 *g);

#endif
