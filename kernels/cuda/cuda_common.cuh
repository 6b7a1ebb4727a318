// Shared pieces of the CUDA backend: error checks that record one line
// naming the failed call (tc_fail), f32 <-> bf16/f16 conversions, a
// dispatch on the backend's element type, warp reductions, and the
// launchers of kernels/cuda/*.cu (one per operation, the twins of
// kernels/cpu/*.c; kernels/backend.h documents each operation).
#ifndef TC_CUDA_COMMON_CUH
#define TC_CUDA_COMMON_CUH

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include "common/error.h"
#include "kernels/backend.h"
}

// Records "CALL failed: REASON (FILE:LINE)" and returns -1 from the caller.
#define CUDA_CHECK(call)                                                                                  \
    do {                                                                                                  \
        cudaError_t cuda_err_ = (call);                                                                   \
        if (cuda_err_ != cudaSuccess)                                                                     \
            return tc_fail("%s failed: %s (%s:%d)", #call, cudaGetErrorString(cuda_err_), __FILE__, __LINE__); \
    } while (0)

#define CUBLAS_CHECK(call)                                                                                  \
    do {                                                                                                    \
        cublasStatus_t blas_err_ = (call);                                                                  \
        if (blas_err_ != CUBLAS_STATUS_SUCCESS)                                                             \
            return tc_fail("%s failed: %s (%s:%d)", #call, cublasGetStatusString(blas_err_), __FILE__, __LINE__); \
    } while (0)

// After a kernel launch: a bad configuration shows up here.
#define LAUNCH_CHECK(what) CUDA_CHECK(cudaGetLastError())

// Coordinates of element i of a (B, NH, T, HS) tensor: the per-head layout
// attention works in, forward and backward.
struct head_index {
    int b, h, t, d;
};
__device__ __forceinline__ head_index split_head_index(size_t i, int NH, int T, int HS) {
    head_index x;
    x.d = (int)(i % HS);
    i /= HS;
    x.t = (int)(i % T);
    i /= T;
    x.h = (int)(i % NH);
    x.b = (int)(i / NH);
    return x;
}

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }

template <typename T> __device__ __forceinline__ T from_float(float x);
template <> __device__ __forceinline__ float from_float<float>(float x) { return x; }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) { return __float2bfloat16(x); }
template <> __device__ __forceinline__ __half from_float<__half>(float x) { return __float2half(x); }

// Runs BODY with T bound to the element type of `dtype`.
#define TC_DISPATCH(dtype, T, ...)                                                   \
    switch (dtype) {                                                                 \
    case TCT_F32: {                                                                  \
        typedef float T;                                                             \
        __VA_ARGS__;                                                                 \
    } break;                                                                         \
    case TCT_BF16: {                                                                 \
        typedef __nv_bfloat16 T;                                                     \
        __VA_ARGS__;                                                                 \
    } break;                                                                         \
    case TCT_F16: {                                                                  \
        typedef __half T;                                                            \
        __VA_ARGS__;                                                                 \
    } break;                                                                         \
    default: return tc_fail("element type %s is not a compute type", tct_dtype_name(dtype)); \
    }

inline cudaDataType_t tc_cuda_data_type(tct_dtype dtype) {
    return dtype == TCT_BF16 ? CUDA_R_16BF : dtype == TCT_F16 ? CUDA_R_16F : CUDA_R_32F;
}

__device__ __forceinline__ float warp_sum(float x) {
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}

__device__ __forceinline__ float warp_max(float x) {
    for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
    return x;
}

__device__ __forceinline__ float apply_activation(float x, tc_activation act) {
    switch (act) {
    case TC_ACT_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case TC_ACT_GELU_TANH: return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
    case TC_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case TC_ACT_TANH: return tanhf(x);
    default: return x;
    }
}

inline unsigned tc_cuda_blocks(size_t n, unsigned threads) {
    size_t b = (n + threads - 1) / threads;
    return (unsigned)(b < 65535u * 16u ? (b ? b : 1) : 65535u * 16u);  // grid-stride loops cover the rest
}

// ---------------------------------------------------------------- launchers
// All queue on `stream`, return 0 or -1 after tc_fail.

// kernels/cuda/convert.cu: dst (n) = src (n) between f32 and `dtype`
int tc_cuda_from_f32(cudaStream_t stream, tct_dtype dtype, void *dst, const float *src, size_t n);
int tc_cuda_to_f32(cudaStream_t stream, tct_dtype dtype, float *dst, const void *src, size_t n);

// kernels/cuda/embeddings.cu
int tc_cuda_embeddings_forward(cudaStream_t stream, tct_dtype dtype, void *out, const int32_t *ids, const int32_t *pos,
                               const int32_t *types, const void *wte, const void *wpe, const void *wtt, int N, int C);
// kernels/cuda/layernorm.cu
int tc_cuda_layernorm_forward(cudaStream_t stream, tct_dtype dtype, void *out, float *mean, float *rstd, void *sum,
                              const void *inp, const void *residual, const void *w, const void *b, float eps, int N,
                              int C);
// kernels/cuda/matmul.cu
int tc_cuda_matmul_forward(cudaStream_t stream, cublasHandle_t blas, tct_dtype dtype, void *out, void *pre,
                           const void *inp, const void *w, const void *bias, int N, int IC, int OC, tc_activation act);
// kernels/cuda/activation.cu (also the matmul epilogue: bias, pre, activation)
int tc_cuda_activation_forward(cudaStream_t stream, tct_dtype dtype, void *out, const void *inp, size_t n,
                               tc_activation act);
int tc_cuda_bias_activation(cudaStream_t stream, tct_dtype dtype, void *out, void *pre, const void *bias, size_t rows,
                            int cols, tc_activation act);
// kernels/cuda/attention.cu
int tc_cuda_attention_forward(cudaStream_t stream, cublasHandle_t blas, tct_dtype dtype, void *out, void *att,
                              void *scratch, const void *qkv, const tc_seq_layout *layout, int C, int NH,
                              const tc_attn_bias *bias);
size_t tc_cuda_attention_scratch_bytes(tct_dtype dtype, int B, int T, int C, int NH);
// kernels/cuda/pooling.cu
int tc_cuda_pool_forward(cudaStream_t stream, tct_dtype dtype, void *out, const void *x, const tc_seq_layout *layout,
                         int C, tc_pooling mode);
// kernels/cuda/normalize.cu
int tc_cuda_normalize_forward(cudaStream_t stream, tct_dtype dtype, void *out, const void *x, int B, int D);

#endif
