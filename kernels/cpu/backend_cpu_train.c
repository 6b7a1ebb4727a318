// The CPU backend's training operations (kernels/backend.h), wired into its
// ops table by kernels/cpu/backend_cpu.c: argument checks, then the plain
// functions of kernels/cpu/train_ops.h on the backend's thread pool.
#include "common/error.h"
#include "kernels/cpu/backend_cpu_train.h"
#include "kernels/cpu/train_ops.h"

#include <math.h>
#include <string.h>


int tc_cpu_be_embeddings_backward(tc_backend *be, float *dwte, float *dwpe, float *dwtt, const void *dout,
                                  const int32_t *ids, const int32_t *pos, const int32_t *types, int N, int C) {
    tc_cpu_embeddings_backward(POOL(be), dwte, dwpe, dwtt, dout, ids, pos, types, N, C);
    return 0;
}

int tc_cpu_be_layernorm_backward(tc_backend *be, void *dx, float *dw, float *db, const void *dout, const void *x,
                                 const float *mean, const float *rstd, const void *w, int N, int C, int accumulate) {
    tc_cpu_layernorm_backward(POOL(be), dx, dw, db, dout, x, mean, rstd, w, N, C, accumulate);
    return 0;
}

int tc_cpu_be_matmul_backward(tc_backend *be, void *dinp, float *dw, float *dbias, void *dout, const void *inp,
                              const void *w, const void *pre, int N, int IC, int OC, tc_activation act,
                              int accumulate) {
    if (act != TC_ACT_NONE && !pre) return tc_fail("matmul backward: %s needs the values before it", tc_activation_name(act));
    tc_cpu_matmul_backward_bf16(POOL(be), BF16(be), dinp, dw, dbias, dout, inp, w, pre, N, IC, OC, act, accumulate);
    return tc_bf16_check(BF16(be));
}

int tc_cpu_be_attention_backward(tc_backend *be, void *dqkv, void *scratch, const void *datty, const void *att,
                                 const void *qkv, const tc_seq_layout *layout, int C, int NH,
                                 const tc_attn_bias *bias) {
    if (C % NH) return tc_fail("attention backward: %d columns do not split into %d heads", C, NH);
    if (!att) return tc_fail("attention backward: the forward pass did not keep the probabilities");
    if (bias && (bias->span < layout->T || !bias->dtable))
        return tc_fail("attention backward: the position bias covers %d tokens, not %d, or has no gradient", bias->span,
                       layout->T);
    tc_cpu_attention_backward_bf16(POOL(be), BF16(be), dqkv, scratch, datty, att, qkv, layout, C, NH, bias);
    return tc_bf16_check(BF16(be));
}

size_t tc_cpu_be_attention_backward_scratch_bytes(tc_backend *be, int B, int T, int C, int NH) {
    return tc_cpu_attention_backward_scratch_bytes(tc_pool_size(POOL(be)), T);
}

int tc_cpu_be_pool_backward(tc_backend *be, void *dx, const void *dout, const tc_seq_layout *layout, int C,
                            tc_pooling mode) {
    tc_cpu_pool_backward(POOL(be), dx, dout, layout, C, mode);
    return 0;
}

int tc_cpu_be_normalize_backward(tc_backend *be, void *dx, const void *dout, const void *x, int B, int D) {
    tc_cpu_normalize_backward(POOL(be), dx, dout, x, B, D);
    return 0;
}

int tc_cpu_be_bce_loss(tc_backend *be, float *loss, void *dlogits, const void *logits, const float *targets,
                       const float *weights, int B, int K, float scale) {
    tc_cpu_bce_loss(POOL(be), loss, dlogits, logits, targets, weights, B, K, scale);
    return 0;
}

int tc_cpu_be_sumsq(tc_backend *be, double *result, const float *x, size_t n) {
    *result = tc_cpu_sumsq(POOL(be), x, n);
    return isnan(*result) && n ? tc_fail("out of memory") : 0;
}

int tc_cpu_be_adamw_update(tc_backend *be, float *params, const float *grads, float *m, float *v, size_t n,
                           const tc_adamw_args *args) {
    if (args->step < 1) return tc_fail("AdamW: step %ld (counted from 1)", args->step);
    tc_cpu_adamw_update(POOL(be), params, grads, m, v, n, args);
    return 0;
}

int tc_cpu_be_zero(tc_backend *be, void *p, size_t bytes) {
    if (bytes) memset(p, 0, bytes);
    return 0;
}
