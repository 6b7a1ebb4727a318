// Linear layers in bf16 or int8 through oneDNN's matmul (see matmul_onednn.h).
//
// The rows go in blocks of BLOCK_ROWS, each multiplied by a pool thread with
// oneDNN limited to one thread, as the fp32 path does with OpenBLAS: one set
// of threads does everything. A block's product stays in the thread's cache
// while it is scaled back, corrected for its outlier columns, activated and
// stored, four rows at a time. oneDNN picks its kernel for the CPU at
// run time (AMX, AVX-512 VNNI or BF16, AVX2); a reference kernel means the
// CPU lacks the units, and the precision is refused rather than run slowly.
// The primitives are made once per weight, at its preparation, for the
// SHAPES row counts a block can have (the last block of a product is padded
// up to a multiple of ROW_STEP rows), so that batches of any size reuse
// them; the scratchpad is the thread's own, so that threads never share one.
#include "kernels/cpu/matmul_onednn.h"

#include "common/error.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/round_bf16.h"

#if TC_HAVE_DNNL
#include <dnnl.h>
#include <dnnl_version.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if DNNL_VERSION_MAJOR != 2
#error "kernels/cpu/matmul_onednn.c is written against oneDNN 2.x (Debian 12's libdnnl-dev)"
#endif

enum { BLOCK_ROWS = TC_ONEDNN_BLOCK_ROWS, ROW_STEP = 16, SHAPES = BLOCK_ROWS / ROW_STEP };

struct tc_onednn_weight {
    const float *w;          // the backend buffer it was made from
    int IC, OC;
    // int8: the weights of input column k, (OC) f32, gathered the first time
    // k is an outlier (the same few channels stand out in block after block)
    float **column;
    float *zeros;  // (OC)
    dnnl_memory_desc_t wmd;  // the layout oneDNN wants the weights in
    void *weights;           // (IC, OC) in that layout, bf16 or s8
    float *scale;            // (OC) int8: each output channel's weight scale
    int32_t *colsum;         // (OC) int8: each channel's sum of quantized weights
    // the product of (s + 1) ROW_STEP rows, and its memory's layouts
    dnnl_primitive_t prim[SHAPES];
    dnnl_memory_desc_t src_md[SHAPES], dst_md[SHAPES], scratch_md[SHAPES];
    // each thread's memory objects (src, weights, dst, scratchpad) of each
    // shape, made on first use, pointed at the data on each call: making
    // them per block was a few percent of an int8 encode, in malloc
    dnnl_memory_t *mem;  // (threads, SHAPES, 4)
    int n_threads;
};

// int8: input columns whose magnitude passes OUTLIER_MAGNITUDE in a block of
// rows are multiplied in f32 beside the int8 product (as LLM.int8() does):
// transformers' hidden states carry a few such channels, and one of them
// in a row would otherwise set that row's scale and crush the rest.
enum { MAX_OUTLIERS = 32, WEIGHT_MAX = 127 };
#define OUTLIER_MAGNITUDE 6.0f

typedef struct {  // one pool thread's buffers, grown as needed, never shrunk
    dnnl_stream_t stream;
    void *src, *acc, *scratch;
    size_t src_bytes, acc_bytes, scratch_bytes;
    float *row_scale;
    int32_t *row_zero;
    size_t rows;
    // int8's outlier columns, multiplied in f32: where, and their values
    void *keep, *outlier_x;
    size_t keep_bytes, outlier_x_bytes;
    void *spare;  // (ROWS_AT_ONCE, OC): where the rows past a block's last go
    size_t spare_bytes;
    int outliers[MAX_OUTLIERS];  // in increasing column order
    int n_outliers;
    int failed;
    char why[200];
} thread_state;

struct tc_onednn {
    tct_dtype precision;
    dnnl_engine_t engine;
    // int8: the quantized inputs' largest value, 255, or 127 where AVX2's
    // pairwise u8 x s8 sums (no VNNI) would saturate int16 with 255 x 127 x 2.
    // Cutting the inputs rather than the weights to 7 bits: per-row inputs,
    // their outlier columns split off, lose less than per-channel weights do
    // (1000 20NG documents, all-MiniLM-L6-v2: min cosine 0.9961 with 7-bit
    // weights, 0.9971 with 7-bit inputs; classifier scores 0.9896, 0.9968).
    int input_max;
    tc_onednn_weight **items;  // each its own allocation: callers hold them across prepare()
    int n_items, cap_items;
    pthread_mutex_t column_lock;  // held while a weight column is gathered
    thread_state *threads;
    int n_threads;
};

static const char *isa_name(dnnl_cpu_isa_t isa) {
    switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "older than sse41";
    }
}

static int has_vnni(dnnl_cpu_isa_t isa) {
    return isa == dnnl_cpu_isa_avx2_vnni || isa == dnnl_cpu_isa_avx512_core_vnni ||
           isa == dnnl_cpu_isa_avx512_core_bf16 || isa == dnnl_cpu_isa_avx512_core_amx;
}

