// Linear layers, the twin of kernels/cpu/matmul.c: cuBLAS computes
// out (N, OC) = inp (N, IC) . w (OC, IC)^T, accumulating in f32 whatever
// the storage type (plain f32 arithmetic for fp32, no TF32), then one
// fused pass adds the bias and applies the activation (kernels/cuda/activation.cu).
//
// Row-major out = inp . w^T is, in cuBLAS's column-major terms,
// out^T (OC, N) = w^T^T . inp^T: op(A) = transpose of w seen as (IC, OC),
// B = inp seen as (IC, N).
#include "kernels/cuda/cuda_common.cuh"

int tc_cuda_matmul_forward(cudaStream_t stream, cublasHandle_t blas, tct_dtype dtype, void *out, void *pre,
                           const void *inp, const void *w, const void *bias, int N, int IC, int OC, tc_activation act) {
    if (N == 0) return 0;
    const float one = 1.0f, zero = 0.0f;
    cudaDataType_t t = tc_cuda_data_type(dtype);
    CUBLAS_CHECK(cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, OC, N, IC, &one, w, t, IC, inp, t, IC, &zero, out, t, OC,
                              CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return tc_cuda_bias_activation(stream, dtype, out, pre, bias, (size_t)N, OC, act);
}
