// Shared pieces of the GPU tests: whether a GPU is there, moving f32 data
// in and out of a backend, and rounding host data to a 16-bit type so the
// CPU reference sees the same inputs as the GPU.
#ifndef TC_TESTS_GPU_CHECK_H
#define TC_TESTS_GPU_CHECK_H

#include "tests/harness.h"
#include "tests/ensure.h"
#include "common/error.h"
#include "kernels/backend.h"
#include "kernels/cuda/device.h"

#include <stdint.h>

// Skips the case when no GPU is visible.
#define NEED_GPU()                                                          \
    do {                                                                    \
        char why_[256] = "";                                                \
        if (tc_cuda_device_count(why_, sizeof why_) < 1) SKIP("no GPU: %s", why_); \
    } while (0)

static const tct_dtype gpu_dtypes[3] = {TCT_F32, TCT_BF16, TCT_F16};

static inline const char *dtype_label(tct_dtype t) { return t == TCT_F32 ? "fp32" : t == TCT_BF16 ? "bf16" : "fp16"; }

// Rounds n values to what `dtype` stores (no-op for f32).
static inline void round_to(tct_dtype dtype, float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (dtype == TCT_BF16) x[i] = tct_bf16_to_f32(tct_f32_to_bf16(x[i]));
        else if (dtype == TCT_F16) x[i] = tct_f16_to_f32(tct_f32_to_f16(x[i]));
    }
}

// A backend buffer holding host values (converted to the backend's type).
static inline void *gpu_put(tc_backend *be, const float *host, size_t n) {
    void *d = be->ops->alloc(be, (n ? n : 1) * tc_backend_dtype_size(be));
    if (d && n && be->ops->upload_f32(be, d, host, n)) return NULL;
    return d;
}

// Raw bytes (int32 ids, offsets) into a backend buffer.
static inline void *gpu_put_raw(tc_backend *be, const void *host, size_t bytes) {
    void *d = be->ops->alloc(be, bytes ? bytes : 4);
    if (d && bytes && (be->ops->upload(be, d, host, bytes) || be->ops->synchronize(be))) return NULL;
    return d;
}

// n values of a backend buffer as f32 on the host (malloc'd), or NULL.
static inline float *gpu_get(tc_backend *be, const void *dev, size_t n) {
    float *host = malloc((n ? n : 1) * sizeof(float));
    float *tmp = be->ops->alloc(be, (n ? n : 1) * sizeof(float));
    int rc = !host || !tmp || be->ops->to_f32(be, tmp, dev, n) || be->ops->download(be, host, tmp, n * sizeof(float)) ||
             be->ops->synchronize(be);
    if (tmp) be->ops->free(be, tmp);
    if (rc) {
        printf("  gpu_get: %s\n", tc_error());
        free(host);
        return NULL;
    }
    return host;
}

// f32 statistics (mean, rstd) come back as they are.
static inline float *gpu_get_f32(tc_backend *be, const float *dev, size_t n) {
    float *host = malloc((n ? n : 1) * sizeof(float));
    if (!host || be->ops->download(be, host, dev, n * sizeof(float)) || be->ops->synchronize(be)) {
        free(host);
        return NULL;
    }
    return host;
}

// Tolerances of a GPU result against the f32 CPU reference, for values of
// magnitude about 1: f32 tight; bf16 (8 mantissa bits) and f16 (11) by the
// rounding of the stored result plus a little of their inputs'.
static inline double gpu_atol(tct_dtype t) { return t == TCT_F32 ? 2e-5 : t == TCT_BF16 ? 3e-2 : 4e-3; }
static inline double gpu_rtol(tct_dtype t) { return t == TCT_F32 ? 1e-4 : t == TCT_BF16 ? 2e-2 : 3e-3; }

// Runs an attention check over the shapes that matter (one token, odd head
// counts, a head size of 7, MiniLM's shape, every position up to 512) for
// each compute type.
typedef void attention_check(tc_backend *be, int B, const int *lengths, int C, int NH);
static inline void check_attention_shapes(attention_check *check) {
    int one[] = {1}, mixed[] = {5, 1, 17, 2, 9}, longest[] = {512, 300, 7}, many[64];
    for (int b = 0; b < 64; b++) many[b] = 1 + (b * 37) % 130;
    for (int k = 0; k < 3; k++) {
        tc_backend *be = tc_backend_cuda_create(0, gpu_dtypes[k]);
        ENSURE(be);
        check(be, 1, one, 8, 2);
        check(be, 5, mixed, 24, 3);
        check(be, 5, mixed, 35, 5);
        check(be, 64, many, 384, 12);
        check(be, 3, longest, 64, 2);
        tc_backend_destroy(be);
    }
}

#endif
