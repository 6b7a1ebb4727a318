// The CUDA backend: device memory, one stream and one cuBLAS handle per
// backend (per GPU), the operations of kernels/cuda/*.cu in f32, bf16 or
// f16 storage with f32 arithmetic. Every entry point selects its device
// first, so a backend may be driven from any one thread at a time.
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/cuda_train.cuh"
#include "kernels/cuda/device.h"

#include <stdio.h>
#include <stdlib.h>

namespace {

struct cuda_impl {
    int device;
    cudaStream_t stream;
    cublasHandle_t blas;
    cudaEvent_t events[TC_BACKEND_EVENTS];
    float *staging;          // upload_f32's f32 chunk on the device
    void *scratch;           // the training operations' scratch (tc_cuda_scratch)
    size_t scratch_bytes;
};

cuda_impl *impl_of(tc_backend *be) { return (cuda_impl *)be->impl; }

int use_device(tc_backend *be) {
    CUDA_CHECK(cudaSetDevice(impl_of(be)->device));
    return 0;
}

// Everything runs on the backend's own (non-blocking) stream, zero-filling
// and weight uploads included: work on the legacy default stream would not
// be ordered with it.
void *cuda_alloc(tc_backend *be, size_t bytes) {
    void *p = nullptr;
    if (use_device(be)) return nullptr;
    cudaError_t err = cudaMalloc(&p, bytes ? bytes : 256);
    if (err != cudaSuccess) {
        cudaGetLastError();
        tc_fail("%s: cannot allocate %zu MiB of GPU memory: %s", be->name, bytes >> 20, cudaGetErrorString(err));
        return nullptr;
    }
    if (cudaMemsetAsync(p, 0, bytes, impl_of(be)->stream) != cudaSuccess ||
        cudaStreamSynchronize(impl_of(be)->stream) != cudaSuccess) {
        cudaFree(p);
        tc_fail("%s: cannot clear new GPU memory", be->name);
        return nullptr;
    }
    return p;
}

void cuda_free(tc_backend *be, void *p) {  // after the queued work that may still use p
    use_device(be);
    cudaStreamSynchronize(impl_of(be)->stream);
    cudaFree(p);
}

void *cuda_host_alloc(tc_backend *be, size_t bytes) {
    void *p = nullptr;
    if (use_device(be)) return nullptr;
    if (cudaMallocHost(&p, bytes ? bytes : 256) != cudaSuccess) {
        cudaGetLastError();
        tc_fail("%s: cannot allocate %zu MiB of pinned host memory", be->name, bytes >> 20);
        return nullptr;
    }
    return p;
}

void cuda_host_free(tc_backend *be, void *p) {
    use_device(be);
    cudaStreamSynchronize(impl_of(be)->stream);
    cudaFreeHost(p);
}

int cuda_copy(tc_backend *be, void *dst, const void *src, size_t bytes) {
    if (bytes == 0) return 0;
    if (use_device(be)) return -1;
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, impl_of(be)->stream));
    return 0;
}

int cuda_upload_f32(tc_backend *be, void *dst, const float *src, size_t n) {
    cuda_impl *d = impl_of(be);
    if (use_device(be)) return -1;
    if (be->dtype == TCT_F32) {
        CUDA_CHECK(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyHostToDevice, d->stream));
        CUDA_CHECK(cudaStreamSynchronize(d->stream));
        return 0;
    }
    const size_t chunk = (size_t)1 << 22;  // f32 values through the staging buffer at a time
    if (!d->staging) CUDA_CHECK(cudaMalloc((void **)&d->staging, chunk * sizeof(float)));
    for (size_t at = 0; at < n; at += chunk) {
        size_t m = n - at < chunk ? n - at : chunk;
        CUDA_CHECK(cudaMemcpyAsync(d->staging, src + at, m * sizeof(float), cudaMemcpyHostToDevice, d->stream));
        if (tc_cuda_from_f32(d->stream, be->dtype, (char *)dst + at * 2, d->staging, m)) return -1;
        CUDA_CHECK(cudaStreamSynchronize(d->stream));  // the staging buffer is reused
    }
    return 0;
}

int cuda_to_f32(tc_backend *be, float *dst, const void *src, size_t n) {
    if (use_device(be)) return -1;
    if (be->dtype == TCT_F32) return cuda_copy(be, dst, src, n * sizeof(float));
    return tc_cuda_to_f32(impl_of(be)->stream, be->dtype, dst, src, n);
}

