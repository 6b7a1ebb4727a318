// Sentence pooling over packed sequences, the twin of kernels/cpu/pooling.c:
// one block per sequence, the mean of its rows (summed in f32) or its
// first row.
#include "kernels/cuda/cuda_common.cuh"

template <typename T>
__global__ void pool_kernel(T *out, const T *x, const int32_t *offsets, int C, tc_pooling mode) {
    int b = blockIdx.x, off = offsets[b], L = offsets[b + 1] - off;
    const T *rows = x + (size_t)off * C;  // (L, C)
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float v = 0.0f;
        if (mode == TC_POOL_MEAN) {
            for (int t = 0; t < L; t++) v += to_float(rows[(size_t)t * C + c]);
            v /= (float)(L > 0 ? L : 1);
        } else if (L > 0) {
            v = to_float(rows[c]);
        }
        out[(size_t)b * C + c] = from_float<T>(v);
    }
}

int tc_cuda_pool_forward(cudaStream_t stream, tct_dtype dtype, void *out, const void *x, const tc_seq_layout *layout,
                         int C, tc_pooling mode) {
    if (layout->B == 0) return 0;
    TC_DISPATCH(dtype, T,
                pool_kernel<T><<<layout->B, 128, 0, stream>>>((T *)out, (const T *)x, layout->offsets_dev, C, mode));
    LAUNCH_CHECK("pool");
    return 0;
}
