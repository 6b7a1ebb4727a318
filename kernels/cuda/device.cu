// Device discovery and the smoke test of the CUDA toolchain (kernel, cuBLAS,
// NCCL), the first pieces of the CUDA backend.
#include "kernels/cuda/device.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <nccl.h>
#include <stdio.h>

int tc_cuda_device_count(char *why, size_t why_size) {
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
        snprintf(why, why_size, "%s", cudaGetErrorString(err));
        cudaGetLastError();  // clear the sticky error
        return 0;
    }
    if (n == 0) snprintf(why, why_size, "no CUDA device is visible");
    return n;
}

int tc_cuda_device_describe(int device, char *text, size_t size) {
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, device) != cudaSuccess) return -1;
    snprintf(text, size, "GPU %d: %s, %.1f GiB, compute capability %d.%d", device, prop.name,
             (double)prop.totalGlobalMem / (1 << 30), prop.major, prop.minor);
    return 0;
}

static __global__ void scale_kernel(float *x, float factor, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= factor;
}

#define SMOKE_CHECK(call, what)                                                   \
    do {                                                                          \
        if (!(call)) {                                                            \
            snprintf(why, why_size, "%s failed (%s:%d)", what, __FILE__, __LINE__); \
            goto done;                                                            \
        }                                                                         \
    } while (0)

int tc_cuda_smoke_test(int device, char *why, size_t why_size) {
    enum { N = 256 };
    float host[N], result[N];
    float *x = NULL, *y = NULL;
    cublasHandle_t blas = NULL;
    ncclComm_t comm = NULL;
    int rc = -1;
    for (int i = 0; i < N; i++) host[i] = (float)i;
    SMOKE_CHECK(cudaSetDevice(device) == cudaSuccess, "cudaSetDevice");
    SMOKE_CHECK(cudaMalloc(&x, N * sizeof(float)) == cudaSuccess, "cudaMalloc");
    SMOKE_CHECK(cudaMalloc(&y, N * sizeof(float)) == cudaSuccess, "cudaMalloc");
    SMOKE_CHECK(cudaMemcpy(x, host, sizeof host, cudaMemcpyHostToDevice) == cudaSuccess, "cudaMemcpy");
    scale_kernel<<<(N + 127) / 128, 128>>>(x, 2.0f, N);
    SMOKE_CHECK(cudaGetLastError() == cudaSuccess, "scale kernel launch");
    // y = 16x16 matrix x (as column-major) times the identity, through cuBLAS
    {
        float alpha = 1.0f, beta = 0.0f;
        float identity[16 * 16] = {0};
        float *eye = NULL;
        for (int i = 0; i < 16; i++) identity[i * 16 + i] = 1.0f;
        SMOKE_CHECK(cublasCreate(&blas) == CUBLAS_STATUS_SUCCESS, "cublasCreate");
        SMOKE_CHECK(cudaMalloc(&eye, sizeof identity) == cudaSuccess, "cudaMalloc");
        cudaMemcpy(eye, identity, sizeof identity, cudaMemcpyHostToDevice);
        cublasStatus_t s = cublasSgemm(blas, CUBLAS_OP_N, CUBLAS_OP_N, 16, 16, 16, &alpha, x, 16, eye, 16, &beta, y, 16);
        cudaFree(eye);
        SMOKE_CHECK(s == CUBLAS_STATUS_SUCCESS, "cublasSgemm");
    }
    // a one-rank all-reduce is the identity
    SMOKE_CHECK(ncclCommInitAll(&comm, 1, &device) == ncclSuccess, "ncclCommInitAll");
    SMOKE_CHECK(ncclAllReduce(y, y, N, ncclFloat, ncclSum, comm, 0) == ncclSuccess, "ncclAllReduce");
    SMOKE_CHECK(cudaDeviceSynchronize() == cudaSuccess, "cudaDeviceSynchronize");
    SMOKE_CHECK(cudaMemcpy(result, y, sizeof result, cudaMemcpyDeviceToHost) == cudaSuccess, "cudaMemcpy");
    for (int i = 0; i < N; i++)
        if (result[i] != 2.0f * (float)i) {
            snprintf(why, why_size, "element %d is %g, expected %g", i, result[i], 2.0 * i);
            goto done;
        }
    rc = 0;
done:
    if (comm) ncclCommDestroy(comm);
    if (blas) cublasDestroy(blas);
    cudaFree(x);
    cudaFree(y);
    return rc;
}
