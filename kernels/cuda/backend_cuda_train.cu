// The CUDA backend's training entries (kernels/backend.h, from
// embeddings_backward on), set into its ops table by backend_cuda.cu:
// argument checks as the CPU backend makes them
// (kernels/cpu/backend_cpu_train.c), the backend's GPU made current, then
// the launchers of cuda_train.cuh.
#include "kernels/cuda/cuda_train.cuh"

namespace {

int embeddings_backward(tc_backend *be, float *dwte, float *dwpe, float *dwtt, const void *dout, const int32_t *ids,
                        const int32_t *pos, const int32_t *types, int N, int C) {
    if (tc_cuda_select(be)) return -1;
    return tc_cuda_embeddings_backward(be, dwte, dwpe, dwtt, dout, ids, pos, types, N, C);
}

int layernorm_backward(tc_backend *be, void *dx, float *dw, float *db, const void *dout, const void *x,
                       const float *mean, const float *rstd, const void *w, int N, int C, int accumulate) {
    if (tc_cuda_select(be)) return -1;
    return tc_cuda_layernorm_backward(be, dx, dw, db, dout, x, mean, rstd, w, N, C, accumulate);
}

int matmul_backward(tc_backend *be, void *dinp, float *dw, float *dbias, void *dout, const void *inp, const void *w,
                    const void *pre, int N, int IC, int OC, tc_activation act, int accumulate) {
    if (act != TC_ACT_NONE && !pre) return tc_fail("matmul backward: the activation needs the values before it");
    if (tc_cuda_select(be)) return -1;
    return tc_cuda_matmul_backward(be, dinp, dw, dbias, dout, inp, w, pre, N, IC, OC, act, accumulate);
}

int attention_backward(tc_backend *be, void *dqkv, void *scratch, const void *datty, const void *att, const void *qkv,
                       const tc_seq_layout *layout, int C, int NH, const tc_attn_bias *bias) {
    if (C % NH) return tc_fail("attention backward: %d columns do not split into %d heads", C, NH);
    if (!att) return tc_fail("attention backward: the forward pass did not keep the probabilities");
    if (bias && (bias->span < layout->T || !bias->dtable))
        return tc_fail("attention backward: the position bias covers %d tokens, not %d, or has no gradient", bias->span,
                       layout->T);
    if (tc_cuda_select(be)) return -1;
    return tc_cuda_attention_backward(be, dqkv, scratch, datty, att, qkv, layout, C, NH, bias);
}

size_t attention_backward_scratch(tc_backend *be, int B, int T, int C, int NH) {
    return tc_cuda_attention_backward_scratch_bytes(be->dtype, B, T, C, NH);
}

int pool_backward(tc_backend *be, void *dx, const void *dout, const tc_seq_layout *layout, int C, tc_pooling mode) {
    if (tc_cuda_select(be)) return -1;
    return tc_cuda_pool_backward(be, dx, dout, layout, C, mode);
}

int normalize_backward(tc_backend *be, void *dx, const void *dout, const void *x, int B, int D) {
    if (tc_cuda_select(be)) return -1;
    return tc_cuda_normalize_backward(be, dx, dout, x, B, D);
}

int bce_loss(tc_backend *be, float *loss, void *dlogits, const void *logits, const float *targets,
             const float *weights, int B, int K, float scale) {
    if (tc_cuda_select(be)) return -1;
    return tc_cuda_bce_loss(be, loss, dlogits, logits, targets, weights, B, K, scale, nullptr);
}

// The host-result sum: through a device double, then a wait.
int sumsq(tc_backend *be, double *result, const float *x, size_t n) {
    if (tc_cuda_select(be)) return -1;
    size_t chunks = (n + (1 << 16) - 1) >> 16;
    // the result lives past the chunk sums in the same scratch
    char *scratch = (char *)tc_cuda_scratch(be, (chunks + 1) * sizeof(double));
    if (!scratch) return -1;
    double *dev = (double *)scratch + chunks;
    cudaStream_t stream = tc_cuda_stream_of(be);
    if (tc_cuda_sumsq(be, dev, x, n)) return -1;
    CUDA_CHECK(cudaMemcpyAsync(result, dev, sizeof *result, cudaMemcpyDeviceToHost, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    return 0;
}

int adamw_update(tc_backend *be, float *params, const float *grads, float *m, float *v, size_t n,
                 const tc_adamw_args *args) {
    if (args->step < 1) return tc_fail("AdamW: step %ld (counted from 1)", args->step);
    if (tc_cuda_select(be)) return -1;
    return tc_cuda_adamw(be, params, grads, m, v, n, args, nullptr);
}

int zero(tc_backend *be, void *p, size_t bytes) {
    if (bytes == 0) return 0;
    if (tc_cuda_select(be)) return -1;
    CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, tc_cuda_stream_of(be)));
    return 0;
}

int from_f32(tc_backend *be, void *dst, const float *src, size_t n) {
    if (n == 0 || dst == (const void *)src) return 0;
    if (tc_cuda_select(be)) return -1;
    if (be->dtype == TCT_F32) {
        CUDA_CHECK(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice, tc_cuda_stream_of(be)));
        return 0;
    }
    return tc_cuda_from_f32(tc_cuda_stream_of(be), be->dtype, dst, src, n);
}

int bce_loss_step(tc_backend *be, float *loss, void *dlogits, const void *logits, const float *targets,
                  const float *weights, int B, int K, float scale, tc_train_state *state, int64_t tag) {
    if (tc_cuda_select(be)) return -1;
    return tc_cuda_bce_loss(be, loss, dlogits, logits, targets, weights, B, K, scale, &state->loss_scale) ||
                   (B > 0 && tc_cuda_loss_accumulate(be, state, loss, B, tag))
               ? -1
               : 0;
}

int grad_sumsq(tc_backend *be, tc_train_state *state, const float *x, size_t n) {
    if (tc_cuda_select(be)) return -1;
    return tc_cuda_sumsq(be, &state->sumsq, x, n);
}

int step_decide(tc_backend *be, tc_train_state *state, const tc_step_args *args) {
    if (tc_cuda_select(be)) return -1;
    return tc_cuda_step_decide(be, state, args);
}

int adamw_step(tc_backend *be, float *params, const float *grads, float *m, float *v, size_t n,
               const tc_adamw_args *args, const tc_train_state *state) {
    if (tc_cuda_select(be)) return -1;
    return tc_cuda_adamw(be, params, grads, m, v, n, args, state);
}

}  // namespace

void tc_cuda_train_ops(tc_backend_ops *ops) {
    ops->embeddings_backward = embeddings_backward;
    ops->layernorm_backward = layernorm_backward;
    ops->matmul_backward = matmul_backward;
    ops->attention_backward = attention_backward;
    ops->attention_backward_scratch_bytes = attention_backward_scratch;
    ops->pool_backward = pool_backward;
    ops->normalize_backward = normalize_backward;
    ops->bce_loss = bce_loss;
    ops->sumsq = sumsq;
    ops->adamw_update = adamw_update;
    ops->zero = zero;
    ops->from_f32 = from_f32;
    ops->bce_loss_step = bce_loss_step;
    ops->grad_sumsq = grad_sumsq;
    ops->step_decide = step_decide;
    ops->adamw_step = adamw_step;
}