static dnnl_data_type_t src_type(tct_dtype p) { return p == TCT_BF16 ? dnnl_bf16 : dnnl_u8; }
static dnnl_data_type_t weight_type(tct_dtype p) { return p == TCT_BF16 ? dnnl_bf16 : dnnl_s8; }
static dnnl_data_type_t acc_type(tct_dtype p) { return p == TCT_BF16 ? dnnl_f32 : dnnl_s32; }

// The matmul (M, K) . (K, N) -> (M, N); weights in wmd, or any layout when NULL.
static dnnl_status_t describe_matmul(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, tct_dtype p, int M, int K,
                                     int N, const dnnl_memory_desc_t *wmd) {
    dnnl_memory_desc_t src, weights, dst;
    dnnl_dims_t src_dims = {M, K}, weight_dims = {K, N}, dst_dims = {M, N};
    dnnl_status_t s = dnnl_memory_desc_init_by_tag(&src, 2, src_dims, src_type(p), dnnl_ab);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&dst, 2, dst_dims, acc_type(p), dnnl_ab);
    if (s == dnnl_success && !wmd)
        s = dnnl_memory_desc_init_by_tag(&weights, 2, weight_dims, weight_type(p), dnnl_format_tag_any);
    if (s != dnnl_success) return s;
    dnnl_matmul_desc_t desc;
    s = dnnl_matmul_desc_init(&desc, &src, wmd ? wmd : &weights, NULL, &dst);
    if (s != dnnl_success) return s;
    dnnl_primitive_attr_t attr;
    if ((s = dnnl_primitive_attr_create(&attr)) != dnnl_success) return s;
    s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (s == dnnl_success) s = dnnl_primitive_desc_create(pd, &desc, attr, engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    return s;
}

static const char *impl_name(dnnl_primitive_desc_t pd) {
    const char *name = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success || !name) return "?";
    return name;
}

// The kernel oneDNN picks for a BERT-sized product in p, into impl (size n):
// 0 when it is a real one, -1 when only the reference code would run.
static int probe_kernel(tct_dtype p, char *impl, size_t n) {
    dnnl_engine_t engine;
    snprintf(impl, n, "none");
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) return -1;
    dnnl_primitive_desc_t pd;
    int rc = -1;
    if (describe_matmul(&pd, engine, p, 128, 384, 384, NULL) == dnnl_success) {
        snprintf(impl, n, "%s", impl_name(pd));
        rc = strncmp(impl, "ref", 3) ? 0 : -1;
        dnnl_primitive_desc_destroy(pd);
    }
    dnnl_engine_destroy(engine);
    return rc;
}

int tc_onednn_supported(tct_dtype precision, char *why, size_t n) {
    if (precision != TCT_BF16 && precision != TCT_I8) {
        snprintf(why, n, "oneDNN computes bf16 or int8 here, not %s", tct_dtype_name(precision));
        return -1;
    }
    char impl[128];
    if (probe_kernel(precision, impl, sizeof impl) == 0) return 0;
    const char *isa = isa_name(dnnl_get_effective_cpu_isa());
    if (precision == TCT_BF16)
        snprintf(why, n,
                 "this CPU lacks avx512_core, avx512_bf16 and amx_bf16, which oneDNN needs for bf16 (it has %s; "
                 "oneDNN offers %s)",
                 isa, strcmp(impl, "none") ? "only its slow reference code" : "no bf16 matmul at all");
    else
        snprintf(why, n, "this CPU lacks avx2, which oneDNN needs for int8 (it has %s; oneDNN offers %s)", isa,
                 strcmp(impl, "none") ? "only its slow reference code" : "no int8 matmul at all");
    return -1;
}

int tc_onednn_native_bf16(void) {
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    char why[300];
    return (isa == dnnl_cpu_isa_avx512_core_bf16 || isa == dnnl_cpu_isa_avx512_core_amx) &&
           tc_onednn_supported(TCT_BF16, why, sizeof why) == 0;
}

void tc_onednn_describe(tct_dtype precision, char *text, size_t n) {
    char impl[128];
    probe_kernel(precision, impl, sizeof impl);
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    const dnnl_version_t *v = dnnl_version();
    snprintf(text, n, "%s through oneDNN %d.%d.%d on %s (kernel %s%s)", precision == TCT_BF16 ? "bf16" : "int8",
             v->major, v->minor, v->patch, isa_name(isa), impl,
             precision == TCT_I8 && !has_vnni(isa) ? "; no VNNI: inputs at 7 bits" : "");
}

tc_onednn *tc_onednn_create(tct_dtype precision, int threads) {
    char why[300];
    if (tc_onednn_supported(precision, why, sizeof why)) {
        tc_fail("%s", why);
        return NULL;
    }
    tc_onednn *d = tc_calloc(1, sizeof *d);
    if (!d) return NULL;
    // the pool's threads are the parallelism: an OpenMP team of more than
    // one would only wait, spinning, on cores the pool uses
    omp_set_num_threads(1);
    pthread_mutex_init(&d->column_lock, NULL);
    d->precision = precision;
    d->input_max = has_vnni(dnnl_get_effective_cpu_isa()) ? 255 : 127;
    d->n_threads = threads;
    d->threads = tc_calloc((size_t)threads, sizeof *d->threads);
    if (!d->threads || dnnl_engine_create(&d->engine, dnnl_cpu, 0) != dnnl_success) {
        if (d->threads) tc_fail("oneDNN: no CPU engine");
        free(d->threads);
        free(d);
        return NULL;
    }
    for (int t = 0; t < threads; t++)
        if (dnnl_stream_create(&d->threads[t].stream, d->engine, dnnl_stream_default_flags) != dnnl_success) {
            tc_fail("oneDNN: cannot create a stream");
            tc_onednn_destroy(d);
            return NULL;
        }
    return d;
}

