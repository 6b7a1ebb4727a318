// bf16 matrix products with f32 accumulation (see matmul_bf16.h).
//
// Both implementations round the operands the same way (tc_cpu_round_bf16,
// nearest even, NaN kept, subnormals flushed) and the product of two bf16 values is exact in
// f32, so they differ only in the order of the f32 sums. oneDNN gets dense
// bf16 operands as they are stored (a transposed one in its "ba" layout),
// zero-padded to multiples of PAD, into a dense f32 product; alpha and beta
// are applied after it, in f32, as sgemm does.
#include "kernels/cpu/matmul_bf16.h"

#include "common/error.h"
#include "formats/tct.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/matmul_onednn.h"
#include "kernels/cpu/round_bf16.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if TC_HAVE_DNNL
#include <dnnl.h>
#include <omp.h>

enum { SHAPES = 64 };  // primitives kept per thread: a layer's few shapes, attention's lengths

typedef struct {
    int M, N, K;           // 0: free
    int a_trans, b_trans;  // the operands as stored: op(X) = X^T, oneDNN's "ba"
    int lda, ldb;          // row strides of operands already in bf16; 0: dense
    int batch, a_step, b_step;  // products of stored operands: how many, and the strides between them
    dnnl_primitive_t prim;
    dnnl_memory_t src, weights, dst, scratch;
    size_t scratch_bytes;
} shape;
#endif

enum { CALLER_BUFFERS = 4 };  // tc_bf16_buffer's slots

typedef struct {  // one pool thread's buffers, grown as needed, never shrunk
    void *a, *b, *acc, *scratch;
    size_t a_bytes, b_bytes, acc_bytes, scratch_bytes;
    void *caller[CALLER_BUFFERS];
    size_t caller_bytes[CALLER_BUFFERS];
#if TC_HAVE_DNNL
    dnnl_stream_t stream;
    shape shapes[SHAPES];
    int next_evicted;
#endif
    int failed;
    char why[200];
} thread_state;

struct tc_bf16 {
    tc_bf16_mode mode;
    int n_threads;
    thread_state *threads;
#if TC_HAVE_DNNL
    dnnl_engine_t engine;
#endif
};

int tc_bf16_select(tc_bf16_mode *mode, char *why, size_t n) {
    if (tc_onednn_supported(TCT_BF16, why, n) == 0) {
        *mode = TC_BF16_ONEDNN;
        return 0;
    }
    const char *emulate = getenv("TC_CPU_BF16_EMULATE");
    if (emulate && !strcmp(emulate, "1")) {
        *mode = TC_BF16_EMULATED;
        return 0;
    }
    return -1;
}

void tc_bf16_describe(tc_bf16_mode mode, char *text, size_t n) {
    if (mode == TC_BF16_ONEDNN) tc_onednn_describe(TCT_BF16, text, n);
    else
        snprintf(text, n, "bf16 emulated (operands rounded to bf16, then OpenBLAS sgemm: TC_CPU_BF16_EMULATE=1, "
                          "a slow checking aid)");
}

static void fail(thread_state *s, const char *why) {
    if (!s->failed) snprintf(s->why, sizeof s->why, "%s", why);
    s->failed = 1;
}

// ---------------------------------------------------------------- emulation

// The stored operand (rows, cols), row stride ld, rounded to bf16 into out
// (rows, cols) dense, kept in f32.
static void round_dense(const float *x, int rows, int cols, int ld, float *out) {
    uint16_t chunk[256];
    for (int r = 0; r < rows; r++)
        for (int c0 = 0; c0 < cols; c0 += 256) {
            int n = cols - c0 < 256 ? cols - c0 : 256;
            tc_cpu_round_bf16(chunk, x + (size_t)r * (size_t)ld + (size_t)c0, (size_t)n);
            for (int c = 0; c < n; c++) out[(size_t)r * (size_t)cols + (size_t)(c0 + c)] = tct_bf16_to_f32(chunk[c]);
        }
}

static void emulated_gemm(thread_state *s, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha,
                          const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    int a_rows = ta == CblasNoTrans ? M : K, a_cols = ta == CblasNoTrans ? K : M;
    int b_rows = tb == CblasNoTrans ? K : N, b_cols = tb == CblasNoTrans ? N : K;
    if (tc_cpu_grow(&s->a, &s->a_bytes, (size_t)M * (size_t)K * sizeof(float)) ||
        tc_cpu_grow(&s->b, &s->b_bytes, (size_t)K * (size_t)N * sizeof(float))) {
        fail(s, "out of memory (bf16 operands)");
        return;
    }
    round_dense(A, a_rows, a_cols, lda, s->a);
    round_dense(B, b_rows, b_cols, ldb, s->b);
    cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, s->a, a_cols, s->b, b_cols, beta, C, ldc);
}

