// Multi-label binary cross-entropy with logits, weighted per element, and
// its gradient, the twin of kernels/cpu/bce_loss.c: one warp per document,
//   loss[b]      = sum_k w (max(s,0) - s y + log(1 + e^-|s|))   (in double)
//   dlogits[b,k] = scale * loss_scale * w * (sigmoid(s) - y)
// loss_scale is read from device memory (the training state's, fp16's
// dynamic loss scale), or 1.
#include "kernels/cuda/cuda_train.cuh"

namespace {

template <typename T>
__global__ void bce_kernel(float *loss, T *dlogits, const T *logits, const float *targets, const float *weights, int B,
                           int K, float scale, const float *loss_scale) {
    int b = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (b >= B) return;
    float sc = loss_scale ? scale * *loss_scale : scale;
    size_t at = (size_t)b * K;
    double total = 0.0;
    for (int k = lane; k < K; k += 32) {
        float s = to_float(logits[at + k]), y = targets[at + k], w = weights[at + k];
        double sd = s;
        total += w * ((sd > 0 ? sd : 0.0) - sd * y + log1p(exp(-fabs(sd))));
        float sig = s >= 0 ? 1.0f / (1.0f + expf(-s)) : expf(s) / (1.0f + expf(s));
        dlogits[at + k] = from_float<T>(sc * w * (sig - y));
    }
    total = warp_sum_double(total);
    if (lane == 0) loss[b] = (float)total;
}

// One thread: the rows' sum in order, as the CPU adds them.
__global__ void loss_accumulate_kernel(tc_train_state *state, const float *loss, int B, int64_t tag) {
    double s = 0.0;
    for (int b = 0; b < B; b++) s += loss[b];
    state->loss_sum += s;
    if (!(fabs(s) <= 1.7976931348623157e308) && state->bad_loss_tag < 0) state->bad_loss_tag = tag;
}

}  // namespace

int tc_cuda_bce_loss(tc_backend *be, float *loss, void *dlogits, const void *logits, const float *targets,
                     const float *weights, int B, int K, float scale, const float *loss_scale) {
    if (B == 0) return 0;
    const int rows_per_block = 4;
    TC_DISPATCH(be->dtype, T,
                bce_kernel<T><<<(B + rows_per_block - 1) / rows_per_block, 32 * rows_per_block, 0,
                                tc_cuda_stream_of(be)>>>(loss, (T *)dlogits, (const T *)logits, targets, weights, B, K,
                                                         scale, loss_scale));
    LAUNCH_CHECK("bce_loss");
    return 0;
}

int tc_cuda_loss_accumulate(tc_backend *be, tc_train_state *state, const float *loss, int B, int64_t tag) {
    loss_accumulate_kernel<<<1, 1, 0, tc_cuda_stream_of(be)>>>(state, loss, B, tag);
    LAUNCH_CHECK("loss_accumulate");
    return 0;
}
