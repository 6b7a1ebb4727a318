// Backward of the embeddings, the twin of kernels/cpu/embeddings_backward.c:
// each token's gradient row is added to the rows of wte, wpe and wtt it
// read. Tokens share rows, and the sums must not depend on scheduling, so no
// atomics: for each table the token numbers are sorted by the row they read
// (CUB's radix sort, which is stable: tokens of one row stay in token
// order), and one block per row adds its tokens' gradients to the row in
// that order, starting from the row's value, which is exactly the CPU's
// arithmetic (in f32, the same bits).
#include "kernels/cuda/cuda_train.cuh"

#include <cub/device/device_radix_sort.cuh>

namespace {

__global__ void iota_kernel(int32_t *x, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) x[i] = i;
}

// Block k looks at position k of the sorted order; the first position of
// each row adds that row's tokens. keys NULL: every token reads row 0 (the
// token types when none were given), tokens NULL: token order.
template <typename T>
__global__ void add_rows_kernel(float *dw, const int32_t *keys, const int32_t *tokens, const T *dout, int N, int C) {
    int k = blockIdx.x;
    int row = keys ? keys[k] : 0;
    if (k > 0 && (keys ? keys[k - 1] : 0) == row) return;  // not the first token of its row
    float *dst = dw + (size_t)row * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float acc = dst[c];
        for (int j = k; j < N && (keys ? keys[j] : 0) == row; j++)
            acc += to_float(dout[(size_t)(tokens ? tokens[j] : j) * C + c]);
        dst[c] = acc;
    }
}

struct sort_space {
    int32_t *order, *keys_out, *tokens_out;
    void *temp;
    size_t temp_bytes;
};

size_t round_up(size_t x) { return (x + 255) / 256 * 256; }

int carve_sort_space(tc_backend *be, int N, sort_space *s) {
    s->temp_bytes = 0;
    cudaError_t err = cub::DeviceRadixSort::SortPairs(nullptr, s->temp_bytes, (const int32_t *)nullptr,
                                                      (int32_t *)nullptr, (const int32_t *)nullptr,
                                                      (int32_t *)nullptr, N, 0, 32, tc_cuda_stream_of(be));
    if (err != cudaSuccess) return tc_fail("embeddings backward: cub::DeviceRadixSort::SortPairs (size query) failed: %s",
                                           cudaGetErrorString(err));
    size_t ints = round_up((size_t)N * sizeof(int32_t));
    char *base = (char *)tc_cuda_scratch(be, 3 * ints + round_up(s->temp_bytes));
    if (!base) return -1;
    s->order = (int32_t *)base;
    s->keys_out = (int32_t *)(base + ints);
    s->tokens_out = (int32_t *)(base + 2 * ints);
    s->temp = base + 3 * ints;
    return 0;
}

// dw (rows, C) += dout's rows grouped by keys (N) (NULL: all row 0).
int add_by_key(tc_backend *be, sort_space *s, float *dw, const int32_t *keys, const void *dout, int N, int C) {
    cudaStream_t stream = tc_cuda_stream_of(be);
    const int32_t *sorted_keys = nullptr, *tokens = nullptr;
    if (keys) {
        size_t temp_bytes = s->temp_bytes;
        CUDA_CHECK(cub::DeviceRadixSort::SortPairs(s->temp, temp_bytes, keys, s->keys_out, s->order, s->tokens_out, N,
                                                   0, 32, stream));
        sorted_keys = s->keys_out;
        tokens = s->tokens_out;
    }
    unsigned blocks = keys ? (unsigned)N : 1u;
    TC_DISPATCH(be->dtype, T,
                add_rows_kernel<T><<<blocks, 128, 0, stream>>>(dw, sorted_keys, tokens, (const T *)dout, N, C));
    LAUNCH_CHECK("embeddings backward rows");
    return 0;
}

}  // namespace

int tc_cuda_embeddings_backward(tc_backend *be, float *dwte, float *dwpe, float *dwtt, const void *dout,
                                const int32_t *ids, const int32_t *pos, const int32_t *types, int N, int C) {
    if (N == 0 || (!dwte && !dwpe && !dwtt)) return 0;
    sort_space s;
    if (carve_sort_space(be, N, &s)) return -1;
    iota_kernel<<<tc_cuda_blocks((size_t)N, 256), 256, 0, tc_cuda_stream_of(be)>>>(s.order, N);
    LAUNCH_CHECK("embeddings backward iota");
    // the CPU's order: word, type, position
    if (dwte && add_by_key(be, &s, dwte, ids, dout, N, C)) return -1;
    if (dwtt && add_by_key(be, &s, dwtt, types, dout, N, C)) return -1;
    if (dwpe && add_by_key(be, &s, dwpe, pos, dout, N, C)) return -1;
    return 0;
}