int tc_onednn_input_max(const tc_onednn *d) { return d->input_max; }

static void weight_free(tc_onednn_weight *p) {
    for (int i = 0; i < SHAPES; i++)
        if (p->prim[i]) dnnl_primitive_destroy(p->prim[i]);
    for (int i = 0; p->mem && i < p->n_threads * SHAPES * 4; i++)
        if (p->mem[i]) dnnl_memory_destroy(p->mem[i]);
    free(p->mem);
    free(p->weights);
    free(p->scale);
    free(p->colsum);
    for (int k = 0; p->column && k < p->IC; k++) free(p->column[k]);
    free(p->column);
    free(p->zeros);
    free(p);
}

void tc_onednn_destroy(tc_onednn *d) {
    if (!d) return;
    for (int i = 0; i < d->n_items; i++) weight_free(d->items[i]);
    free(d->items);
    for (int t = 0; t < d->n_threads; t++) {
        thread_state *s = &d->threads[t];
        if (s->stream) dnnl_stream_destroy(s->stream);
        free(s->src), free(s->acc), free(s->scratch), free(s->row_scale), free(s->row_zero);
        free(s->keep), free(s->outlier_x), free(s->spare);
    }
    free(d->threads);
    if (d->engine) dnnl_engine_destroy(d->engine);
    pthread_mutex_destroy(&d->column_lock);
    free(d);
}

void tc_onednn_forget(tc_onednn *d, const void *w) {
    for (int i = 0; d && i < d->n_items; i++)
        if (d->items[i]->w == w) {
            weight_free(d->items[i]);
            d->items[i] = d->items[--d->n_items];
            return;
        }
}

// The weights (OC, IC) f32 as a (IC, OC) tensor of the reduced type in
// oneDNN's layout "ba" (the same bytes as (OC, IC) row-major); int8 with
// per-channel scales and sums.
static void *reduce_weights(const tc_onednn *d, tc_onednn_weight *p) {
    size_t n = (size_t)p->IC * (size_t)p->OC;
    if (d->precision == TCT_BF16) {
        uint16_t *b = tc_malloc_array(n, 2);
        if (b) tc_cpu_round_bf16(b, p->w, n);
        return b;
    }
    int8_t *q = tc_malloc_array(n, 1);
    p->scale = tc_malloc_array((size_t)p->OC, sizeof *p->scale);
    p->colsum = tc_malloc_array((size_t)p->OC, sizeof *p->colsum);
    p->column = calloc((size_t)p->IC, sizeof *p->column);
    p->zeros = calloc((size_t)p->OC, sizeof *p->zeros);
    if (!q || !p->scale || !p->colsum || !p->column || !p->zeros) {
        free(q);
        return NULL;
    }
    for (int o = 0; o < p->OC; o++) {
        const float *row = p->w + (size_t)o * (size_t)p->IC;
        float top = 0;
        for (int i = 0; i < p->IC; i++) {  // not fmaxf: a library call where NaN rules apply
            float v = fabsf(row[i]);
            top = v > top ? v : top;
        }
        float scale = top > 0 ? top / (float)WEIGHT_MAX : 1.0f, inverse = 1.0f / scale;
        int32_t sum = 0;
        for (int i = 0; i < p->IC; i++) {
            int8_t v = (int8_t)lrintf(row[i] * inverse);
            q[(size_t)o * (size_t)p->IC + (size_t)i] = v;
            sum += v;
        }
        p->scale[o] = scale;
        p->colsum[o] = sum;
    }
    return q;
}

// Reorders the reduced weights into the layout oneDNN's kernel asks for.
static int reorder_weights(tc_onednn *d, tc_onednn_weight *p, void *plain) {
    dnnl_memory_desc_t from;
    dnnl_dims_t dims = {p->IC, p->OC};
    dnnl_primitive_desc_t pd = NULL, rpd = NULL;
    dnnl_primitive_t reorder = NULL;
    dnnl_memory_t src = NULL, dst = NULL;
    int rc = -1;
    if (dnnl_memory_desc_init_by_tag(&from, 2, dims, weight_type(d->precision), dnnl_ba) != dnnl_success ||
        describe_matmul(&pd, d->engine, d->precision, 256, p->IC, p->OC, NULL) != dnnl_success)
        return tc_fail("oneDNN: no %s matmul for %d x %d weights", tct_dtype_name(d->precision), p->OC, p->IC);
    p->wmd = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    p->weights = aligned_alloc(64, (dnnl_memory_desc_get_size(&p->wmd) + 63) / 64 * 64);
    if (!p->weights) tc_fail("out of memory (weights for oneDNN)");
    else if (dnnl_memory_create(&src, &from, d->engine, plain) == dnnl_success &&
             dnnl_memory_create(&dst, &p->wmd, d->engine, p->weights) == dnnl_success &&
             dnnl_reorder_primitive_desc_create(&rpd, &from, d->engine, &p->wmd, d->engine, NULL) == dnnl_success &&
             dnnl_primitive_create(&reorder, rpd) == dnnl_success) {
        dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}};
        if (dnnl_primitive_execute(reorder, d->threads[0].stream, 2, args) == dnnl_success &&
            dnnl_stream_wait(d->threads[0].stream) == dnnl_success)
            rc = 0;
    }
    if (rc && p->weights) tc_fail("oneDNN: cannot reorder %d x %d weights", p->OC, p->IC);
    if (reorder) dnnl_primitive_destroy(reorder);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    if (src) dnnl_memory_destroy(src);
    if (dst) dnnl_memory_destroy(dst);
    dnnl_primitive_desc_destroy(pd);
    return rc;
}

