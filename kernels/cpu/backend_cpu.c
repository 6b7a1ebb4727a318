// The CPU backend: host memory, f32, the operations of kernels/cpu/*.c on a
// thread pool. OpenBLAS is switched to one thread per call: the pool's
// threads each multiply their own block of rows, so a single set of
// threads does everything and OpenBLAS's own never compete with it.
#include "common/error.h"
#include "common/threadpool.h"
#include "kernels/backend.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/backend_cpu_train.h"
#include "kernels/cpu/matmul_onednn.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ONEDNN(be) (((tc_cpu_impl *)(be)->impl)->onednn)

static void *cpu_alloc(tc_backend *be, size_t bytes) {
    size_t rounded = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (!p) {
        tc_fail("out of memory (%zu bytes)", bytes);
        return NULL;
    }
    memset(p, 0, rounded);
    return p;
}

static void cpu_free(tc_backend *be, void *p) {
    if (ONEDNN(be)) tc_onednn_forget(ONEDNN(be), p);
    free(p);
}

static int cpu_copy(tc_backend *be, void *dst, const void *src, size_t bytes) {
    if (dst != src && bytes) memcpy(dst, src, bytes);
    return 0;
}

static int cpu_upload_f32(tc_backend *be, void *dst, const float *src, size_t n) {
    return cpu_copy(be, dst, src, n * sizeof(float));
}

static int cpu_to_f32(tc_backend *be, float *dst, const void *src, size_t n) {
    return cpu_copy(be, dst, src, n * sizeof(float));
}

static int cpu_nothing(tc_backend *be) { return 0; }
static int cpu_event(tc_backend *be, int slot) { return 0; }

static int cpu_embeddings(tc_backend *be, void *out, const int32_t *ids, const int32_t *pos, const int32_t *types,
                          const void *wte, const void *wpe, const void *wtt, int N, int C) {
    tc_cpu_embeddings_forward(POOL(be), out, ids, pos, types, wte, wpe, wtt, N, C);
    return 0;
}

static int cpu_layernorm(tc_backend *be, void *out, float *mean, float *rstd, void *sum, const void *inp,
                         const void *residual, const void *w, const void *b, float eps, int N, int C) {
    tc_cpu_layernorm_forward(POOL(be), out, mean, rstd, sum, inp, residual, w, b, eps, N, C);
    return 0;
}

static int cpu_matmul(tc_backend *be, void *out, void *pre, const void *inp, const void *w, const void *bias, int N,
                      int IC, int OC, tc_activation act) {
    if (ONEDNN(be)) return tc_onednn_matmul_forward(ONEDNN(be), POOL(be), out, pre, inp, w, bias, N, IC, OC, act);
    tc_cpu_matmul_forward_bf16(POOL(be), BF16(be), out, pre, inp, w, bias, N, IC, OC, act);
    return tc_bf16_check(BF16(be));
}

static int cpu_activation(tc_backend *be, void *out, const void *inp, size_t n, tc_activation act) {
    tc_cpu_activation_forward(POOL(be), out, inp, n, act);
    return 0;
}

// 0, or -1 after tc_fail: heads or a position bias attention cannot use.
static int check_attention(const tc_seq_layout *layout, int C, int NH, const tc_attn_bias *bias) {
    if (C % NH) return tc_fail("attention: %d columns do not split into %d heads", C, NH);
    if (bias && bias->span < layout->T)
        return tc_fail("attention: the position bias covers %d tokens, not %d", bias->span, layout->T);
    return 0;
}

static int cpu_attention(tc_backend *be, void *out, void *att, void *scratch, const void *qkv,
                         const tc_seq_layout *layout, int C, int NH, const tc_attn_bias *bias) {
    if (check_attention(layout, C, NH, bias)) return -1;
    tc_cpu_attention_forward_bf16(POOL(be), BF16(be), out, att, scratch, qkv, layout, C, NH, bias);
    return tc_bf16_check(BF16(be));
}

static size_t cpu_attention_scratch(tc_backend *be, int B, int T, int C, int NH) {
    return tc_cpu_attention_scratch_bytes(tc_pool_size(POOL(be)), T);
}

static int cpu_pool(tc_backend *be, void *out, const void *x, const tc_seq_layout *layout, int C, tc_pooling mode) {
    tc_cpu_pool_forward(POOL(be), out, x, layout, C, mode);
    return 0;
}

static int cpu_normalize(tc_backend *be, void *out, const void *x, int B, int D) {
    tc_cpu_normalize_forward(POOL(be), out, x, B, D);
    return 0;
}

// With bf16 attention, q, k and v go from the product to attention in
// bf16, rounded while the product's rows are in cache: half the bytes
// through memory and no rounding pass over them (the same bits).
static int cpu_qkv_attention(tc_backend *be, void *out, void *qkv, void *scratch, const void *x, const void *qkv_w,
                             const void *qkv_b, const tc_seq_layout *layout, int C, int NH, const tc_attn_bias *bias) {
    if (!tc_bf16_takes_bf16(BF16(be)))
        return cpu_matmul(be, qkv, NULL, x, qkv_w, qkv_b, layout->N, C, 3 * C, TC_ACT_NONE) ||
               cpu_attention(be, out, NULL, scratch, qkv, layout, C, NH, bias);
    if (check_attention(layout, C, NH, bias) ||
        tc_onednn_matmul_forward_to_bf16(ONEDNN(be), POOL(be), qkv, x, qkv_w, qkv_b, layout->N, C, 3 * C))
        return -1;
    tc_cpu_attention_forward_from_bf16(POOL(be), BF16(be), out, qkv, layout, C, NH, bias);
    return tc_bf16_check(BF16(be));
}

