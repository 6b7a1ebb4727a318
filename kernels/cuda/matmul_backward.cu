// Backward of the linear layer, the twin of kernels/cpu/matmul_backward.c:
//   dz (N, OC)   = dout * act'(pre), in place over dout
//   dbias (OC)  += the column sums of dz          (fused with the line above)
//   dinp (N, IC) = dz . w                         (cuBLAS; added when accumulate)
//   dw (OC, IC) += dz^T . inp                     (cuBLAS, f32 output)
// The products take the compute type (f32, bf16, f16) and accumulate in f32
// (no TF32 for f32); the weight gradient is written in f32 whatever the
// compute type. The bias sums go through reduce.cu's fixed order.
//
// In cuBLAS's column-major terms a row-major (r, c) matrix is its own
// transpose (c, r):
//   dinp^T (IC, N) = w^T (IC, OC) . dz^T (OC, N)       N, N
//   dw^T (IC, OC) += inp^T (IC, N) . (dz^T)^T (N, OC)  N, T
#include "kernels/cuda/cuda_train.cuh"

namespace {

enum { ROWS_PER_PASS = 8 };

// Column sums of dz over each chunk of rows into partial (chunks, OC);
// with an activation, dz = dout * act'(pre) is first stored back into dout,
// and the stored (rounded) value is what is summed and what the products
// read.
template <typename T>
__global__ void bias_partials_kernel(float *partial, T *dout, const T *pre, int N, int OC, int chunk_rows,
                                     tc_activation act) {
    int col = blockIdx.x * 32 + threadIdx.x, chunk = blockIdx.y;
    int r0 = chunk * chunk_rows, r1 = r0 + chunk_rows < N ? r0 + chunk_rows : N;
    float s = 0.0f;
    if (col < OC)
        for (int r = r0 + threadIdx.y; r < r1; r += ROWS_PER_PASS) {
            size_t i = (size_t)r * OC + col;
            float d = to_float(dout[i]);
            if (act != TC_ACT_NONE) {
                T dz = from_float<T>(activation_backward_value(d, to_float(pre[i]), act));
                dout[i] = dz;
                d = to_float(dz);
            }
            s += d;
        }
    __shared__ float part[ROWS_PER_PASS][33];
    part[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && col < OC) {
        float total = 0.0f;
        for (int y = 0; y < ROWS_PER_PASS; y++) total += part[y][threadIdx.x];
        partial[(size_t)chunk * OC + col] = total;
    }
}

int bias_and_activation(tc_backend *be, float *dbias, void *dout, const void *pre, int N, int OC, tc_activation act) {
    cudaStream_t stream = tc_cuda_stream_of(be);
    if (!dbias) return tc_cuda_activation_backward(stream, be->dtype, dout, pre, (size_t)N * OC, act);
    int chunks = tc_cuda_reduce_chunks(N), rows = tc_cuda_reduce_chunk_rows(N);
    float *partial = (float *)tc_cuda_scratch(be, (size_t)chunks * OC * sizeof(float));
    if (!partial) return -1;
    dim3 grid((unsigned)((OC + 31) / 32), (unsigned)chunks), block(32, ROWS_PER_PASS);
    TC_DISPATCH(be->dtype, T,
                bias_partials_kernel<T><<<grid, block, 0, stream>>>(partial, (T *)dout, (const T *)pre, N, OC, rows,
                                                                   act));
    LAUNCH_CHECK("matmul backward bias");
    return tc_cuda_add_chunk_sums(stream, dbias, partial, chunks, OC);
}

}  // namespace

int tc_cuda_matmul_backward(tc_backend *be, void *dinp, float *dw, float *dbias, void *dout, const void *inp,
                            const void *w, const void *pre, int N, int IC, int OC, tc_activation act, int accumulate) {
    if (N == 0) return 0;
    if (act != TC_ACT_NONE && !pre) return tc_fail("matmul backward: %d needs the values before it", (int)act);
    if (bias_and_activation(be, dbias, dout, pre, N, OC, act)) return -1;
    cublasHandle_t blas = tc_cuda_blas_of(be);
    cudaDataType_t t = tc_cuda_data_type(be->dtype);
    const float one = 1.0f, beta_inp = accumulate ? 1.0f : 0.0f;
    if (dinp)
        CUBLAS_CHECK(cublasGemmEx(blas, CUBLAS_OP_N, CUBLAS_OP_N, IC, N, OC, &one, w, t, IC, dout, t, OC, &beta_inp,
                                  dinp, t, IC, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    CUBLAS_CHECK(cublasGemmEx(blas, CUBLAS_OP_N, CUBLAS_OP_T, IC, OC, N, &one, inp, t, IC, dout, t, OC, &one, dw,
                              CUDA_R_32F, IC, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return 0;
}