// The primitives of every block shape for the prepared weights.
static int make_primitives(tc_onednn *d, tc_onednn_weight *p) {
    for (int i = 0; i < SHAPES; i++) {
        int M = (i + 1) * ROW_STEP;
        dnnl_primitive_desc_t pd;
        if (describe_matmul(&pd, d->engine, d->precision, M, p->IC, p->OC, &p->wmd) != dnnl_success)
            return tc_fail("oneDNN: no matmul of %d rows for %d x %d weights", M, p->OC, p->IC);
        p->src_md[i] = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
        p->dst_md[i] = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
        const dnnl_memory_desc_t *scratch = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        if (scratch) p->scratch_md[i] = *scratch;
        dnnl_status_t st = dnnl_primitive_create(&p->prim[i], pd);
        dnnl_primitive_desc_destroy(pd);
        if (st != dnnl_success) return tc_fail("oneDNN: cannot make a matmul of %d x %d x %d", M, p->IC, p->OC);
    }
    return 0;
}

// The prepared copy of w, made on first use.
static tc_onednn_weight *prepare(tc_onednn *d, const float *w, int IC, int OC) {
    for (int i = 0; i < d->n_items; i++)
        if (d->items[i]->w == w && d->items[i]->IC == IC && d->items[i]->OC == OC) return d->items[i];
    if (d->n_items == d->cap_items) {
        int cap = d->cap_items ? 2 * d->cap_items : 32;
        tc_onednn_weight **grown = realloc(d->items, (size_t)cap * sizeof *grown);
        if (!grown) {
            tc_fail("out of memory (oneDNN weights table)");
            return NULL;
        }
        d->items = grown, d->cap_items = cap;
    }
    tc_onednn_weight *p = tc_calloc(1, sizeof *p);
    if (!p) return NULL;
    *p = (tc_onednn_weight){.w = w, .IC = IC, .OC = OC, .n_threads = d->n_threads};
    void *plain = reduce_weights(d, p);
    p->mem = tc_calloc((size_t)d->n_threads * SHAPES * 4, sizeof *p->mem);
    int rc = plain && p->mem ? reorder_weights(d, p, plain) : tc_fail("out of memory (%d x %d weights)", OC, IC);
    free(plain);
    if (rc == 0) rc = make_primitives(d, p);
    if (rc) {
        weight_free(p);
        return NULL;
    }
    d->items[d->n_items++] = p;
    return p;
}

static int grow_rows(thread_state *s, size_t rows) {
    if (rows <= s->rows) return 0;
    free(s->row_scale), free(s->row_zero);
    s->row_scale = malloc(rows * sizeof *s->row_scale);
    s->row_zero = malloc(rows * sizeof *s->row_zero);
    s->rows = s->row_scale && s->row_zero ? rows : 0;
    return s->rows ? 0 : -1;
}

// Floats as int32 keys in the same order (for non-NaN values): integer
// minima and maxima vectorize where float ones, under trapping math, do not.
static inline int32_t order_key(float v) {
    int32_t b;
    memcpy(&b, &v, sizeof b);
    return b ^ (int32_t)((uint32_t)(b >> 31) & 0x7fffffffu);
}

static inline float key_value(int32_t k) {
    int32_t b = k ^ (int32_t)((uint32_t)(k >> 31) & 0x7fffffffu);
    float v;
    memcpy(&v, &b, sizeof v);
    return v;
}

// The range of a row without the columns where keep[k] is 0 (they are
// multiplied apart); it holds zero, so that zero is exact.
static void row_range(const float *row, const float *keep, int K, float *lo, float *hi) {
    int32_t l = 0, h = 0;
    for (int k = 0; k < K; k++) {
        int32_t v = order_key(row[k] * keep[k]);
        l = v < l ? v : l;
        h = v > h ? v : h;
    }
    *lo = key_value(l), *hi = key_value(h);
}

