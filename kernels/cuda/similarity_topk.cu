// Dims as in kernels/cpu/similarity_topk.h: N documents, M targets, D width,
// G groups, K kept per row. The product runs in cuBLAS; the reductions are
// two small kernels, so the (N, M) matrix stays on the device.
#include "kernels/cuda/similarity_topk.h"

extern "C" {
#include "common/error.h"
}

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <math.h>

struct tc_cuda_similarity {
    int device;
    int64_t m;
    int d, g, max_rows;
    cublasHandle_t blas;
    cudaStream_t stream;
    float *t;          // (M, D)
    int32_t *offsets;  // (G+1)
    float *x;          // (max_rows, D)
    float *s;          // (max_rows, M)
    float *out;        // (max_rows, max(G, K_MAX))
    int32_t *idx;      // (max_rows, K_MAX)
};

#define CUDA_TRY(call)                                                                                  \
    do {                                                                                                \
        cudaError_t err_ = (call);                                                                      \
        if (err_ != cudaSuccess)                                                                        \
            return tc_fail("GPU %d: %s: %s (%s:%d)", s->device, #call, cudaGetErrorString(err_), __FILE__, \
                           __LINE__);                                                                   \
    } while (0)

#define CUBLAS_TRY(call)                                                                               \
    do {                                                                                               \
        cublasStatus_t st_ = (call);                                                                   \
        if (st_ != CUBLAS_STATUS_SUCCESS)                                                              \
            return tc_fail("GPU %d: %s: cuBLAS status %d (%s:%d)", s->device, #call, (int)st_, __FILE__, \
                           __LINE__);                                                                  \
    } while (0)

// The CPU's order (kernels/cpu/similarity_topk.h): larger first, equal values
// in target order, an empty slot last, NaN as -infinity.
static __device__ __forceinline__ bool better(float v, int32_t j, float w, int32_t l) {
    if (l < 0) return true;
    if (isnan(v)) v = -INFINITY;
    if (isnan(w)) w = -INFINITY;
    return v > w || (v == w && j < l);
}

// One thread per (row, group).
static __global__ void group_max_kernel(const float *s, int64_t n, int64_t m, const int32_t *offsets, int g,
                                        float *out) {
    int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= n * g) return;
    int64_t i = k / g;
    int c = (int)(k % g);
    const float *row = s + i * m;
    float best = -INFINITY;
    for (int32_t j = offsets[c]; j < offsets[c + 1]; j++) best = fmaxf(best, row[j]);
    out[k] = best;
}

enum { TOPK_THREADS = 64 };

// One block per row: each thread keeps a sorted top k of its strided share,
// then thread 0 merges the TOPK_THREADS sorted lists head by head.
static __global__ void topk_kernel(const float *s, int64_t m, int k, int32_t *idx, float *val) {
    // Each thread's sorted list lives in its row of shared memory, not in a
    // register array: indexed by a run-time k, such an array would sit in
    // local memory. The list's last entry, the bar a value must pass, stays
    // in registers, so the scan touches shared memory only to insert.
    __shared__ float sv[TOPK_THREADS][TC_CUDA_TOPK_MAX + 1];  // + 1: rows in different banks
    __shared__ int32_t si[TOPK_THREADS][TC_CUDA_TOPK_MAX + 1];
    __shared__ int head[TOPK_THREADS];
    const float *row = s + (int64_t)blockIdx.x * m;
    float *lv = sv[threadIdx.x];
    int32_t *li = si[threadIdx.x];
    for (int q = 0; q < k; q++) lv[q] = -INFINITY, li[q] = -1;
    float bar_v = -INFINITY;
    int32_t bar_i = -1;
    for (int64_t j = threadIdx.x; j < m; j += blockDim.x) {
        float v = row[j];
        if (!better(v, (int32_t)j, bar_v, bar_i)) continue;
        int q = k - 1;
        while (q > 0 && better(v, (int32_t)j, lv[q - 1], li[q - 1])) {
            lv[q] = lv[q - 1], li[q] = li[q - 1];
            q--;
        }
        lv[q] = v, li[q] = (int32_t)j;
        bar_v = lv[k - 1], bar_i = li[k - 1];
    }
    head[threadIdx.x] = 0;
    __syncthreads();
    if (threadIdx.x != 0) return;
    for (int q = 0; q < k; q++) {
        int pick = -1;
        for (int t = 0; t < TOPK_THREADS; t++) {
            if (head[t] >= k || si[t][head[t]] < 0) continue;
            if (pick < 0 || better(sv[t][head[t]], si[t][head[t]], sv[pick][head[pick]], si[pick][head[pick]]))
                pick = t;
        }
        int64_t o = (int64_t)blockIdx.x * k + q;
        if (pick < 0) {
            val[o] = -INFINITY, idx[o] = -1;
        } else {
            val[o] = sv[pick][head[pick]], idx[o] = si[pick][head[pick]];
            head[pick]++;
        }
    }
}