// ---------------------------------------------------------------- oneDNN

#if TC_HAVE_DNNL
// Products are made in sizes rounded up to PAD, the operands padded with
// zeros (which add nothing to a sum), so that the lengths attention meets,
// and the rows of a batch, share a few primitives rather than each making
// its own.
enum { PAD = 16 };
static int padded(int n) { return (n + PAD - 1) / PAD * PAD; }

// X as stored, (rows, cols) with row stride ld, as dense bf16 (prows,
// pcols), zeros beyond. A transposed operand stays as stored: oneDNN reads
// it in the "ba" layout, so that the rounding runs along rows.
static void round_bf16(const float *x, int rows, int cols, int ld, int prows, int pcols, uint16_t *out) {
    for (int r = 0; r < rows; r++) {
        uint16_t *o = out + (size_t)r * (size_t)pcols;
        const float *row = x + (size_t)r * (size_t)ld;
        tc_cpu_round_bf16(o, row, (size_t)cols);
        for (int c = cols; c < pcols; c++) o[c] = 0;
    }
    memset(out + (size_t)rows * (size_t)pcols, 0, (size_t)(prows - rows) * (size_t)pcols * sizeof *out);
}

static void shape_free(shape *p) {
    if (p->prim) dnnl_primitive_destroy(p->prim);
    dnnl_memory_t mems[] = {p->src, p->weights, p->dst, p->scratch};
    for (int i = 0; i < 4; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    *p = (shape){0};
}

// The layout of a bf16 operand op(X) (rows, cols), X stored transposed when
// trans, rows ld apart (0: dense); batch > 0: that many of them, step apart.
static int describe_operand(dnnl_memory_desc_t *md, int rows, int cols, int trans, int ld, int batch, int step) {
    if (batch) {
        dnnl_dims_t dims = {batch, rows, cols}, strides = {step, trans ? 1 : ld, trans ? ld : 1};
        return dnnl_memory_desc_init_by_strides(md, 3, dims, dnnl_bf16, strides) == dnnl_success;
    }
    dnnl_dims_t dims = {rows, cols};
    if (!ld) return dnnl_memory_desc_init_by_tag(md, 2, dims, dnnl_bf16, trans ? dnnl_ba : dnnl_ab) == dnnl_success;
    dnnl_dims_t strides = {trans ? 1 : ld, trans ? ld : 1};
    return dnnl_memory_desc_init_by_strides(md, 2, dims, dnnl_bf16, strides) == dnnl_success;
}

// The primitive of (M, K) . (K, N) and its memory objects (no data yet).
static int shape_make(const tc_bf16 *g, shape *p, const shape *want) {
    int M = want->M, N = want->N, K = want->K;
    dnnl_memory_desc_t src, weights, dst;
    dnnl_dims_t dst_dims = {M, N}, batched_dims = {want->batch, M, N};
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_matmul_desc_t desc;
    *p = *want;
    int ok = describe_operand(&src, M, K, want->a_trans, want->lda, want->batch, want->a_step) &&
             describe_operand(&weights, K, N, want->b_trans, want->ldb, want->batch, want->b_step) &&
             (want->batch ? dnnl_memory_desc_init_by_tag(&dst, 3, batched_dims, dnnl_f32, dnnl_abc)
                          : dnnl_memory_desc_init_by_tag(&dst, 2, dst_dims, dnnl_f32, dnnl_ab)) == dnnl_success &&
             dnnl_matmul_desc_init(&desc, &src, &weights, NULL, &dst) == dnnl_success &&
             dnnl_primitive_attr_create(&attr) == dnnl_success &&
             dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) == dnnl_success &&
             dnnl_primitive_desc_create(&pd, &desc, attr, g->engine, NULL) == dnnl_success &&
             dnnl_primitive_create(&p->prim, pd) == dnnl_success &&
             dnnl_memory_create(&p->src, &src, g->engine, DNNL_MEMORY_NONE) == dnnl_success &&
             dnnl_memory_create(&p->weights, &weights, g->engine, DNNL_MEMORY_NONE) == dnnl_success &&
             dnnl_memory_create(&p->dst, &dst, g->engine, DNNL_MEMORY_NONE) == dnnl_success;
    if (ok) {
        const dnnl_memory_desc_t *scratch = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        p->scratch_bytes = scratch ? dnnl_memory_desc_get_size(scratch) : 0;
        if (p->scratch_bytes)
            ok = dnnl_memory_create(&p->scratch, scratch, g->engine, DNNL_MEMORY_NONE) == dnnl_success;
    }
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (!ok) shape_free(p);
    return ok ? 0 : -1;
}