// Rows (M, K) as u8 in [0, top], each with its own scale and zero point:
// x ~ scale (q - zero). The outlier columns (keep[k] 0) count as zero: they
// are quantized with the rest, then set to the zero point, which is what
// zero quantizes to (the loop vectorizes better without keep). The clamps
// are written as maxps and minps compute them, so that they become those.
static void quantize_rows(const float *x, const float *keep, const int *outliers, int n_outliers, int M, int K,
                          float top, uint8_t *q, float *scale, int32_t *zero) {
    for (int m = 0; m < M; m++) {
        const float *row = x + (size_t)m * (size_t)K;
        float lo, hi;
        row_range(row, keep, K, &lo, &hi);
        float s = hi > lo ? (hi - lo) / top : 1.0f, inverse = 1.0f / s;
        float z = rintf(-lo * inverse);
        z = z < 0 ? 0 : z > top ? top : z;
        uint8_t *out = q + (size_t)m * (size_t)K;
        for (int k = 0; k < K; k++) {
            float v = row[k] * inverse + z + 0.5f;
            v = v > 0.0f ? v : 0.0f;
            v = v < top ? v : top;
            out[k] = (uint8_t)(int32_t)v;
        }
        for (int i = 0; i < n_outliers; i++) out[outliers[i]] = (uint8_t)z;
        scale[m] = s, zero[m] = (int32_t)z;
    }
}

typedef struct {
    tc_onednn *d;
    const tc_onednn_weight *p;
    float *out, *pre;
    uint16_t *out16;  // or the product rounded to bf16 here
    const float *inp, *bias;
    int N;
    tc_activation act;
} matmul_job;

// The product of the block's rows in the thread's buffers: s->acc (M, OC)
// = src . weights, M a multiple of ROW_STEP.
static int multiply(tc_onednn *d, const tc_onednn_weight *p, thread_state *s, int thread, int M) {
    int shape = M / ROW_STEP - 1;
    size_t scratch_bytes = dnnl_memory_desc_get_size(&p->scratch_md[shape]);
    dnnl_memory_t *mem = p->mem + ((size_t)thread * SHAPES + (size_t)shape) * 4;
    const dnnl_memory_desc_t *md[4] = {&p->src_md[shape], &p->wmd, &p->dst_md[shape], &p->scratch_md[shape]};
    void *data[4] = {s->src, p->weights, s->acc, s->scratch};
    int used = scratch_bytes ? 4 : 3;
    if (tc_cpu_grow(&s->scratch, &s->scratch_bytes, scratch_bytes ? scratch_bytes : 64)) {
        snprintf(s->why, sizeof s->why, "out of memory (oneDNN scratchpad, %zu bytes)", scratch_bytes);
        return -1;
    }
    data[3] = s->scratch;
    for (int i = 0; i < used; i++)
        if ((!mem[i] && dnnl_memory_create(&mem[i], md[i], d->engine, DNNL_MEMORY_NONE) != dnnl_success) ||
            dnnl_memory_set_data_handle(mem[i], data[i]) != dnnl_success) {
            snprintf(s->why, sizeof s->why, "oneDNN: cannot set up a matmul of %d x %d x %d", M, p->IC, p->OC);
            return -1;
        }
    dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, mem[0]}, {DNNL_ARG_WEIGHTS, mem[1]}, {DNNL_ARG_DST, mem[2]},
                              {DNNL_ARG_SCRATCHPAD, mem[3]}};
    if (dnnl_primitive_execute(p->prim[shape], s->stream, used, args) != dnnl_success ||
        dnnl_stream_wait(s->stream) != dnnl_success) {
        snprintf(s->why, sizeof s->why, "oneDNN: a matmul of %d x %d x %d failed", M, p->IC, p->OC);
        return -1;
    }
    return 0;
}

// Rows m .. m + rows - 1 (rows <= ROWS_AT_ONCE) of the block's product,
// scaled back to f32 into o[r], plus bias, plus the outlier columns' f32
// products (int8). The rows go together so that each column's scale, sum,
// bias and outlier weights are loaded once for all of them: with the
// outliers, loads rather than arithmetic were the cost.
enum { ROWS_AT_ONCE = 4, OUTLIERS_AT_ONCE = 4 };

static void scale_back_bf16(const tc_onednn_weight *p, const thread_state *s, float *const o[], const float *bias,
                            int m, int rows) {
    for (int r = 0; r < rows; r++) {
        const float *acc = (const float *)s->acc + (size_t)(m + r) * (size_t)p->OC;
        if (bias)
            for (int n = 0; n < p->OC; n++) o[r][n] = acc[n] + bias[n];
        else
            memcpy(o[r], acc, (size_t)p->OC * sizeof(float));
    }
}

// Outlier columns i .. i + 3 (their weights, f32) and their values in rows
// m .. m + 3; a missing row or outlier: a zero weight column and zero values.
typedef struct {
    const float *w[OUTLIERS_AT_ONCE];
    float x[ROWS_AT_ONCE][OUTLIERS_AT_ONCE];
} outlier_group;

static void load_outliers(const tc_onednn_weight *p, const thread_state *s, int m, int rows, int i, outlier_group *g) {
    int n_out = s->n_outliers;
    const float *ox = (const float *)s->outlier_x + (size_t)m * (size_t)n_out + (size_t)i;  // (rows, n_out)
    for (int u = 0; u < OUTLIERS_AT_ONCE; u++) {
        int in = i + u < n_out;
        g->w[u] = in ? __atomic_load_n(&p->column[s->outliers[i + u]], __ATOMIC_ACQUIRE) : p->zeros;
        for (int r = 0; r < ROWS_AT_ONCE; r++)
            g->x[r][u] = in && r < rows ? ox[(size_t)r * (size_t)n_out + (size_t)u] : 0.0f;
    }
}

