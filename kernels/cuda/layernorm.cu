// Layer norm with the residual added first, the twin of
// kernels/cpu/layernorm.c: one warp per row, statistics in f32 over two
// passes (mean, then the centered variance). Each lane reads and writes
// only its own columns, so out may be the same buffer as inp or residual.
#include "kernels/cuda/cuda_common.cuh"

template <typename T>
__global__ void layernorm_kernel(T *out, float *mean, float *rstd, T *sum, const T *inp, const T *residual,
                                 const T *w, const T *b, float eps, int N, int C) {
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= N) return;
    const T *x = inp + (size_t)row * C;                               // (C)
    const T *r = residual ? residual + (size_t)row * C : nullptr;     // (C)
    float s = 0.0f;
    for (int c = lane; c < C; c += 32) s += to_float(x[c]) + (r ? to_float(r[c]) : 0.0f);
    float m = warp_sum(s) / C;
    float v = 0.0f;
    for (int c = lane; c < C; c += 32) {
        float d = to_float(x[c]) + (r ? to_float(r[c]) : 0.0f) - m;
        v += d * d;
    }
    float inv = rsqrtf(warp_sum(v) / C + eps);
    T *o = out + (size_t)row * C;
    for (int c = lane; c < C; c += 32) {
        float xi = to_float(x[c]) + (r ? to_float(r[c]) : 0.0f);
        if (sum) sum[(size_t)row * C + c] = from_float<T>(xi);
        o[c] = from_float<T>((xi - m) * inv * to_float(w[c]) + to_float(b[c]));
    }
    if (lane == 0 && mean) mean[row] = m;
    if (lane == 0 && rstd) rstd[row] = inv;
}

int tc_cuda_layernorm_forward(cudaStream_t stream, tct_dtype dtype, void *out, float *mean, float *rstd, void *sum,
                              const void *inp, const void *residual, const void *w, const void *b, float eps, int N,
                              int C) {
    if (N == 0) return 0;
    const int rows_per_block = 8;
    unsigned blocks = (unsigned)((N + rows_per_block - 1) / rows_per_block);
    TC_DISPATCH(dtype, T,
                layernorm_kernel<T><<<blocks, 32 * rows_per_block, 0, stream>>>(
                    (T *)out, mean, rstd, (T *)sum, (const T *)inp, (const T *)residual, (const T *)w, (const T *)b,
                    eps, N, C));
    LAUNCH_CHECK("layernorm");
    return 0;
}