// The thread's primitive for (M, N, K), made on first use; the oldest goes
// when all the slots are taken.
static shape *shape_for(const tc_bf16 *g, thread_state *s, const shape *want) {
    for (int i = 0; i < SHAPES; i++) {
        const shape *p = &s->shapes[i];
        if (p->M == want->M && p->N == want->N && p->K == want->K && p->a_trans == want->a_trans &&
            p->b_trans == want->b_trans && p->lda == want->lda && p->ldb == want->ldb && p->batch == want->batch &&
            p->a_step == want->a_step && p->b_step == want->b_step)
            return &s->shapes[i];
    }
    shape *p = &s->shapes[s->next_evicted];
    s->next_evicted = (s->next_evicted + 1) % SHAPES;
    shape_free(p);
    return shape_make(g, p, want) ? NULL : p;
}

// Runs the shape's product of a, b into acc; 0, or -1 after fail().
static int execute(thread_state *s, shape *p, const void *a, const void *b, float *acc) {
    dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, p->src}, {DNNL_ARG_WEIGHTS, p->weights}, {DNNL_ARG_DST, p->dst},
                              {DNNL_ARG_SCRATCHPAD, p->scratch}};
    if (tc_cpu_grow(&s->scratch, &s->scratch_bytes, p->scratch_bytes ? p->scratch_bytes : 64)) {
        fail(s, "out of memory (bf16 scratchpad)");
        return -1;
    }
    if (dnnl_memory_set_data_handle(p->src, (void *)a) != dnnl_success ||
        dnnl_memory_set_data_handle(p->weights, (void *)b) != dnnl_success ||
        dnnl_memory_set_data_handle(p->dst, acc) != dnnl_success ||
        (p->scratch && dnnl_memory_set_data_handle(p->scratch, s->scratch) != dnnl_success) ||
        dnnl_primitive_execute(p->prim, s->stream, p->scratch ? 4 : 3, args) != dnnl_success ||
        dnnl_stream_wait(s->stream) != dnnl_success) {
        char why[120];
        snprintf(why, sizeof why, "oneDNN: a bf16 matmul of %d x %d x %d failed", p->M, p->K, p->N);
        fail(s, why);
        return -1;
    }
    return 0;
}

static void onednn_gemm(const tc_bf16 *g, thread_state *s, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N,
                        int K, float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C,
                        int ldc) {
    omp_set_num_threads(1);  // this thread's share only: the pool is the parallelism
    int Mp = padded(M), Np = padded(N), Kp = padded(K);
    int a_trans = ta != CblasNoTrans, b_trans = tb != CblasNoTrans;
    shape want = {.M = Mp, .N = Np, .K = Kp, .a_trans = a_trans, .b_trans = b_trans};
    shape *p = shape_for(g, s, &want);
    if (!p) {
        char why[120];
        snprintf(why, sizeof why, "oneDNN: no bf16 matmul of %d x %d x %d", M, K, N);
        fail(s, why);
        return;
    }
    if (tc_cpu_grow(&s->a, &s->a_bytes, (size_t)Mp * (size_t)Kp * 2) ||
        tc_cpu_grow(&s->b, &s->b_bytes, (size_t)Kp * (size_t)Np * 2) ||
        tc_cpu_grow(&s->acc, &s->acc_bytes, (size_t)Mp * (size_t)Np * sizeof(float))) {
        fail(s, "out of memory (bf16 operands)");
        return;
    }
    if (a_trans) round_bf16(A, K, M, lda, Kp, Mp, s->a);  // stored (K, M)
    else round_bf16(A, M, K, lda, Mp, Kp, s->a);
    if (b_trans) round_bf16(B, N, K, ldb, Np, Kp, s->b);  // stored (N, K)
    else round_bf16(B, K, N, ldb, Kp, Np, s->b);
    if (execute(s, p, s->a, s->b, s->acc)) return;
    const float *acc = s->acc;
    for (int m = 0; m < M; m++) {
        float *c = C + (size_t)m * (size_t)ldc;
        const float *r = acc + (size_t)m * (size_t)Np;
        if (beta == 0.0f)
            for (int n = 0; n < N; n++) c[n] = alpha * r[n];
        else
            for (int n = 0; n < N; n++) c[n] = alpha * r[n] + beta * c[n];
    }
}
#endif

// ---------------------------------------------------------------- the entry