static int cpu_layer_tail(tc_backend *be, void *out, const void *atty, const void *x, const tc_layer_tail *t, int N,
                          int C, int F) {
    tc_cpu_impl *impl = be->impl;
    return tc_cpu_layer_tail_forward(impl->pool, impl->onednn, impl->layer_tail, out, atty, x, t, N, C, F);
}

static void cpu_destroy(tc_backend *be) {
    tc_cpu_layer_tail_destroy(((tc_cpu_impl *)be->impl)->layer_tail);
    tc_onednn_destroy(ONEDNN(be));
    tc_bf16_destroy(BF16(be));
    tc_pool_destroy(POOL(be));
    free(be->impl);
    free(be);
}

// fp32 products (OpenBLAS) and training run the operations one by one;
// oneDNN's inference products also fuse the QKV product with attention and
// the rest of a layer after attention (kernels/cpu/layer_tail.c), where
// memory traffic between operations was the cost.
#define CPU_OPS \
    .alloc = cpu_alloc, \
    .free = cpu_free, \
    .host_alloc = cpu_alloc, \
    .host_free = cpu_free, \
    .upload = cpu_copy, \
    .download = cpu_copy, \
    .upload_f32 = cpu_upload_f32, \
    .to_f32 = cpu_to_f32, \
    .synchronize = cpu_nothing, \
    .event_record = cpu_event, \
    .event_wait = cpu_event, \
    .embeddings_forward = cpu_embeddings, \
    .layernorm_forward = cpu_layernorm, \
    .matmul_forward = cpu_matmul, \
    .activation_forward = cpu_activation, \
    .attention_forward = cpu_attention, \
    .attention_scratch_bytes = cpu_attention_scratch, \
    .pool_forward = cpu_pool, \
    .normalize_forward = cpu_normalize, \
    .destroy = cpu_destroy, \
    TC_CPU_TRAIN_OPS

static const tc_backend_ops cpu_ops = {CPU_OPS};
static const tc_backend_ops cpu_onednn_ops = {CPU_OPS, .qkv_attention_forward = cpu_qkv_attention,
                                              .layer_tail_forward = cpu_layer_tail};

// The backend; `train` asks for training's bf16 products instead of
// inference's prepared weights.
static tc_backend *cpu_create(int threads, tct_dtype precision, int train) {
    if (precision == 0) precision = TCT_F32;  // options left zeroed: the default
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    tc_backend *be = tc_calloc(1, sizeof *be);
    tc_cpu_impl *impl = tc_calloc(1, sizeof *impl);
    int reduced = precision != TCT_F32;
    char why[300];
    tc_bf16_mode mode;
    if (be && impl) impl->pool = tc_pool_create(threads);
    if (impl && impl->pool && reduced && !train) impl->onednn = tc_onednn_create(precision, threads);
    if (impl && impl->onednn) impl->layer_tail = tc_cpu_layer_tail_create(threads);
    // attention's products (scores, context) in bf16 where the CPU has bf16
    // units: at bf16, as the linear layers; at int8 too (they have no
    // weights to quantize ahead, and bf16 keeps them as accurate as fp32)
    if (impl && impl->onednn && (precision == TCT_BF16 || tc_onednn_native_bf16()))
        impl->bf16 = tc_bf16_create(TC_BF16_ONEDNN, threads);
    if (impl && impl->pool && reduced && train) {
        if (precision != TCT_BF16) tc_fail("the CPU trains in fp32 or bf16, not %s", tct_dtype_name(precision));
        else if (tc_bf16_select(&mode, why, sizeof why)) tc_fail("%s", why);
        else impl->bf16 = tc_bf16_create(mode, threads);
    }
    if (!be || !impl || !impl->pool || (reduced && !impl->onednn && !impl->bf16) ||
        (impl->onednn && (!impl->layer_tail || (precision == TCT_BF16 && !impl->bf16)))) {
        if (impl) tc_cpu_layer_tail_destroy(impl->layer_tail);
        if (impl) tc_onednn_destroy(impl->onednn);
        if (impl) tc_pool_destroy(impl->pool);
        free(impl), free(be);
        return NULL;
    }
    openblas_set_num_threads(1);
    be->impl = impl;
    be->ops = impl->onednn ? &cpu_onednn_ops : &cpu_ops;
    snprintf(be->name, sizeof be->name, "cpu");
    be->dtype = TCT_F32;  // buffers hold f32 whatever the products compute in
    be->host_memory = 1;
    be->threads = threads;
    return be;
}

tc_backend *tc_backend_cpu_create_precision(int threads, tct_dtype precision) {
    return cpu_create(threads, precision, 0);
}

tc_backend *tc_backend_cpu_create_train(int threads, tct_dtype precision) { return cpu_create(threads, precision, 1); }

tc_backend *tc_backend_cpu_create(int threads) { return cpu_create(threads, TCT_F32, 0); }