int cuda_synchronize(tc_backend *be) {
    if (use_device(be)) return -1;
    CUDA_CHECK(cudaStreamSynchronize(impl_of(be)->stream));
    return 0;
}

int cuda_event_record(tc_backend *be, int slot) {
    if (slot < 0 || slot >= TC_BACKEND_EVENTS) return tc_fail("event slot %d", slot);
    if (use_device(be)) return -1;
    CUDA_CHECK(cudaEventRecord(impl_of(be)->events[slot], impl_of(be)->stream));
    return 0;
}

int cuda_event_wait(tc_backend *be, int slot) {
    if (slot < 0 || slot >= TC_BACKEND_EVENTS) return tc_fail("event slot %d", slot);
    if (use_device(be)) return -1;
    CUDA_CHECK(cudaEventSynchronize(impl_of(be)->events[slot]));
    CUDA_CHECK(cudaGetLastError());
    return 0;
}

int cuda_embeddings(tc_backend *be, void *out, const int32_t *ids, const int32_t *pos, const int32_t *types,
                    const void *wte, const void *wpe, const void *wtt, int N, int C) {
    return use_device(be) || tc_cuda_embeddings_forward(impl_of(be)->stream, be->dtype, out, ids, pos, types, wte, wpe,
                                                        wtt, N, C)
               ? -1
               : 0;
}

int cuda_layernorm(tc_backend *be, void *out, float *mean, float *rstd, void *sum, const void *inp,
                   const void *residual, const void *w, const void *b, float eps, int N, int C) {
    return use_device(be) || tc_cuda_layernorm_forward(impl_of(be)->stream, be->dtype, out, mean, rstd, sum, inp,
                                                       residual, w, b, eps, N, C)
               ? -1
               : 0;
}

int cuda_matmul(tc_backend *be, void *out, void *pre, const void *inp, const void *w, const void *bias, int N, int IC,
                int OC, tc_activation act) {
    return use_device(be) || tc_cuda_matmul_forward(impl_of(be)->stream, impl_of(be)->blas, be->dtype, out, pre, inp, w,
                                                    bias, N, IC, OC, act)
               ? -1
               : 0;
}

int cuda_activation(tc_backend *be, void *out, const void *inp, size_t n, tc_activation act) {
    return use_device(be) || tc_cuda_activation_forward(impl_of(be)->stream, be->dtype, out, inp, n, act) ? -1 : 0;
}

int cuda_attention(tc_backend *be, void *out, void *att, void *scratch, const void *qkv, const tc_seq_layout *layout,
                   int C, int NH, const tc_attn_bias *bias) {
    if (C % NH) return tc_fail("attention: %d columns do not split into %d heads", C, NH);
    if (bias && bias->span < layout->T)
        return tc_fail("attention: the position bias covers %d tokens, not %d", bias->span, layout->T);
    return use_device(be) || tc_cuda_attention_forward(impl_of(be)->stream, impl_of(be)->blas, be->dtype, out, att,
                                                       scratch, qkv, layout, C, NH, bias)
               ? -1
               : 0;
}

size_t cuda_attention_scratch(tc_backend *be, int B, int T, int C, int NH) {
    return tc_cuda_attention_scratch_bytes(be->dtype, B, T, C, NH);
}

int cuda_pool(tc_backend *be, void *out, const void *x, const tc_seq_layout *layout, int C, tc_pooling mode) {
    return use_device(be) || tc_cuda_pool_forward(impl_of(be)->stream, be->dtype, out, x, layout, C, mode) ? -1 : 0;
}

int cuda_normalize(tc_backend *be, void *out, const void *x, int B, int D) {
    return use_device(be) || tc_cuda_normalize_forward(impl_of(be)->stream, be->dtype, out, x, B, D) ? -1 : 0;
}

void cuda_destroy(tc_backend *be) {
    cuda_impl *d = impl_of(be);
    if (d) {
        cudaSetDevice(d->device);
        if (d->stream) cudaStreamSynchronize(d->stream);
        for (int i = 0; i < TC_BACKEND_EVENTS; i++)
            if (d->events[i]) cudaEventDestroy(d->events[i]);
        if (d->blas) cublasDestroy(d->blas);
        if (d->stream) cudaStreamDestroy(d->stream);
        cudaFree(d->staging);
        cudaFree(d->scratch);
        free(d);
    }
    free(be);
}

