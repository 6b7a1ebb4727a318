// L2 normalization of rows, the twin of kernels/cpu/normalize.c: one warp
// per row, x / max(||x||, 1e-12) with the norm summed in f32.
#include "kernels/cuda/cuda_common.cuh"

template <typename T> __global__ void normalize_kernel(T *out, const T *x, int B, int D) {
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= B) return;
    const T *in = x + (size_t)row * D;  // (D)
    float ss = 0.0f;
    for (int d = lane; d < D; d += 32) ss += to_float(in[d]) * to_float(in[d]);
    float inv = 1.0f / fmaxf(sqrtf(warp_sum(ss)), 1e-12f);
    for (int d = lane; d < D; d += 32) out[(size_t)row * D + d] = from_float<T>(to_float(in[d]) * inv);
}

int tc_cuda_normalize_forward(cudaStream_t stream, tct_dtype dtype, void *out, const void *x, int B, int D) {
    if (B == 0) return 0;
    const int rows_per_block = 4;
    TC_DISPATCH(dtype, T,
                normalize_kernel<T><<<(B + rows_per_block - 1) / rows_per_block, 32 * rows_per_block, 0, stream>>>(
                    (T *)out, (const T *)x, B, D));
    LAUNCH_CHECK("normalize");
    return 0;
}
