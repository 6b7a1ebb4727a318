// Token embeddings, the twin of kernels/cpu/embeddings.c: one block per
// token row, out (N, C) = wte[ids] + wtt[types] + wpe[pos], summed in f32.
#include "kernels/cuda/cuda_common.cuh"

template <typename T>
__global__ void embeddings_kernel(T *out, const int32_t *ids, const int32_t *pos, const int32_t *types, const T *wte,
                                  const T *wpe, const T *wtt, int C) {
    size_t n = blockIdx.x;
    const T *word = wte + (size_t)ids[n] * C;                      // (C)
    const T *position = wpe + (size_t)pos[n] * C;                  // (C)
    if (!wtt) {  // no token types (MPNet)
        for (int c = threadIdx.x; c < C; c += blockDim.x)
            out[n * C + c] = from_float<T>(to_float(word[c]) + to_float(position[c]));
        return;
    }
    const T *type = wtt + (size_t)(types ? types[n] : 0) * C;      // (C)
    for (int c = threadIdx.x; c < C; c += blockDim.x)
        out[n * C + c] = from_float<T>((to_float(word[c]) + to_float(type[c])) + to_float(position[c]));
}

int tc_cuda_embeddings_forward(cudaStream_t stream, tct_dtype dtype, void *out, const int32_t *ids, const int32_t *pos,
                               const int32_t *types, const void *wte, const void *wpe, const void *wtt, int N, int C) {
    if (N == 0) return 0;
    TC_DISPATCH(dtype, T,
                embeddings_kernel<T><<<N, 128, 0, stream>>>((T *)out, ids, pos, types, (const T *)wte, (const T *)wpe,
                                                            (const T *)wtt, C));
    LAUNCH_CHECK("embeddings");
    return 0;
}