const tc_backend_ops *cuda_ops(void) {
    static tc_backend_ops ops;
    if (!ops.alloc) {  // set by name, as C's designated initializers would
        ops.free = cuda_free;
        ops.host_alloc = cuda_host_alloc;
        ops.host_free = cuda_host_free;
        ops.upload = cuda_copy;
        ops.download = cuda_copy;
        ops.upload_f32 = cuda_upload_f32;
        ops.to_f32 = cuda_to_f32;
        ops.synchronize = cuda_synchronize;
        ops.event_record = cuda_event_record;
        ops.event_wait = cuda_event_wait;
        ops.embeddings_forward = cuda_embeddings;
        ops.layernorm_forward = cuda_layernorm;
        ops.matmul_forward = cuda_matmul;
        ops.activation_forward = cuda_activation;
        ops.attention_forward = cuda_attention;
        ops.attention_scratch_bytes = cuda_attention_scratch;
        ops.pool_forward = cuda_pool;
        ops.normalize_forward = cuda_normalize;
        ops.destroy = cuda_destroy;
        tc_cuda_train_ops(&ops);
        ops.alloc = cuda_alloc;
    }
    return &ops;
}

int setup(tc_backend *be, cuda_impl *d) {
    CUDA_CHECK(cudaSetDevice(d->device));
    CUDA_CHECK(cudaStreamCreateWithFlags(&d->stream, cudaStreamNonBlocking));
    for (int i = 0; i < TC_BACKEND_EVENTS; i++) CUDA_CHECK(cudaEventCreateWithFlags(&d->events[i], cudaEventDisableTiming));
    CUBLAS_CHECK(cublasCreate(&d->blas));
    CUBLAS_CHECK(cublasSetStream(d->blas, d->stream));
    // fp32 stays fp32 (no TF32), so GPU and CPU embeddings agree closely;
    // bf16/f16 products use the tensor cores with f32 accumulation
    CUBLAS_CHECK(cublasSetMathMode(d->blas, CUBLAS_DEFAULT_MATH));
    return 0;
}

}  // namespace

// ---------------------------------------------------------------- for the training entries (cuda_train.cuh)

cudaStream_t tc_cuda_stream_of(tc_backend *be) { return impl_of(be)->stream; }
extern "C" void *tc_cuda_stream_handle(tc_backend *be) { return (void *)impl_of(be)->stream; }
cublasHandle_t tc_cuda_blas_of(tc_backend *be) { return impl_of(be)->blas; }
int tc_cuda_select(tc_backend *be) { return use_device(be); }

void *tc_cuda_scratch(tc_backend *be, size_t bytes) {
    cuda_impl *d = impl_of(be);
    if (bytes <= d->scratch_bytes && d->scratch) return d->scratch;
    // queued work may still read the old buffer: wait for it before freeing
    if (cudaStreamSynchronize(d->stream) != cudaSuccess) {
        tc_fail("%s: %s", be->name, cudaGetErrorString(cudaGetLastError()));
        return nullptr;
    }
    cudaFree(d->scratch);
    d->scratch = nullptr;
    d->scratch_bytes = 0;
    size_t want = bytes < ((size_t)1 << 20) ? ((size_t)1 << 20) : bytes + bytes / 4;
    if (cudaMalloc(&d->scratch, want) != cudaSuccess) {
        cudaGetLastError();
        d->scratch = nullptr;
        tc_fail("%s: cannot allocate %zu MiB of GPU scratch memory", be->name, want >> 20);
        return nullptr;
    }
    d->scratch_bytes = want;
    return d->scratch;
}

extern "C" tc_backend *tc_backend_cuda_create(int device, tct_dtype dtype) {
    if (dtype != TCT_F32 && dtype != TCT_BF16 && dtype != TCT_F16) {
        tc_fail("GPU %d: element type %s is not a compute type", device, tct_dtype_name(dtype));
        return nullptr;
    }
    tc_backend *be = (tc_backend *)calloc(1, sizeof *be);
    cuda_impl *d = (cuda_impl *)calloc(1, sizeof *d);
    if (!be || !d) {
        free(be);
        free(d);
        tc_fail("out of memory");
        return nullptr;
    }
    d->device = device;
    be->ops = cuda_ops();
    be->impl = d;
    be->dtype = dtype;
    snprintf(be->name, sizeof be->name, "cuda:%d", device);
    if (setup(be, d)) {
        tc_fail_context("%s", be->name);
        cuda_destroy(be);
        return nullptr;
    }
    return be;
}