extern "C" int tc_cuda_similarity_create(tc_cuda_similarity **out, int device, const float *t, int64_t m, int d,
                                         const int32_t *offsets, int g, int max_rows) {
    *out = NULL;
    tc_cuda_similarity *s = (tc_cuda_similarity *)tc_calloc(1, sizeof *s);
    if (!s) return -1;
    s->device = device, s->m = m, s->d = d, s->g = g, s->max_rows = max_rows;
    *out = s;  // the caller destroys it on failure too
    CUDA_TRY(cudaSetDevice(device));
    CUDA_TRY(cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking));
    CUBLAS_TRY(cublasCreate(&s->blas));
    CUBLAS_TRY(cublasSetStream(s->blas, s->stream));
    int width = g > TC_CUDA_TOPK_MAX ? g : TC_CUDA_TOPK_MAX;
    CUDA_TRY(cudaMalloc(&s->t, (size_t)m * d * sizeof(float)));
    CUDA_TRY(cudaMalloc(&s->x, (size_t)max_rows * d * sizeof(float)));
    CUDA_TRY(cudaMalloc(&s->s, (size_t)max_rows * m * sizeof(float)));
    CUDA_TRY(cudaMalloc(&s->out, (size_t)max_rows * width * sizeof(float)));
    CUDA_TRY(cudaMalloc(&s->idx, (size_t)max_rows * TC_CUDA_TOPK_MAX * sizeof(int32_t)));
    CUDA_TRY(cudaMemcpy(s->t, t, (size_t)m * d * sizeof(float), cudaMemcpyHostToDevice));
    if (g > 0) {
        CUDA_TRY(cudaMalloc(&s->offsets, (size_t)(g + 1) * sizeof(int32_t)));
        CUDA_TRY(cudaMemcpy(s->offsets, offsets, (size_t)(g + 1) * sizeof(int32_t), cudaMemcpyHostToDevice));
    }
    return 0;
}

void tc_cuda_similarity_destroy(tc_cuda_similarity *s) {
    if (!s) return;
    cudaSetDevice(s->device);
    cudaFree(s->t), cudaFree(s->offsets), cudaFree(s->x), cudaFree(s->s), cudaFree(s->out), cudaFree(s->idx);
    if (s->blas) cublasDestroy(s->blas);
    if (s->stream) cudaStreamDestroy(s->stream);
    free(s);
}

// s (rows, M) row-major = x (rows, D) . t^T: in cuBLAS's column-major terms
// S^T (M, rows) = T (M, D as D x M transposed) . X^T.
static int product(tc_cuda_similarity *s, const float *x, int rows) {
    CUDA_TRY(cudaMemcpyAsync(s->x, x, (size_t)rows * s->d * sizeof(float), cudaMemcpyHostToDevice, s->stream));
    const float one = 1.0f, zero = 0.0f;
    CUBLAS_TRY(cublasSgemm(s->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)s->m, rows, s->d, &one, s->t, s->d, s->x, s->d,
                           &zero, s->s, (int)s->m));
    return 0;
}

extern "C" int tc_cuda_similarity_group_max(tc_cuda_similarity *s, const float *x, int64_t n, float *out) {
    CUDA_TRY(cudaSetDevice(s->device));
    for (int64_t at = 0; at < n; at += s->max_rows) {
        int rows = (int)(n - at < s->max_rows ? n - at : s->max_rows);
        if (product(s, x + at * s->d, rows)) return -1;
        int64_t cells = (int64_t)rows * s->g;
        group_max_kernel<<<(unsigned)((cells + 255) / 256), 256, 0, s->stream>>>(s->s, rows, s->m, s->offsets, s->g,
                                                                               s->out);
        CUDA_TRY(cudaGetLastError());
        CUDA_TRY(cudaMemcpyAsync(out + at * s->g, s->out, (size_t)cells * sizeof(float), cudaMemcpyDeviceToHost,
                                 s->stream));
        CUDA_TRY(cudaStreamSynchronize(s->stream));
    }
    return 0;
}

extern "C" int tc_cuda_similarity_topk(tc_cuda_similarity *s, const float *x, int64_t n, int k, int32_t *idx,
                                       float *val) {
    if (k < 1 || k > TC_CUDA_TOPK_MAX || k > s->m)
        return tc_fail("GPU %d: top-k of %d out of %lld targets is not supported (at most %d)", s->device, k,
                       (long long)s->m, TC_CUDA_TOPK_MAX);
    CUDA_TRY(cudaSetDevice(s->device));
    for (int64_t at = 0; at < n; at += s->max_rows) {
        int rows = (int)(n - at < s->max_rows ? n - at : s->max_rows);
        if (product(s, x + at * s->d, rows)) return -1;
        topk_kernel<<<rows, TOPK_THREADS, 0, s->stream>>>(s->s, s->m, k, s->idx, s->out);
        CUDA_TRY(cudaGetLastError());
        CUDA_TRY(cudaMemcpyAsync(idx + at * k, s->idx, (size_t)rows * k * sizeof(int32_t), cudaMemcpyDeviceToHost,
                                 s->stream));
        CUDA_TRY(cudaMemcpyAsync(val + at * k, s->out, (size_t)rows * k * sizeof(float), cudaMemcpyDeviceToHost,
                                 s->stream));
        CUDA_TRY(cudaStreamSynchronize(s->stream));
    }
    return 0;
}
