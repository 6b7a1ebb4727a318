// The CUDA backend's training operations (kernels/backend.h, from
// embeddings_backward on): the launchers of kernels/cuda/*_backward.cu,
// bce_loss.cu, sumsq.cu, adamw.cu, and what they need of the backend
// (backend_cuda.cu): its stream, its cuBLAS handle and a scratch buffer.
// Each launcher takes the backend, checks its arguments, queues its kernels
// on the backend's stream and returns 0, or -1 after tc_fail naming the call
// that failed.
//
// Weight gradients are f32 whatever the compute type (T: f32, bf16, f16);
// activation gradients hold T; sums run in f32 (double for the loss and the
// gradient's norm). Every reduction has a fixed order (no atomics), so a run
// repeats bit for bit on the same GPU, the embedding gradients included.
#ifndef TC_CUDA_TRAIN_CUH
#define TC_CUDA_TRAIN_CUH

#include "kernels/cuda/cuda_common.cuh"

// ---------------------------------------------------------------- the backend (backend_cuda.cu)
cudaStream_t tc_cuda_stream_of(tc_backend *be);
cublasHandle_t tc_cuda_blas_of(tc_backend *be);
int tc_cuda_select(tc_backend *be);  // makes the backend's GPU current
// Device scratch of at least `bytes`, shared by the operations of a backend
// (they run one after another on its stream). Growing it waits for the
// stream first. NULL after tc_fail.
void *tc_cuda_scratch(tc_backend *be, size_t bytes);
// Sets the training entries of the ops table (backend_cuda_train.cu).
void tc_cuda_train_ops(tc_backend_ops *ops);

// ---------------------------------------------------------------- column sums (reduce.cu)
// Deterministic sums over the rows of an (N, cols) matrix: rows are cut
// into chunks of a size that depends on N alone, each chunk's column sums go
// to scratch, and a second pass adds the chunks in order.
int tc_cuda_reduce_chunks(int N);     // chunks for N rows
int tc_cuda_reduce_chunk_rows(int N); // rows per chunk
// out (cols) += the sums of partial (chunks, cols) over chunks, in order.
int tc_cuda_add_chunk_sums(cudaStream_t stream, float *out, const float *partial, int chunks, int cols);

// ---------------------------------------------------------------- operations
// activation_backward.cu: d (n) *= act'(pre (n)), in place
int tc_cuda_activation_backward(cudaStream_t stream, tct_dtype dtype, void *d, const void *pre, size_t n,
                                tc_activation act);
// The derivative of an activation at x (the twin of the CPU's).
__device__ __forceinline__ float activation_derivative(float x, tc_activation act) {
    switch (act) {
    case TC_ACT_GELU: {  // Phi(x) + x phi(x)
        float cdf = 0.5f * (1.0f + erff(x * 0.70710678118654752f));
        float pdf = 0.39894228040143268f * expf(-0.5f * x * x);
        return cdf + x * pdf;
    }
    case TC_ACT_GELU_TANH: {
        const float k = 0.79788456080286536f;  // sqrt(2 / pi)
        float t = tanhf(k * (x + 0.044715f * x * x * x));
        float du = k * (1.0f + 3.0f * 0.044715f * x * x);
        return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du;
    }
    case TC_ACT_RELU: return x > 0.0f ? 1.0f : 0.0f;
    case TC_ACT_TANH: {
        float t = tanhf(x);
        return 1.0f - t * t;
    }
    default: return 1.0f;
    }
}

// d x act'(x), the gradient through an activation; ReLU selects (as the
// CPU does), so that an infinite gradient past a zero stays zero.
__device__ __forceinline__ float activation_backward_value(float d, float x, tc_activation act) {
    if (act == TC_ACT_NONE) return d;
    if (act == TC_ACT_RELU) return x > 0.0f ? d : 0.0f;
    return d * activation_derivative(x, act);
}

__device__ __forceinline__ double warp_sum_double(double x) {
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}

int tc_cuda_embeddings_backward(tc_backend *be, float *dwte, float *dwpe, float *dwtt, const void *dout,
                                const int32_t *ids, const int32_t *pos, const int32_t *types, int N, int C);
int tc_cuda_layernorm_backward(tc_backend *be, void *dx, float *dw, float *db, const void *dout, const void *x,
                               const float *mean, const float *rstd, const void *w, int N, int C, int accumulate);
int tc_cuda_matmul_backward(tc_backend *be, void *dinp, float *dw, float *dbias, void *dout, const void *inp,
                            const void *w, const void *pre, int N, int IC, int OC, tc_activation act, int accumulate);
int tc_cuda_attention_backward(tc_backend *be, void *dqkv, void *scratch, const void *datty, const void *att,
                               const void *qkv, const tc_seq_layout *layout, int C, int NH, const tc_attn_bias *bias);
size_t tc_cuda_attention_backward_scratch_bytes(tct_dtype dtype, int B, int T, int C, int NH);
int tc_cuda_pool_backward(tc_backend *be, void *dx, const void *dout, const tc_seq_layout *layout, int C,
                          tc_pooling mode);
int tc_cuda_normalize_backward(tc_backend *be, void *dx, const void *dout, const void *x, int B, int D);
// bce_loss.cu; loss_scale (device, may be NULL: 1) multiplies dlogits too
int tc_cuda_bce_loss(tc_backend *be, float *loss, void *dlogits, const void *logits, const float *targets,
                     const float *weights, int B, int K, float scale, const float *loss_scale);
// state->loss_sum += the sum of loss (B) in order; a non-finite one records tag
int tc_cuda_loss_accumulate(tc_backend *be, tc_train_state *state, const float *loss, int B, int64_t tag);
// sumsq.cu: *result (device double) = sum of x (n) squared, a fixed order
int tc_cuda_sumsq(tc_backend *be, double *result, const float *x, size_t n);
int tc_cuda_step_decide(tc_backend *be, tc_train_state *state, const tc_step_args *args);
// adamw.cu: state NULL: from args (step, grad_scale)
int tc_cuda_adamw(tc_backend *be, float *params, const float *grads, float *m, float *v, size_t n,
                  const tc_adamw_args *args, const tc_train_state *state);

#endif
