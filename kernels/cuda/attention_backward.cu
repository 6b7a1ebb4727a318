// Backward of multi-head self-attention over packed sequences, the twin of
// kernels/cpu/attention_backward.c, from the probabilities P the forward
// kept, per sequence and head:
//   dV = P^T dY      dP = dY V^T      dS = P * (dP - rowsum(dP * P))
//   dQ = dS K / sqrt(HS)             dK = dS^T Q / sqrt(HS)
// As in the forward (attention.cu), the packed rows are gathered into
// padded per-head matrices (B, NH, T, HS), zero past each sequence's length,
// so that cuBLAS computes all B x NH products of a kind in one
// strided-batched call; P is zero past the length, hence so are the padded
// rows and columns of every product. dQ, dK and dV go back to the packed
// rows of dqkv (N, 3C), every element of the real rows written.
//
// With a relative position bias (MPNet), its table's gradient is dS summed
// by bucket: a block per (distance, head) sums dS along that diagonal over
// the batch, then one thread per (bucket, head) adds up its distances, in
// a fixed order (no atomics: the sums do not depend on scheduling).
//
// scratch (compute type): q, k, v, dy, dv (B, NH, T, HS) each, then dP
// (B, NH, T, T); dq is written over dy and dk over v once they are used;
// then, 256-byte aligned, the diagonal sums (NH, 2T - 1) f32.
//
// Column-major terms (a row-major (r, c) matrix is its own transpose):
//   dV^T (HS, T) = dY^T . P          N, T
//   dP^T (T, T)  = V . dY^T          T, N
//   dQ^T (HS, T) = K^T . dS^T        N, N
//   dK^T (HS, T) = Q^T . dS          N, T
#include "kernels/cuda/cuda_train.cuh"

#include <math.h>

static size_t diagonal_sums_at(tct_dtype dtype, int B, int T, int C, int NH) {
    size_t es = dtype == TCT_F32 ? 4 : 2;
    return (es * (5 * (size_t)B * T * C + (size_t)B * NH * T * T) + 255) / 256 * 256;
}

size_t tc_cuda_attention_backward_scratch_bytes(tct_dtype dtype, int B, int T, int C, int NH) {
    return diagonal_sums_at(dtype, B, T, C, NH) + 4 * (size_t)NH * (2 * (size_t)T - 1);
}

namespace {

// q, k, v from qkv (N, 3C) and dy from datty (N, C); zero past the lengths.
template <typename E>
__global__ void gather_kernel(E *q, E *k, E *v, E *dy, const E *qkv, const E *datty, const int32_t *offsets,
                              size_t total, int NH, int Tmax, int HS) {
    int C = NH * HS;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        head_index x = split_head_index(i, NH, Tmax, HS);
        int off = offsets[x.b], L = offsets[x.b + 1] - off;
        if (x.t < L) {
            size_t row = (size_t)(off + x.t), col = (size_t)x.h * HS + x.d;
            const E *r = qkv + row * 3 * C + col;  // query; key at +C, value at +2C
            q[i] = r[0];
            k[i] = r[C];
            v[i] = r[2 * C];
            dy[i] = datty[row * C + col];
        } else {
            q[i] = k[i] = v[i] = dy[i] = from_float<E>(0.0f);
        }
    }
}

// dqkv (N, 3C) from dq, dk, dv (B, NH, T, HS): the real rows only.
template <typename E>
__global__ void scatter_kernel(E *dqkv, const E *dq, const E *dk, const E *dv, const int32_t *offsets, size_t total,
                               int NH, int Tmax, int HS) {
    int C = NH * HS;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        head_index x = split_head_index(i, NH, Tmax, HS);
        int off = offsets[x.b], L = offsets[x.b + 1] - off;
        if (x.t >= L) continue;
        E *r = dqkv + (size_t)(off + x.t) * 3 * C + (size_t)x.h * HS + x.d;
        r[0] = dq[i];
        r[C] = dk[i];
        r[2 * C] = dv[i];
    }
}

