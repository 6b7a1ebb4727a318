// Backward of sentence pooling, the twin of kernels/cpu/pooling_backward.c:
// one block per sequence writes all its rows of dx (N, C): dout[b] / L on
// each of the L rows (mean pooling), or dout[b] on the first row and zero on
// the others ([CLS], also the pooler's input).
#include "kernels/cuda/cuda_train.cuh"

namespace {

template <typename T>
__global__ void pool_backward_kernel(T *dx, const T *dout, const int32_t *offsets, int C, tc_pooling mode) {
    int b = blockIdx.x, off = offsets[b], L = offsets[b + 1] - off;
    if (L <= 0) return;
    T *rows = dx + (size_t)off * C;       // (L, C)
    const T *d = dout + (size_t)b * C;    // (C)
    float inv = 1.0f / (float)L;
    size_t n = (size_t)L * C;
    for (size_t i = threadIdx.x; i < n; i += blockDim.x) {
        int t = (int)(i / C), c = (int)(i % C);
        float v = mode == TC_POOL_MEAN ? to_float(d[c]) * inv : t == 0 ? to_float(d[c]) : 0.0f;
        rows[i] = from_float<T>(v);
    }
}

}  // namespace

int tc_cuda_pool_backward(tc_backend *be, void *dx, const void *dout, const tc_seq_layout *layout, int C,
                          tc_pooling mode) {
    if (layout->B == 0) return 0;
    TC_DISPATCH(be->dtype, T,
                pool_backward_kernel<T><<<layout->B, 256, 0, tc_cuda_stream_of(be)>>>(
                    (T *)dx, (const T *)dout, layout->offsets_dev, C, mode));
    LAUNCH_CHECK("pool backward");
    return 0;
}
