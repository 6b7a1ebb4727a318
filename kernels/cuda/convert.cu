// Conversions between f32 and the backend's element type: weights going up
// (upload_f32) and embeddings coming down (to_f32).
#include "kernels/cuda/cuda_common.cuh"

template <typename T> __global__ void from_f32_kernel(T *dst, const float *src, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = from_float<T>(src[i]);
}

template <typename T> __global__ void to_f32_kernel(float *dst, const T *src, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = to_float(src[i]);
}

int tc_cuda_from_f32(cudaStream_t stream, tct_dtype dtype, void *dst, const float *src, size_t n) {
    if (n == 0) return 0;
    TC_DISPATCH(dtype, T, from_f32_kernel<T><<<tc_cuda_blocks(n, 256), 256, 0, stream>>>((T *)dst, src, n));
    LAUNCH_CHECK("from_f32");
    return 0;
}

int tc_cuda_to_f32(cudaStream_t stream, tct_dtype dtype, float *dst, const void *src, size_t n) {
    if (n == 0) return 0;
    TC_DISPATCH(dtype, T, to_f32_kernel<T><<<tc_cuda_blocks(n, 256), 256, 0, stream>>>(dst, (const T *)src, n));
    LAUNCH_CHECK("to_f32");
    return 0;
}
