// The CPU backend's training entries of its ops table (kernels/backend.h),
// defined in kernels/cpu/backend_cpu_train.c.
#ifndef TC_BACKEND_CPU_TRAIN_H
#define TC_BACKEND_CPU_TRAIN_H

#include "common/threadpool.h"
#include "kernels/backend.h"
#include "kernels/cpu/matmul_bf16.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/matmul_onednn.h"

// The CPU backend's impl: its thread pool and, for a reduced precision,
// either the prepared weights of oneDNN's products (inference) or the bf16
// products of training (weights rounded on every call); at most one of them.
typedef struct {
    tc_pool *pool;
    tc_onednn *onednn;  // NULL: fp32 through OpenBLAS
    tc_bf16 *bf16;      // NULL: fp32 through OpenBLAS
    tc_cpu_layer_tail *layer_tail;  // with onednn: the fused rest of a layer's buffers
} tc_cpu_impl;

#define POOL(be) (((tc_cpu_impl *)(be)->impl)->pool)
#define BF16(be) (((tc_cpu_impl *)(be)->impl)->bf16)

int tc_cpu_be_embeddings_backward(tc_backend *be, float *dwte, float *dwpe, float *dwtt, const void *dout,
                                  const int32_t *ids, const int32_t *pos, const int32_t *types, int N, int C);
int tc_cpu_be_layernorm_backward(tc_backend *be, void *dx, float *dw, float *db, const void *dout, const void *x,
                                 const float *mean, const float *rstd, const void *w, int N, int C, int accumulate);
int tc_cpu_be_matmul_backward(tc_backend *be, void *dinp, float *dw, float *dbias, void *dout, const void *inp,
                              const void *w, const void *pre, int N, int IC, int OC, tc_activation act,
                              int accumulate);
int tc_cpu_be_attention_backward(tc_backend *be, void *dqkv, void *scratch, const void *datty, const void *att,
                                 const void *qkv, const tc_seq_layout *layout, int C, int NH,
                                 const tc_attn_bias *bias);
size_t tc_cpu_be_attention_backward_scratch_bytes(tc_backend *be, int B, int T, int C, int NH);
int tc_cpu_be_pool_backward(tc_backend *be, void *dx, const void *dout, const tc_seq_layout *layout, int C,
                            tc_pooling mode);
int tc_cpu_be_normalize_backward(tc_backend *be, void *dx, const void *dout, const void *x, int B, int D);
int tc_cpu_be_bce_loss(tc_backend *be, float *loss, void *dlogits, const void *logits, const float *targets,
                       const float *weights, int B, int K, float scale);
int tc_cpu_be_sumsq(tc_backend *be, double *result, const float *x, size_t n);
int tc_cpu_be_adamw_update(tc_backend *be, float *params, const float *grads, float *m, float *v, size_t n,
                           const tc_adamw_args *args);
int tc_cpu_be_zero(tc_backend *be, void *p, size_t bytes);
// kernels/cpu/train_step.c
int tc_cpu_be_from_f32(tc_backend *be, void *dst, const float *src, size_t n);
int tc_cpu_be_bce_loss_step(tc_backend *be, float *loss, void *dlogits, const void *logits, const float *targets,
                            const float *weights, int B, int K, float scale, tc_train_state *state, int64_t tag);
int tc_cpu_be_grad_sumsq(tc_backend *be, tc_train_state *state, const float *x, size_t n);
int tc_cpu_be_step_decide(tc_backend *be, tc_train_state *state, const tc_step_args *args);
int tc_cpu_be_adamw_step(tc_backend *be, float *params, const float *grads, float *m, float *v, size_t n,
                         const tc_adamw_args *args, const tc_train_state *state);

// The ops table entries, for the table's initializer.
#define TC_CPU_TRAIN_OPS                                                                            \
    .embeddings_backward = tc_cpu_be_embeddings_backward,                                           \
    .layernorm_backward = tc_cpu_be_layernorm_backward, .matmul_backward = tc_cpu_be_matmul_backward, \
    .attention_backward = tc_cpu_be_attention_backward,                                             \
    .attention_backward_scratch_bytes = tc_cpu_be_attention_backward_scratch_bytes,                 \
    .pool_backward = tc_cpu_be_pool_backward, .normalize_backward = tc_cpu_be_normalize_backward,   \
    .bce_loss = tc_cpu_be_bce_loss, .sumsq = tc_cpu_be_sumsq, .adamw_update = tc_cpu_be_adamw_update, \
    .zero = tc_cpu_be_zero, .from_f32 = tc_cpu_be_from_f32, .bce_loss_step = tc_cpu_be_bce_loss_step,   \
    .grad_sumsq = tc_cpu_be_grad_sumsq, .step_decide = tc_cpu_be_step_decide, .adamw_step = tc_cpu_be_adamw_step

#endif