#define OUTLIER_SUM(r) \
    (g.x[r][0] * w0[n] + g.x[r][1] * w1[n] + g.x[r][2] * w2[n] + g.x[r][3] * w3[n])
#define SCALED(r, a) (rs[r] * sc[n] * (float)(a[n] - rz[r] * cs[n]) + b[n])
#define FOUR_ROWS(assign) \
    o0[n] = assign(0, a0), o1[n] = assign(1, a1), o2[n] = assign(2, a2), o3[n] = assign(3, a3)
#define OUTLIERS_FIRST(r, a) OUTLIER_SUM(r)
#define OUTLIERS_MORE(r, a) o##r[n] + OUTLIER_SUM(r)
#define SCALED_ONLY(r, a) SCALED(r, a)
#define SCALED_OUTLIERS_FIRST(r, a) OUTLIER_SUM(r) + SCALED(r, a)
#define SCALED_OUTLIERS_MORE(r, a) (o##r[n] + OUTLIER_SUM(r)) + SCALED(r, a)

// Every group of outliers but the last is added in a pass of its own; the
// last (with MiniLM, nearly always the only one: 1 to 4 columns) in the
// scale-back's pass, which saves writing the rows and reading them back.
// The order of sums is the same either way: ((o + outliers) + scaled).
static void scale_back_rows(const tc_onednn *d, const tc_onednn_weight *p, const thread_state *s, float *const o[],
                            const float *bias, int m, int rows) {
    if (d->precision == TCT_BF16) {
        scale_back_bf16(p, s, o, bias, m, rows);
        return;
    }
    int OC = p->OC, n_out = s->n_outliers, last = n_out ? (n_out - 1) / OUTLIERS_AT_ONCE * OUTLIERS_AT_ONCE : 0;
    const int32_t *acc = (const int32_t *)s->acc + (size_t)m * (size_t)OC;  // rows past the block's are padding
    const float *restrict sc = p->scale, *restrict b = bias ? bias : p->zeros;
    const int32_t *restrict cs = p->colsum, *restrict a0 = acc, *restrict a1 = a0 + OC, *restrict a2 = a1 + OC,
                            *restrict a3 = a2 + OC;
    float rs[ROWS_AT_ONCE] = {0};
    int32_t rz[ROWS_AT_ONCE] = {0};
    for (int r = 0; r < rows; r++) rs[r] = s->row_scale[m + r], rz[r] = s->row_zero[m + r];
    float *restrict o0 = o[0], *restrict o1 = o[1], *restrict o2 = o[2], *restrict o3 = o[3];
    if (n_out == 0) {
#pragma omp simd
        for (int n = 0; n < OC; n++) FOUR_ROWS(SCALED_ONLY);
        return;
    }
    outlier_group g;
    for (int i = 0; i <= last; i += OUTLIERS_AT_ONCE) {
        load_outliers(p, s, m, rows, i, &g);
        const float *restrict w0 = g.w[0], *restrict w1 = g.w[1], *restrict w2 = g.w[2], *restrict w3 = g.w[3];
        if (i < last && i == 0)
#pragma omp simd
            for (int n = 0; n < OC; n++) FOUR_ROWS(OUTLIERS_FIRST);
        else if (i < last)
#pragma omp simd
            for (int n = 0; n < OC; n++) FOUR_ROWS(OUTLIERS_MORE);
        else if (i == 0)
#pragma omp simd
            for (int n = 0; n < OC; n++) FOUR_ROWS(SCALED_OUTLIERS_FIRST);
        else
#pragma omp simd
            for (int n = 0; n < OC; n++) FOUR_ROWS(SCALED_OUTLIERS_MORE);
    }
}
#undef OUTLIER_SUM
#undef SCALED
#undef FOUR_ROWS
#undef OUTLIERS_FIRST
#undef OUTLIERS_MORE
#undef SCALED_ONLY
#undef SCALED_OUTLIERS_FIRST
#undef SCALED_OUTLIERS_MORE