// dS = P * (dP - rowsum(dP * P)) in place over dP, one warp per row
// (b, h, i); rows past the length and columns past it are zero.
template <typename E>
__global__ void softmax_backward_kernel(E *dp, const E *p, const int32_t *offsets, int NH, int Tmax, size_t rows) {
    size_t row = blockIdx.x * (size_t)(blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows) return;
    int i = (int)(row % Tmax), b = (int)(row / Tmax / NH);
    int L = offsets[b + 1] - offsets[b];
    E *d = dp + row * Tmax;          // (T)
    const E *pr = p + row * Tmax;    // (T)
    if (i >= L) {
        for (int j = lane; j < Tmax; j += 32) d[j] = from_float<E>(0.0f);
        return;
    }
    float dot = 0.0f;
    for (int j = lane; j < L; j += 32) dot += to_float(d[j]) * to_float(pr[j]);
    dot = warp_sum(dot);
    for (int j = lane; j < Tmax; j += 32)
        d[j] = from_float<E>(j < L ? to_float(pr[j]) * (to_float(d[j]) - dot) : 0.0f);
}

// diag (NH, 2T - 1): block (d, h) sums dS[b, h, i, i + d - (T - 1)] over
// the sequences b and their rows i.
template <typename E>
__global__ void bias_diagonal_kernel(float *diag, const E *ds, const int32_t *offsets, int B, int NH, int Tmax) {
    int d = (int)blockIdx.x - (Tmax - 1), h = (int)blockIdx.y;
    float sum = 0.0f;
    for (int k = threadIdx.x; k < B * Tmax; k += blockDim.x) {
        int b = k / Tmax, i = k % Tmax, L = offsets[b + 1] - offsets[b];
        if (i < L && i + d >= 0 && i + d < L) sum += to_float(ds[(((size_t)b * NH + h) * Tmax + i) * Tmax + i + d]);
    }
    __shared__ float warps[32];
    sum = warp_sum(sum);
    if (threadIdx.x % 32 == 0) warps[threadIdx.x / 32] = sum;
    __syncthreads();
    if (threadIdx.x < 32) {
        sum = threadIdx.x < blockDim.x / 32 ? warps[threadIdx.x] : 0.0f;
        sum = warp_sum(sum);
        if (threadIdx.x == 0) diag[(size_t)h * (2 * Tmax - 1) + (d + Tmax - 1)] = sum;
    }
}

// dtable (NB, NH) += the diagonal sums of each bucket's distances.
__global__ void bias_bucket_kernel(float *dtable, const float *diag, const int32_t *bucket, int span, int NB, int NH,
                                   int Tmax) {
    int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= NB * NH) return;
    int nb = k / NH, h = k % NH;
    float sum = 0.0f;
    for (int d = -(Tmax - 1); d <= Tmax - 1; d++)
        if (bucket[d + span - 1] == nb) sum += diag[(size_t)h * (2 * Tmax - 1) + (d + Tmax - 1)];
    dtable[k] += sum;
}

}  // namespace

