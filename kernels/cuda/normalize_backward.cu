// Backward of y = x / max(||x||, 1e-12) per row, the twin of
// kernels/cpu/normalize_backward.c: with n the norm,
// dx = (dy - x (x . dy) / n^2) / n, or dy / 1e-12 where the floor was taken.
// One warp per row, the sums in double as on the CPU.
#include "kernels/cuda/cuda_train.cuh"

namespace {

template <typename T> __global__ void normalize_backward_kernel(T *dx, const T *dout, const T *x, int B, int D) {
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= B) return;
    size_t at = (size_t)row * D;
    double ss = 0.0, dot = 0.0;
    for (int d = lane; d < D; d += 32) {
        double xi = to_float(x[at + d]), di = to_float(dout[at + d]);
        ss += xi * xi;
        dot += xi * di;
    }
    ss = warp_sum_double(ss);
    dot = warp_sum_double(dot);
    double norm = sqrt(ss);
    if (norm <= 1e-12) {
        for (int d = lane; d < D; d += 32) dx[at + d] = from_float<T>((float)(to_float(dout[at + d]) / 1e-12));
        return;
    }
    double inv = 1.0 / norm, proj = dot * inv * inv;
    for (int d = lane; d < D; d += 32)
        dx[at + d] = from_float<T>((float)((to_float(dout[at + d]) - to_float(x[at + d]) * proj) * inv));
}

}  // namespace

int tc_cuda_normalize_backward(tc_backend *be, void *dx, const void *dout, const void *x, int B, int D) {
    if (B == 0) return 0;
    const int rows_per_block = 4;
    TC_DISPATCH(be->dtype, T,
                normalize_backward_kernel<T><<<(B + rows_per_block - 1) / rows_per_block, 32 * rows_per_block, 0,
                                               tc_cuda_stream_of(be)>>>((T *)dx, (const T *)dout, (const T *)x, B, D));
    LAUNCH_CHECK("normalize backward");
    return 0;
}
