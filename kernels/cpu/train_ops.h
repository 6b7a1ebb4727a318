// The CPU backend's training operations (backward passes, loss, optimizer)
// as plain functions on f32 host buffers: the reference that the CUDA twins
// (kernels/cuda/NAME_backward.cu) are tested against. kernels/backend.h
// documents each operation; the dims legend is there too.
//
// Determinism: no sum is ever split between threads (weight and bias
// gradients are split by columns, the gradient's norm by fixed-size
// chunks), so a run repeats bit for bit on the same thread count. The
// layer-norm, embedding and norm sums do not depend on the thread count at
// all; matrix products do (OpenBLAS's blocking follows the split).
#ifndef TC_CPU_TRAIN_OPS_H
#define TC_CPU_TRAIN_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "common/threadpool.h"
#include "kernels/backend.h"
#include "kernels/cpu/matmul_bf16.h"

// kernels/cpu/embeddings_backward.c
void tc_cpu_embeddings_backward(tc_pool *pool, float *dwte, float *dwpe, float *dwtt, const float *dout,
                                const int32_t *ids, const int32_t *pos, const int32_t *types, int N, int C);

// kernels/cpu/layernorm_backward.c
void tc_cpu_layernorm_backward(tc_pool *pool, float *dx, float *dw, float *db, const float *dout, const float *x,
                               const float *mean, const float *rstd, const float *w, int N, int C, int accumulate);

// kernels/cpu/activation_backward.c: d (n) *= act'(pre (n)), one thread
void tc_cpu_activation_backward_inplace(float *d, const float *pre, size_t n, tc_activation act);

// kernels/cpu/matmul_backward.c
void tc_cpu_matmul_backward(tc_pool *pool, float *dinp, float *dw, float *dbias, float *dout, const float *inp,
                            const float *w, const float *pre, int N, int IC, int OC, tc_activation act,
                            int accumulate);
// The same with the products in bf16 (bf16 NULL: fp32, the function above)
void tc_cpu_matmul_backward_bf16(tc_pool *pool, tc_bf16 *bf16, float *dinp, float *dw, float *dbias, float *dout,
                                 const float *inp, const float *w, const float *pre, int N, int IC, int OC,
                                 tc_activation act, int accumulate);

// kernels/cpu/attention_backward.c
void tc_cpu_attention_backward(tc_pool *pool, float *dqkv, float *scratch, const float *datty, const float *att,
                               const float *qkv, const tc_seq_layout *layout, int C, int NH,
                               const tc_attn_bias *bias);
void tc_cpu_attention_backward_bf16(tc_pool *pool, tc_bf16 *bf16, float *dqkv, float *scratch, const float *datty,
                                    const float *att, const float *qkv, const tc_seq_layout *layout, int C, int NH,
                                    const tc_attn_bias *bias);
size_t tc_cpu_attention_backward_scratch_bytes(int threads, int T);

// kernels/cpu/pooling_backward.c
void tc_cpu_pool_backward(tc_pool *pool, float *dx, const float *dout, const tc_seq_layout *layout, int C,
                          tc_pooling mode);

// kernels/cpu/normalize_backward.c
void tc_cpu_normalize_backward(tc_pool *pool, float *dx, const float *dout, const float *x, int B, int D);

// kernels/cpu/bce_loss.c
void tc_cpu_bce_loss(tc_pool *pool, float *loss, float *dlogits, const float *logits, const float *targets,
                     const float *weights, int B, int K, float scale);

// kernels/cpu/sumsq.c
double tc_cpu_sumsq(tc_pool *pool, const float *x, size_t n);

// kernels/cpu/adamw.c
void tc_cpu_adamw_update(tc_pool *pool, float *params, const float *grads, float *m, float *v, size_t n,
                         const tc_adamw_args *args);

#endif
