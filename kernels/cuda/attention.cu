// Multi-head self-attention, the twin of kernels/cpu/attention.c. The packed
// rows are scattered into padded per-head matrices q, k, v (B, NH, T, HS);
// cuBLAS computes all (B x NH) score matrices q k^T / sqrt(HS) (T, T) in one
// strided-batched product; a softmax kernel masks the keys past each
// sequence's length (probability 0) and zeroes the padding rows; a second
// batched product gives y = p v; y is gathered back to the packed rows.
// Sorting batches by length (tc-encode does) keeps the padding small.
//
// A relative position bias (MPNet), when given, is added to the scaled
// scores by the softmax kernel, before the mask.
//
// scratch (backend dtype): q, k, v, y (B, NH, T, HS) each, then the
// scores (B, NH, T, T) when the caller keeps no `att`.
#include "kernels/cuda/cuda_common.cuh"

#include <math.h>

size_t tc_cuda_attention_scratch_bytes(tct_dtype dtype, int B, int T, int C, int NH) {
    size_t es = dtype == TCT_F32 ? 4 : 2;
    return es * (4 * (size_t)B * T * C + (size_t)B * NH * T * T);
}

template <typename T>
__global__ void permute_kernel(T *q, T *k, T *v, const T *qkv, const int32_t *offsets, size_t total, int NH, int Tmax,
                               int HS) {
    int C = NH * HS;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        head_index x = split_head_index(i, NH, Tmax, HS);
        int off = offsets[x.b], L = offsets[x.b + 1] - off;
        if (x.t < L) {
            const T *row = qkv + (size_t)(off + x.t) * 3 * C + x.h * HS + x.d;  // query; key at +C, value at +2C
            q[i] = row[0];
            k[i] = row[C];
            v[i] = row[2 * C];
        } else {
            q[i] = k[i] = v[i] = from_float<T>(0.0f);
        }
    }
}

template <typename T>
__global__ void unpermute_kernel(T *out, const T *y, const int32_t *offsets, size_t total, int NH, int Tmax, int HS) {
    int C = NH * HS;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        head_index x = split_head_index(i, NH, Tmax, HS);
        int off = offsets[x.b], L = offsets[x.b + 1] - off;
        if (x.t < L) out[(size_t)(off + x.t) * C + x.h * HS + x.d] = y[i];
    }
}

// One warp per score row (b, h, i), in place; table (NB, NH) and bucket
// (2 span - 1): the position bias, or NULL.
template <typename T>
__global__ void masked_softmax_kernel(T *att, const int32_t *offsets, int NH, int Tmax, size_t rows, const T *table,
                                      const int32_t *bucket, int span) {
    size_t row = blockIdx.x * (size_t)(blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows) return;
    int i = (int)(row % Tmax), b = (int)(row / Tmax / NH);
    int L = offsets[b + 1] - offsets[b];
    T *s = att + row * Tmax;  // (T)
    if (i >= L) {
        for (int j = lane; j < Tmax; j += 32) s[j] = from_float<T>(0.0f);
        return;
    }
    // the biased score of key j, kept in f32 (the stored score may be bf16)
    int h = (int)(row / Tmax % NH);
    const int32_t *by_key = table ? bucket + span - 1 - i : nullptr;  // by_key[j]: the bucket of distance j - i
    auto score = [&](int j) {
        float x = to_float(s[j]);
        return table ? x + to_float(table[(size_t)by_key[j] * NH + h]) : x;
    };
    float mx = -INFINITY;
    for (int j = lane; j < L; j += 32) mx = fmaxf(mx, score(j));
    mx = warp_max(mx);
    float sum = 0.0f;
    for (int j = lane; j < L; j += 32) sum += expf(score(j) - mx);
    float inv = 1.0f / warp_sum(sum);
    for (int j = lane; j < Tmax; j += 32) s[j] = from_float<T>(j < L ? expf(score(j) - mx) * inv : 0.0f);
}

int tc_cuda_attention_forward(cudaStream_t stream, cublasHandle_t blas, tct_dtype dtype, void *out, void *att,
                              void *scratch, const void *qkv, const tc_seq_layout *layout, int C, int NH,
                              const tc_attn_bias *bias) {
    int B = layout->B, T = layout->T, HS = C / NH;
    if (B == 0 || T == 0) return 0;
    size_t es = dtype == TCT_F32 ? 4 : 2, per_head = (size_t)B * T * C;  // elements of q (= k = v = y)
    char *base = (char *)scratch;
    void *q = base, *k = base + per_head * es, *v = base + 2 * per_head * es, *y = base + 3 * per_head * es;
    void *scores = att ? att : base + 4 * per_head * es;  // (B, NH, T, T)
    const float scale = 1.0f / sqrtf((float)HS), one = 1.0f, zero = 0.0f;
    cudaDataType_t t = tc_cuda_data_type(dtype);
    long long qk_stride = (long long)T * HS, s_stride = (long long)T * T;
    size_t rows = (size_t)B * NH * T;
    const int warps = 8;
    TC_DISPATCH(dtype, E,
                permute_kernel<E><<<tc_cuda_blocks(per_head, 256), 256, 0, stream>>>(
                    (E *)q, (E *)k, (E *)v, (const E *)qkv, layout->offsets_dev, per_head, NH, T, HS));
    LAUNCH_CHECK("attention permute");
    CUBLAS_CHECK(cublasGemmStridedBatchedEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, T, T, HS, &scale, k, t, HS, qk_stride, q, t,
                                            HS, qk_stride, &zero, scores, t, T, s_stride, B * NH, CUBLAS_COMPUTE_32F,
                                            CUBLAS_GEMM_DEFAULT));
    TC_DISPATCH(dtype, E,
                masked_softmax_kernel<E><<<(unsigned)((rows + warps - 1) / warps), 32 * warps, 0, stream>>>(
                    (E *)scores, layout->offsets_dev, NH, T, rows, bias ? (const E *)bias->table : nullptr,
                    bias ? bias->bucket : nullptr, bias ? bias->span : 0));
    LAUNCH_CHECK("attention softmax");
    CUBLAS_CHECK(cublasGemmStridedBatchedEx(blas, CUBLAS_OP_N, CUBLAS_OP_N, HS, T, T, &one, v, t, HS, qk_stride, scores,
                                            t, T, s_stride, &zero, y, t, HS, qk_stride, B * NH, CUBLAS_COMPUTE_32F,
                                            CUBLAS_GEMM_DEFAULT));
    TC_DISPATCH(dtype, E,
                unpermute_kernel<E><<<tc_cuda_blocks(per_head, 256), 256, 0, stream>>>(
                    (E *)out, (const E *)y, layout->offsets_dev, per_head, NH, T, HS));
    LAUNCH_CHECK("attention unpermute");
    return 0;
}