int tc_cuda_attention_backward(tc_backend *be, void *dqkv, void *scratch, const void *datty, const void *att,
                               const void *qkv, const tc_seq_layout *layout, int C, int NH, const tc_attn_bias *bias) {
    int B = layout->B, T = layout->T, HS = C / NH;
    if (B == 0 || T == 0) return 0;
    cudaStream_t stream = tc_cuda_stream_of(be);
    cublasHandle_t blas = tc_cuda_blas_of(be);
    tct_dtype dtype = be->dtype;
    size_t es = dtype == TCT_F32 ? 4 : 2, per_head = (size_t)B * T * C;  // elements of q (= k = v = dy = dv)
    char *base = (char *)scratch;
    void *q = base, *k = base + per_head * es, *v = base + 2 * per_head * es, *dy = base + 3 * per_head * es;
    void *dv = base + 4 * per_head * es, *dp = base + 5 * per_head * es;  // dp: (B, NH, T, T)
    void *dq = dy, *dk = v;  // written once dy and v are no longer read
    const float scale = 1.0f / sqrtf((float)HS), one = 1.0f, zero = 0.0f;
    cudaDataType_t t = tc_cuda_data_type(dtype);
    long long h_stride = (long long)T * HS, s_stride = (long long)T * T;
    size_t rows = (size_t)B * NH * T;
    const int warps = 8;
    int batch = B * NH;
    TC_DISPATCH(dtype, E,
                gather_kernel<E><<<tc_cuda_blocks(per_head, 256), 256, 0, stream>>>(
                    (E *)q, (E *)k, (E *)v, (E *)dy, (const E *)qkv, (const E *)datty, layout->offsets_dev, per_head,
                    NH, T, HS));
    LAUNCH_CHECK("attention backward gather");
    // dV = P^T dY
    CUBLAS_CHECK(cublasGemmStridedBatchedEx(blas, CUBLAS_OP_N, CUBLAS_OP_T, HS, T, T, &one, dy, t, HS, h_stride, att, t,
                                            T, s_stride, &zero, dv, t, HS, h_stride, batch, CUBLAS_COMPUTE_32F,
                                            CUBLAS_GEMM_DEFAULT));
    // dP = dY V^T
    CUBLAS_CHECK(cublasGemmStridedBatchedEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, T, T, HS, &one, v, t, HS, h_stride, dy, t,
                                            HS, h_stride, &zero, dp, t, T, s_stride, batch, CUBLAS_COMPUTE_32F,
                                            CUBLAS_GEMM_DEFAULT));
    TC_DISPATCH(dtype, E,
                softmax_backward_kernel<E><<<(unsigned)((rows + warps - 1) / warps), 32 * warps, 0, stream>>>(
                    (E *)dp, (const E *)att, layout->offsets_dev, NH, T, rows));
    LAUNCH_CHECK("attention backward softmax");
    if (bias) {
        float *diag = (float *)(base + diagonal_sums_at(dtype, B, T, C, NH));
        TC_DISPATCH(dtype, E,
                    bias_diagonal_kernel<E><<<dim3(2 * T - 1, NH), 256, 0, stream>>>(diag, (const E *)dp,
                                                                                     layout->offsets_dev, B, NH, T));
        LAUNCH_CHECK("attention backward bias diagonals");
        int n = bias->buckets * NH;
        bias_bucket_kernel<<<(n + 127) / 128, 128, 0, stream>>>(bias->dtable, diag, bias->bucket, bias->span,
                                                                bias->buckets, NH, T);
        LAUNCH_CHECK("attention backward bias buckets");
    }
    // dQ = dS K / sqrt(HS), over dy
    CUBLAS_CHECK(cublasGemmStridedBatchedEx(blas, CUBLAS_OP_N, CUBLAS_OP_N, HS, T, T, &scale, k, t, HS, h_stride, dp, t,
                                            T, s_stride, &zero, dq, t, HS, h_stride, batch, CUBLAS_COMPUTE_32F,
                                            CUBLAS_GEMM_DEFAULT));
    // dK = dS^T Q / sqrt(HS), over v
    CUBLAS_CHECK(cublasGemmStridedBatchedEx(blas, CUBLAS_OP_N, CUBLAS_OP_T, HS, T, T, &scale, q, t, HS, h_stride, dp, t,
                                            T, s_stride, &zero, dk, t, HS, h_stride, batch, CUBLAS_COMPUTE_32F,
                                            CUBLAS_GEMM_DEFAULT));
    TC_DISPATCH(dtype, E,
                scatter_kernel<E><<<tc_cuda_blocks(per_head, 256), 256, 0, stream>>>(
                    (E *)dqkv, (const E *)dq, (const E *)dk, (const E *)dv, layout->offsets_dev, per_head, NH, T, HS));
    LAUNCH_CHECK("attention backward scatter");
    return 0;
}
