// Derivatives of the activations applied to a gradient in place, the twin
// of kernels/cpu/activation_backward.c: d (n) *= act'(pre (n)), with the
// values before the activation that the matmul's forward kept. The
// derivative itself (activation_backward_value) is in cuda_train.cuh,
// shared with the matmul backward's fused bias pass.
#include "kernels/cuda/cuda_train.cuh"

namespace {

template <typename T> __global__ void activation_backward_kernel(T *d, const T *pre, size_t n, tc_activation act) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        d[i] = from_float<T>(activation_backward_value(to_float(d[i]), to_float(pre[i]), act));
}

}  // namespace

int tc_cuda_activation_backward(cudaStream_t stream, tct_dtype dtype, void *d, const void *pre, size_t n,
                                tc_activation act) {
    if (n == 0 || act == TC_ACT_NONE) return 0;
    if (!pre) return tc_fail("activation backward: no values before the activation");
    TC_DISPATCH(dtype, T,
                activation_backward_kernel<T><<<tc_cuda_blocks(n, 256), 256, 0, stream>>>((T *)d, (const T *)pre, n,
                                                                                          act));
    LAUNCH_CHECK("activation_backward");
    return 0;
}
