// Elementwise activations, the twin of kernels/cpu/activation.c, and the
// epilogue of the matrix products: bias, the pre-activation copy kept for
// a backward pass, and the activation, fused in one pass over the output.
#include "kernels/cuda/cuda_common.cuh"

template <typename T> __global__ void activation_kernel(T *out, const T *inp, size_t n, tc_activation act) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = from_float<T>(apply_activation(to_float(inp[i]), act));
}

// out (rows, cols) = act(out + bias); pre receives out + bias.
template <typename T>
__global__ void bias_activation_kernel(T *out, T *pre, const T *bias, size_t n, int cols, tc_activation act) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float x = to_float(out[i]) + (bias ? to_float(bias[i % cols]) : 0.0f);
        if (pre) pre[i] = from_float<T>(x);
        out[i] = from_float<T>(apply_activation(x, act));
    }
}

int tc_cuda_activation_forward(cudaStream_t stream, tct_dtype dtype, void *out, const void *inp, size_t n,
                               tc_activation act) {
    if (n == 0) return 0;
    TC_DISPATCH(dtype, T,
                activation_kernel<T><<<tc_cuda_blocks(n, 256), 256, 0, stream>>>((T *)out, (const T *)inp, n, act));
    LAUNCH_CHECK("activation");
    return 0;
}

int tc_cuda_bias_activation(cudaStream_t stream, tct_dtype dtype, void *out, void *pre, const void *bias, size_t rows,
                            int cols, tc_activation act) {
    size_t n = rows * (size_t)cols;
    if (n == 0 || (!bias && !pre && act == TC_ACT_NONE)) return 0;
    TC_DISPATCH(dtype, T,
                bias_activation_kernel<T><<<tc_cuda_blocks(n, 256), 256, 0, stream>>>((T *)out, (T *)pre,
                                                                                      (const T *)bias, n, cols, act));
    LAUNCH_CHECK("bias_activation");
    return 0;
}