// Input column k's weights, (OC) f32, gathered on first use.
static int gather_column(tc_onednn *d, const tc_onednn_weight *p, int k) {
    if (__atomic_load_n(&p->column[k], __ATOMIC_ACQUIRE)) return 0;
    pthread_mutex_lock(&d->column_lock);
    float *c = p->column[k];
    if (!c && (c = tc_malloc_array((size_t)p->OC, sizeof *c))) {
        for (int o = 0; o < p->OC; o++) c[o] = p->w[(size_t)o * (size_t)p->IC + (size_t)k];
        __atomic_store_n(&p->column[k], c, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&d->column_lock);
    return c ? 0 : -1;
}

// Finds the block's outlier columns (the largest, at most MAX_OUTLIERS, in
// increasing order), sets keep, gathers their values (M, n) and makes sure
// their weights' columns are at hand.
static int split_outliers(tc_onednn *d, thread_state *s, const tc_onednn_weight *p, const float *x, int M) {
    int K = p->IC;
    size_t Kb = (size_t)K * sizeof(float);
    if (tc_cpu_grow(&s->keep, &s->keep_bytes, 2 * Kb)) return -1;
    float *keep = s->keep, *top = keep + K;
    for (int k = 0; k < K; k++) top[k] = 0;
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++) {
            float v = x[(size_t)m * (size_t)K + (size_t)k];
            v = v < 0 ? -v : v;
            top[k] = v > top[k] ? v : top[k];
        }
    s->n_outliers = 0;
    for (int k = 0; k < K; k++) {
        keep[k] = 1;
        if (!(top[k] > OUTLIER_MAGNITUDE)) continue;
        int full = s->n_outliers == MAX_OUTLIERS;
        if (full && !(top[k] > top[s->outliers[MAX_OUTLIERS - 1]])) continue;  // below every one kept
        int at = full ? MAX_OUTLIERS - 1 : s->n_outliers++;                    // full: the smallest leaves
        while (at > 0 && top[s->outliers[at - 1]] < top[k]) s->outliers[at] = s->outliers[at - 1], at--;
        s->outliers[at] = k;
    }
    int n = s->n_outliers;
    if (n == 0) return 0;
    for (int i = 1; i < n; i++)  // increasing column order: one order of sums whatever the magnitudes
        for (int at = i; at > 0 && s->outliers[at - 1] > s->outliers[at]; at--) {
            int c = s->outliers[at];
            s->outliers[at] = s->outliers[at - 1], s->outliers[at - 1] = c;
        }
    if (tc_cpu_grow(&s->outlier_x, &s->outlier_x_bytes, (size_t)M * (size_t)n * sizeof(float))) return -1;
    float *ox = s->outlier_x;
    for (int i = 0; i < n; i++)
        if (gather_column(d, p, s->outliers[i])) return -1;
    for (int i = 0; i < n; i++) keep[s->outliers[i]] = 0;
    for (int m = 0; m < M; m++)
        for (int i = 0; i < n; i++)
            ox[(size_t)m * (size_t)n + (size_t)i] = x[(size_t)m * (size_t)K + (size_t)s->outliers[i]];
    return 0;
}

// The block's rows into s->src, M rows padded with zeros to M_pad.
static int load_block(tc_onednn *d, const tc_onednn_weight *p, thread_state *s, const float *inp, int M, int M_pad) {
    size_t IC = (size_t)p->IC, elem = d->precision == TCT_BF16 ? 2 : 1;
    if (d->precision == TCT_BF16) {
        tc_cpu_round_bf16(s->src, inp, (size_t)M * IC);
    } else if (split_outliers(d, s, p, inp, M)) {
        return -1;
    } else {
        quantize_rows(inp, s->keep, s->outliers, s->n_outliers, M, p->IC, (float)d->input_max, s->src, s->row_scale,
                      s->row_zero);
    }
    memset((char *)s->src + (size_t)M * IC * elem, 0, (size_t)(M_pad - M) * IC * elem);
    return 0;
}

int tc_onednn_check_pool(const tc_onednn *d, tc_pool *pool) {
    if (tc_pool_size(pool) <= d->n_threads) return 0;
    return tc_fail("oneDNN: made for %d threads, run on %d", d->n_threads, tc_pool_size(pool));
}

const tc_onednn_weight *tc_onednn_prepare(tc_onednn *d, const float *w, int IC, int OC) {
    return prepare(d, w, IC, OC);
}

// The block's product into out (M, OC) f32, or, with out16, rounded to bf16
// into out16 (M, OC), each row through the thread's spare rows (in cache).
static int block_forward(tc_onednn *d, const tc_onednn_weight *p, int thread, float *out, uint16_t *out16,
                         float *pre, const float *inp, const float *bias, int M, tc_activation act) {
    thread_state *s = &d->threads[thread];
    int M_pad = (M + ROW_STEP - 1) / ROW_STEP * ROW_STEP;
    if (M <= 0 || s->failed) return s->failed ? -1 : 0;
    omp_set_num_threads(1);  // this thread's share only: the pool is the parallelism
    size_t IC = (size_t)p->IC, OC = (size_t)p->OC, elem = d->precision == TCT_BF16 ? 2 : 1;
    s->n_outliers = 0;
    if (tc_cpu_grow(&s->src, &s->src_bytes, BLOCK_ROWS * IC * elem) ||
        tc_cpu_grow(&s->acc, &s->acc_bytes, BLOCK_ROWS * OC * 4) ||
        tc_cpu_grow(&s->spare, &s->spare_bytes, ROWS_AT_ONCE * OC * 4) ||
        grow_rows(s, BLOCK_ROWS) || load_block(d, p, s, inp, M, M_pad)) {
        snprintf(s->why, sizeof s->why, "out of memory (oneDNN buffers for %d rows)", BLOCK_ROWS);
        s->failed = 1;
        return -1;
    }
    if (multiply(d, p, s, thread, M_pad)) {
        s->failed = 1;
        return -1;
    }
    for (int m = 0; m < M; m += ROWS_AT_ONCE) {
        int rows = M - m < ROWS_AT_ONCE ? M - m : ROWS_AT_ONCE;
        float *o[ROWS_AT_ONCE];
        for (int r = 0; r < ROWS_AT_ONCE; r++)  // a row past the block's: written to the thread's spare row
            o[r] = r < rows && !out16 ? out + (size_t)(m + r) * OC : (float *)s->spare + (size_t)r * OC;
        scale_back_rows(d, p, s, o, bias, m, rows);
        for (int r = 0; r < rows; r++) {
            if (pre) memcpy(pre + (size_t)(m + r) * OC, o[r], OC * sizeof(float));
            if (act != TC_ACT_NONE) tc_cpu_activation_inplace_fused(o[r], OC, act);
            if (out16) tc_cpu_round_bf16(out16 + (size_t)(m + r) * OC, o[r], OC);
        }
    }
    return 0;
}