tc_bf16 *tc_bf16_create(tc_bf16_mode mode, int threads) {
    tc_bf16 *g = tc_calloc(1, sizeof *g);
    if (!g) return NULL;
    g->mode = mode;
    g->n_threads = threads < 1 ? 1 : threads;
    g->threads = tc_calloc((size_t)g->n_threads, sizeof *g->threads);
    if (!g->threads) {
        free(g);
        return NULL;
    }
    if (mode == TC_BF16_EMULATED) return g;
#if TC_HAVE_DNNL
    char why[300];
    if (tc_onednn_supported(TCT_BF16, why, sizeof why)) {
        tc_fail("%s", why);
    } else if (dnnl_engine_create(&g->engine, dnnl_cpu, 0) != dnnl_success) {
        tc_fail("oneDNN: no CPU engine");
    } else {
        int t = 0;
        while (t < g->n_threads &&
               dnnl_stream_create(&g->threads[t].stream, g->engine, dnnl_stream_default_flags) == dnnl_success)
            t++;
        if (t == g->n_threads) return g;
        tc_fail("oneDNN: cannot create a stream");
    }
#else
    tc_fail("this build has no oneDNN (Debian package libdnnl-dev; make deps, then rebuild)");
#endif
    tc_bf16_destroy(g);
    return NULL;
}

void tc_bf16_destroy(tc_bf16 *g) {
    if (!g) return;
    for (int t = 0; t < g->n_threads; t++) {
        thread_state *s = &g->threads[t];
#if TC_HAVE_DNNL
        for (int i = 0; i < SHAPES; i++) shape_free(&s->shapes[i]);
        if (s->stream) dnnl_stream_destroy(s->stream);
#endif
        free(s->a), free(s->b), free(s->acc), free(s->scratch);
        for (int i = 0; i < CALLER_BUFFERS; i++) free(s->caller[i]);
    }
    free(g->threads);
#if TC_HAVE_DNNL
    if (g->engine) dnnl_engine_destroy(g->engine);
#endif
    free(g);
}

void tc_cpu_gemm(tc_bf16 *g, int thread, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (!g) {
        cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (M <= 0 || N <= 0) return;
    if (thread < 0 || thread >= g->n_threads) {
        fail(&g->threads[0], "bf16 products: a pool thread beyond those they were made for");
        return;
    }
    thread_state *s = &g->threads[thread];
    if (K <= 0) {  // no products: C = beta C, as sgemm
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                float *c = C + (size_t)m * (size_t)ldc + (size_t)n;
                *c = beta == 0.0f ? 0.0f : beta * *c;
            }
        return;
    }
#if TC_HAVE_DNNL
    if (g->mode == TC_BF16_ONEDNN) {
        onednn_gemm(g, s, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#endif
    emulated_gemm(s, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

int tc_bf16_takes_bf16(const tc_bf16 *g) { return g && g->mode == TC_BF16_ONEDNN; }

void *tc_bf16_buffer(tc_bf16 *g, int thread, int slot, size_t bytes) {
    thread_state *s = &g->threads[thread];
    if (slot < 0 || slot >= CALLER_BUFFERS || tc_cpu_grow(&s->caller[slot], &s->caller_bytes[slot], bytes)) {
        fail(s, "out of memory (bf16 operands)");
        return NULL;
    }
    return s->caller[slot];
}

void tc_bf16_gemm_stored(tc_bf16 *g, int thread, int b_trans, int batch, int M, int N, int K, const uint16_t *A,
                         int lda, int a_step, const uint16_t *B, int ldb, int b_step, float *C) {
#if TC_HAVE_DNNL
    thread_state *s = &g->threads[thread];
    if (g->mode != TC_BF16_ONEDNN) {
        fail(s, "bf16 products of bf16 operands need oneDNN's bf16 kernel");
        return;
    }
    omp_set_num_threads(1);  // this thread's share only: the pool is the parallelism
    shape want = {.M = M, .N = N, .K = K, .b_trans = b_trans, .lda = lda, .ldb = ldb, .batch = batch,
                  .a_step = a_step, .b_step = b_step};
    shape *p = shape_for(g, s, &want);
    if (!p) {
        char why[120];
        snprintf(why, sizeof why, "oneDNN: no bf16 matmul of %d x %d x %d x %d (strides %d, %d)", batch, M, K, N, lda,
                 ldb);
        fail(s, why);
        return;
    }
    execute(s, p, A, B, C);
#else
    fail(&g->threads[thread], "this build has no oneDNN");
#endif
}

int tc_bf16_check(tc_bf16 *g) {
    int rc = 0;
    for (int t = 0; g && t < g->n_threads; t++)
        if (g->threads[t].failed) {
            g->threads[t].failed = 0;
            if (rc == 0) rc = tc_fail("%s", g->threads[t].why);
        }
    return rc;
}
