// Backward of out = (x - mean) * rstd * w + b, the twin of
// kernels/cpu/layernorm_backward.c (x = inp + residual, kept by the forward
// with mean and rstd):
//   dw (C) += sum over rows of dout * xhat      db (C) += sum of dout
//   dx (N, C) = rstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dout * w
// dw and db first (column sums in reduce.cu's fixed order), then dx, one
// warp per row: each lane reads and writes only its own columns, so dx may
// be dout itself.
#include "kernels/cuda/cuda_train.cuh"

namespace {

enum { ROWS_PER_PASS = 8 };

template <typename T>
__global__ void dwdb_partials_kernel(float *pw, float *pb, const T *dout, const T *x, const float *mean,
                                     const float *rstd, int N, int C, int chunk_rows) {
    int col = blockIdx.x * 32 + threadIdx.x, chunk = blockIdx.y;
    int r0 = chunk * chunk_rows, r1 = r0 + chunk_rows < N ? r0 + chunk_rows : N;
    float sw = 0.0f, sb = 0.0f;
    if (col < C)
        for (int r = r0 + threadIdx.y; r < r1; r += ROWS_PER_PASS) {
            size_t i = (size_t)r * C + col;
            float d = to_float(dout[i]);
            sw += d * ((to_float(x[i]) - mean[r]) * rstd[r]);
            sb += d;
        }
    __shared__ float part_w[ROWS_PER_PASS][33], part_b[ROWS_PER_PASS][33];
    part_w[threadIdx.y][threadIdx.x] = sw;
    part_b[threadIdx.y][threadIdx.x] = sb;
    __syncthreads();
    if (threadIdx.y == 0 && col < C) {
        float tw = 0.0f, tb = 0.0f;
        for (int y = 0; y < ROWS_PER_PASS; y++) tw += part_w[y][threadIdx.x], tb += part_b[y][threadIdx.x];
        pw[(size_t)chunk * C + col] = tw;
        pb[(size_t)chunk * C + col] = tb;
    }
}

// dx and dout may be the same buffer (no __restrict__).
template <typename T>
__global__ void dx_kernel(T *dx, const T *dout, const T *x, const float *mean, const float *rstd, const T *w, int N,
                          int C, int accumulate) {
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= N) return;
    size_t at = (size_t)row * C;
    float m = mean[row], s = rstd[row], g_sum = 0.0f, gx_sum = 0.0f;
    for (int c = lane; c < C; c += 32) {
        float g = to_float(dout[at + c]) * to_float(w[c]), xhat = (to_float(x[at + c]) - m) * s;
        g_sum += g;
        gx_sum += g * xhat;
    }
    float g_mean = warp_sum(g_sum) / (float)C, gx_mean = warp_sum(gx_sum) / (float)C;
    for (int c = lane; c < C; c += 32) {
        float g = to_float(dout[at + c]) * to_float(w[c]), xhat = (to_float(x[at + c]) - m) * s;
        float v = s * (g - g_mean - xhat * gx_mean);
        dx[at + c] = from_float<T>(accumulate ? to_float(dx[at + c]) + v : v);
    }
}

}  // namespace

int tc_cuda_layernorm_backward(tc_backend *be, void *dx, float *dw, float *db, const void *dout, const void *x,
                               const float *mean, const float *rstd, const void *w, int N, int C, int accumulate) {
    if (N == 0) return 0;
    cudaStream_t stream = tc_cuda_stream_of(be);
    int chunks = tc_cuda_reduce_chunks(N), rows = tc_cuda_reduce_chunk_rows(N);
    float *pw = (float *)tc_cuda_scratch(be, 2 * (size_t)chunks * C * sizeof(float));
    if (!pw) return -1;
    float *pb = pw + (size_t)chunks * C;
    dim3 grid((unsigned)((C + 31) / 32), (unsigned)chunks), block(32, ROWS_PER_PASS);
    TC_DISPATCH(be->dtype, T,
                dwdb_partials_kernel<T><<<grid, block, 0, stream>>>(pw, pb, (const T *)dout, (const T *)x, mean, rstd,
                                                                   N, C, rows));
    LAUNCH_CHECK("layernorm backward dw");
    if (tc_cuda_add_chunk_sums(stream, dw, pw, chunks, C) || tc_cuda_add_chunk_sums(stream, db, pb, chunks, C))
        return -1;
    const int rows_per_block = 8;
    unsigned blocks = (unsigned)((N + rows_per_block - 1) / rows_per_block);
    TC_DISPATCH(be->dtype, T,
                dx_kernel<T><<<blocks, 32 * rows_per_block, 0, stream>>>((T *)dx, (const T *)dout, (const T *)x, mean,
                                                                         rstd, (const T *)w, N, C, accumulate));
    LAUNCH_CHECK("layernorm backward dx");
    return 0;
}