int tc_onednn_block_forward(tc_onednn *d, const tc_onednn_weight *p, int thread, float *out, float *pre,
                            const float *inp, const float *bias, int M, tc_activation act) {
    return block_forward(d, p, thread, out, NULL, pre, inp, bias, M, act);
}

int tc_onednn_failure(tc_onednn *d) {
    int rc = 0;
    for (int t = 0; t < d->n_threads; t++)
        if (d->threads[t].failed) {
            d->threads[t].failed = 0;
            if (rc == 0) rc = tc_fail("%s", d->threads[t].why);
        }
    return rc;
}

static void matmul_task(void *ctx, int task, int thread) {
    const matmul_job *j = ctx;
    long begin = (long)task * BLOCK_ROWS, end = begin + BLOCK_ROWS < j->N ? begin + BLOCK_ROWS : j->N;
    size_t IC = (size_t)j->p->IC, OC = (size_t)j->p->OC;
    float *pre = j->pre ? j->pre + (size_t)begin * OC : NULL, *out = j->out ? j->out + (size_t)begin * OC : NULL;
    uint16_t *out16 = j->out16 ? j->out16 + (size_t)begin * OC : NULL;
    block_forward(j->d, j->p, thread, out, out16, pre, j->inp + (size_t)begin * IC, j->bias, (int)(end - begin),
                  j->act);
}

static int matmul_run(tc_onednn *d, tc_pool *pool, matmul_job *j, const float *w, int IC, int OC) {
    if (tc_onednn_check_pool(d, pool) || !(j->p = prepare(d, w, IC, OC))) return -1;
    tc_pool_run(pool, (j->N + BLOCK_ROWS - 1) / BLOCK_ROWS, matmul_task, j);
    return tc_onednn_failure(d);
}

int tc_onednn_matmul_forward(tc_onednn *d, tc_pool *pool, float *out, float *pre, const float *inp, const float *w,
                             const float *bias, int N, int IC, int OC, tc_activation act) {
    matmul_job j = {d, NULL, out, pre, NULL, inp, bias, N, act};
    return matmul_run(d, pool, &j, w, IC, OC);
}

int tc_onednn_matmul_forward_to_bf16(tc_onednn *d, tc_pool *pool, uint16_t *out, const float *inp, const float *w,
                                     const float *bias, int N, int IC, int OC) {
    matmul_job j = {d, NULL, NULL, NULL, out, inp, bias, N, TC_ACT_NONE};
    return matmul_run(d, pool, &j, w, IC, OC);
}
#else
#include <stdio.h>

int tc_onednn_supported(tct_dtype precision, char *why, size_t n) {
    snprintf(why, n, "this build has no oneDNN (Debian package libdnnl-dev; make deps, then rebuild)");
    return -1;
}

int tc_onednn_native_bf16(void) { return 0; }

void tc_onednn_describe(tct_dtype precision, char *text, size_t n) { snprintf(text, n, "no oneDNN in this build"); }

tc_onednn *tc_onednn_create(tct_dtype precision, int threads) {
    char why[128];
    tc_onednn_supported(precision, why, sizeof why);
    tc_fail("%s", why);
    return NULL;
}

void tc_onednn_destroy(tc_onednn *d) {}

int tc_onednn_input_max(const tc_onednn *d) { return 0; }

int tc_onednn_matmul_forward(tc_onednn *d, tc_pool *pool, float *out, float *pre, const float *inp, const float *w,
                             const float *bias, int N, int IC, int OC, tc_activation act) {
    return tc_fail("this build has no oneDNN");
}

void tc_onednn_forget(tc_onednn *d, const void *w) {}

int tc_onednn_check_pool(const tc_onednn *d, tc_pool *pool) { return tc_fail("this build has no oneDNN"); }

const tc_onednn_weight *tc_onednn_prepare(tc_onednn *d, const float *w, int IC, int OC) {
    tc_fail("this build has no oneDNN");
    return NULL;
}

int tc_onednn_block_forward(tc_onednn *d, const tc_onednn_weight *p, int thread, float *out, float *pre,
                            const float *inp, const float *bias, int M, tc_activation act) {
    return -1;
}

int tc_onednn_failure(tc_onednn *d) { return tc_fail("this build has no oneDNN"); }

int tc_onednn_matmul_forward_to_bf16(tc_onednn *d, tc_pool *pool, uint16_t *out, const float *inp, const float *w,
                                     const float *bias, int N, int IC, int OC) {
    return tc_fail("this build has no oneDNN");
}
#endif
