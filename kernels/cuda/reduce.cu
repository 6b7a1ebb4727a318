// Column sums in a fixed order, for the weight and bias gradients of the
// backward passes (dbias, the layer norm's dw and db): the rows are cut into
// chunks whose size depends on the row count alone; one kernel of the
// operation writes each chunk's column sums (chunks, cols) to scratch, and
// tc_cuda_add_chunk_sums adds them up chunk after chunk. No atomics: the
// same inputs give the same bits, run after run.
#include "kernels/cuda/cuda_train.cuh"

enum { MAX_CHUNKS = 256, MIN_CHUNK_ROWS = 32 };

int tc_cuda_reduce_chunk_rows(int N) {
    int rows = (N + MAX_CHUNKS - 1) / MAX_CHUNKS;
    return rows < MIN_CHUNK_ROWS ? MIN_CHUNK_ROWS : rows;
}

int tc_cuda_reduce_chunks(int N) {
    int rows = tc_cuda_reduce_chunk_rows(N);
    return N > 0 ? (N + rows - 1) / rows : 0;
}

namespace {

__global__ void add_chunk_sums_kernel(float *out, const float *partial, int chunks, int cols) {
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (col >= cols) return;
    float s = 0.0f;
    for (int k = 0; k < chunks; k++) s += partial[(size_t)k * cols + col];
    out[col] += s;
}

}  // namespace

int tc_cuda_add_chunk_sums(cudaStream_t stream, float *out, const float *partial, int chunks, int cols) {
    if (cols == 0 || chunks == 0) return 0;
    add_chunk_sums_kernel<<<(unsigned)((cols + 255) / 256), 256, 0, stream>>>(out, partial, chunks, cols);
    LAUNCH_CHECK("add_chunk_sums");
    return 0;
}
