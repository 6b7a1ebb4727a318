// The sum of squares of a long f32 vector (the gradient's squared global
// norm), the twin of kernels/cpu/sumsq.c, on the device and in double: each
// block sums a chunk of 65536 values (a fixed tree over its threads), a
// second one-block kernel adds the chunks' sums in a fixed tree, so a run
// repeats bit for bit. The result stays in device memory: the step's
// decision (step_decide) reads it there, with no wait for the host.
#include "kernels/cuda/cuda_train.cuh"

namespace {

enum { CHUNK = 1 << 16, THREADS = 256 };

// Fixed-order sum of one value per thread of a THREADS block; thread 0 has it.
__device__ double block_sum(double x) {
    __shared__ double warps[THREADS / 32];
    x = warp_sum_double(x);
    if (threadIdx.x % 32 == 0) warps[threadIdx.x / 32] = x;
    __syncthreads();
    double total = 0.0;
    if (threadIdx.x == 0)
        for (int w = 0; w < THREADS / 32; w++) total += warps[w];
    return total;
}

__global__ void chunk_sums_kernel(double *partial, const float *x, size_t n) {
    size_t begin = (size_t)blockIdx.x * CHUNK, end = begin + CHUNK < n ? begin + CHUNK : n;
    double s = 0.0;
    for (size_t i = begin + threadIdx.x; i < end; i += THREADS) {
        double v = x[i];
        s += v * v;
    }
    double total = block_sum(s);
    if (threadIdx.x == 0) partial[blockIdx.x] = total;
}

__global__ void final_sum_kernel(double *result, const double *partial, size_t chunks) {
    double s = 0.0;
    for (size_t i = threadIdx.x; i < chunks; i += THREADS) s += partial[i];
    double total = block_sum(s);
    if (threadIdx.x == 0) *result = total;
}

__global__ void step_decide_kernel(tc_train_state *state, tc_step_args args) { tc_step_decide_apply(state, &args); }

}  // namespace

int tc_cuda_sumsq(tc_backend *be, double *result, const float *x, size_t n) {
    cudaStream_t stream = tc_cuda_stream_of(be);
    size_t chunks = (n + CHUNK - 1) / CHUNK;
    if (chunks == 0) {
        CUDA_CHECK(cudaMemsetAsync(result, 0, sizeof *result, stream));
        return 0;
    }
    if (chunks > 0x7fffffffu) return tc_fail("sumsq: %zu values are too many", n);
    double *partial = (double *)tc_cuda_scratch(be, chunks * sizeof(double));
    if (!partial) return -1;
    chunk_sums_kernel<<<(unsigned)chunks, THREADS, 0, stream>>>(partial, x, n);
    LAUNCH_CHECK("sumsq chunks");
    final_sum_kernel<<<1, THREADS, 0, stream>>>(result, partial, chunks);
    LAUNCH_CHECK("sumsq final");
    return 0;
}

int tc_cuda_step_decide(tc_backend *be, tc_train_state *state, const tc_step_args *args) {
    step_decide_kernel<<<1, 1, 0, tc_cuda_stream_of(be)>>>(state, *args);
    LAUNCH_CHECK("step_decide");
    return 0;
}
