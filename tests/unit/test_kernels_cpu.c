// Every CPU operation against a plain double-precision implementation, on
// random data of several shapes, with one thread and with several (the
// results must not depend on the split).
#include "tests/harness.h"
#include "tests/ensure.h"
#include "tests/tiny_bert.h"
#include "tests/bert_reference.h"
#include "common/threadpool.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/fastmath.h"

#include <stdatomic.h>

static uint64_t rng = 12345;

static float *random_floats(size_t n, float spread) { return tiny_fill(n, &rng, 0, spread); }

static void to_float(float *dst, const double *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = (float)src[i];
}

// ---------------------------------------------------------------- thread pool

static atomic_int hits[1000];

static void count_task(void *ctx, int task, int thread) {
    (void)ctx;
    atomic_fetch_add(&hits[task], 1);
    CHECK(thread >= 0 && thread < 3);
}

static void test_pool_runs_every_task_once(void) {
    tc_pool *pool = tc_pool_create(3);
    ENSURE(pool);
    for (int round = 0; round < 50; round++) {
        int n = round * 17 % 1000;
        for (int i = 0; i < 1000; i++) atomic_store(&hits[i], 0);
        tc_pool_run(pool, n, count_task, NULL);
        for (int i = 0; i < 1000; i++) CHECKF(atomic_load(&hits[i]) == (i < n), "round %d task %d", round, i);
    }
    long covered = 0;
    int tasks = tc_pool_tasks(pool, 1001, 10);
    CHECK(tasks == 12);
    for (int t = 0; t < tasks; t++) {
        long b, e;
        tc_pool_range(1001, tasks, t, &b, &e);
        CHECK(b == covered && e >= b);
        covered = e;
    }
    CHECK(covered == 1001);
    CHECK(tc_pool_tasks(pool, 0, 10) == 0 && tc_pool_tasks(pool, 5, 10) == 1);
    tc_pool_destroy(pool);
}

// ---------------------------------------------------------------- fast math

static void test_fastmath_accuracy(void) {
    double worst_exp = 0, worst_erf = 0, worst_erf_fused = 0, worst_tanh = 0;
    for (int i = -200000; i <= 200000; i++) {
        float x = (float)i * 0.0005f;  // [-100, 100]
        double e = exp((double)x);
        if (x > -87 && x < 88) {
            double rel = fabs(tc_fast_expf(x) - e) / e;
            if (rel > worst_exp) worst_exp = rel;
            rel = fabs(tc_fast_expf_as(x, 1) - e) / e;  // multiply-adds fused (where the CPU has FMA)
            if (rel > worst_exp) worst_exp = rel;
        }
        double d = fabs(tc_fast_erff(x) - erf((double)x));
        if (d > worst_erf) worst_erf = d;
        d = fabs(tc_fast_erff_as(x, 1) - erf((double)x));  // multiply-adds fused (where the CPU has FMA)
        if (d > worst_erf_fused) worst_erf_fused = d;
        d = fabs(tc_fast_tanhf(x) - tanh((double)x));
        if (d > worst_tanh) worst_tanh = d;
    }
    for (float x = -1e-3f; x < 1e-3f; x += 1.3e-6f) {  // small arguments keep relative accuracy
        double d = fabs(tc_fast_tanhf(x) - tanh((double)x));
        CHECKF(d <= 1e-7 * fabs(x) + 1e-12, "tanh(%g) off by %g", x, d);
    }
    CHECKF(worst_exp < 2.5e-7, "exp relative error %g", worst_exp);
    CHECKF(worst_erf < 4e-7, "erf error %g", worst_erf);
    CHECKF(worst_erf_fused < 4e-7, "erf error %g with multiply-adds fused", worst_erf_fused);
    CHECKF(worst_tanh < 3e-7, "tanh error %g", worst_tanh);
    CHECK(tc_fast_expf(-1000.0f) < 1e-37f && tc_fast_expf(0.0f) == 1.0f);
    CHECK(tc_fast_erff(10.0f) == 1.0f && tc_fast_erff(-10.0f) == -1.0f);
    CHECK(tc_fast_erff_as(10.0f, 1) == 1.0f && tc_fast_erff_as(-10.0f, 1) == -1.0f);
    CHECK(tc_fast_tanhf(50.0f) == 1.0f && tc_fast_tanhf(-50.0f) == -1.0f);
}

// ---------------------------------------------------------------- embeddings

static void test_embeddings(void) {
    int V = 37, P = 19, TT = 3, C = 24, N = 50;
    float *wte = random_floats((size_t)V * C, 1), *wpe = random_floats((size_t)P * C, 1),
          *wtt = random_floats((size_t)TT * C, 1);
    int32_t ids[50], pos[50], types[50];
    for (int n = 0; n < N; n++) ids[n] = (n * 7) % V, pos[n] = n % P, types[n] = n % TT;
    float *out = calloc((size_t)N * C, 4), *ref = calloc((size_t)N * C, 4);
    for (int threads = 1; threads <= 3; threads += 2) {
        tc_pool *pool = tc_pool_create(threads);
        for (int with_types = 0; with_types < 2; with_types++) {
            tc_cpu_embeddings_forward(pool, out, ids, pos, with_types ? types : NULL, wte, wpe, wtt, N, C);
            for (int n = 0; n < N; n++)
                for (int c = 0; c < C; c++)
                    ref[n * C + c] = (float)((double)wte[ids[n] * C + c] + wpe[pos[n] * C + c] +
                                             wtt[(with_types ? types[n] : 0) * C + c]);
            CHECK_CLOSE("embeddings", out, ref, (size_t)N * C, 1e-6, 1e-6);
        }
        tc_pool_destroy(pool);
    }
    free(wte), free(wpe), free(wtt), free(out), free(ref);
}

// ---------------------------------------------------------------- layer norm

static void naive_layernorm(float *out, double *mean, double *rstd, const float *x, const float *r, const float *w,
                            const float *b, double eps, int N, int C) {
    for (int n = 0; n < N; n++) {
        double m = 0, v = 0;
        for (int c = 0; c < C; c++) m += (double)x[n * C + c] + (r ? r[n * C + c] : 0);
        m /= C;
        for (int c = 0; c < C; c++) {
            double d = (double)x[n * C + c] + (r ? r[n * C + c] : 0) - m;
            v += d * d;
        }
        v /= C;
        mean[n] = m;
        rstd[n] = 1 / sqrt(v + eps);
        for (int c = 0; c < C; c++)
            out[n * C + c] = (float)(((double)x[n * C + c] + (r ? r[n * C + c] : 0) - m) * rstd[n] * w[c] + b[c]);
    }
}

static void test_layernorm(void) {
    int shapes[][2] = {{1, 1}, {7, 13}, {33, 384}, {5, 1000}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int N = shapes[s][0], C = shapes[s][1];
        size_t nc = (size_t)N * C;
        float *x = random_floats(nc, 3), *r = random_floats(nc, 3), *w = random_floats((size_t)C, 1),
              *b = random_floats((size_t)C, 1);
        for (size_t i = 0; i < nc; i++) x[i] += 5.0f;  // an offset the two-pass variance must handle
        float *out = calloc(nc, 4), *ref = calloc(nc, 4), *sum = calloc(nc, 4), *mean = calloc((size_t)N, 4),
              *rstd = calloc((size_t)N, 4), *fm = calloc((size_t)N, 4), *fr = calloc((size_t)N, 4);
        double *dm = calloc((size_t)N, 8), *dr = calloc((size_t)N, 8);
        for (int threads = 1; threads <= 3; threads += 2) {
            tc_pool *pool = tc_pool_create(threads);
            naive_layernorm(ref, dm, dr, x, r, w, b, 1e-5, N, C);
            tc_cpu_layernorm_forward(pool, out, mean, rstd, sum, x, r, w, b, 1e-5f, N, C);
            CHECK_CLOSE("layernorm", out, ref, nc, 2e-5, 2e-5);
            to_float(fm, dm, (size_t)N);
            to_float(fr, dr, (size_t)N);
            CHECK_CLOSE("mean", mean, fm, (size_t)N, 1e-5, 1e-5);
            CHECK_CLOSE("rstd", rstd, fr, (size_t)N, 1e-5, 1e-4);
            for (size_t i = 0; i < nc; i++) CHECKF(sum[i] == x[i] + r[i], "sum[%zu]", i);
            // no residual, and the output written over the input
            naive_layernorm(ref, dm, dr, x, NULL, w, b, 1e-12, N, C);
            memcpy(out, x, nc * 4);
            tc_cpu_layernorm_forward(pool, out, NULL, NULL, NULL, out, NULL, w, b, 1e-12f, N, C);
            CHECK_CLOSE("layernorm in place", out, ref, nc, 2e-5, 2e-5);
            // the output written over the residual
            naive_layernorm(ref, dm, dr, x, r, w, b, 1e-12, N, C);
            memcpy(out, r, nc * 4);
            tc_cpu_layernorm_forward(pool, out, NULL, NULL, NULL, x, out, w, b, 1e-12f, N, C);
            CHECK_CLOSE("layernorm over residual", out, ref, nc, 2e-5, 2e-5);
            tc_pool_destroy(pool);
        }
        free(x), free(r), free(w), free(b), free(out), free(ref), free(sum), free(mean), free(rstd), free(fm), free(fr);
        free(dm), free(dr);
    }
}

// ---------------------------------------------------------------- matmul + activations

static void test_matmul(void) {
    int shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {130, 64, 48}, {257, 33, 100}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int N = shapes[s][0], IC = shapes[s][1], OC = shapes[s][2];
        float *inp = random_floats((size_t)N * IC, 2), *w = random_floats((size_t)OC * IC, 1),
              *bias = random_floats((size_t)OC, 1);
        float *out = calloc((size_t)N * OC, 4), *pre = calloc((size_t)N * OC, 4), *ref = calloc((size_t)N * OC, 4),
              *ref_pre = calloc((size_t)N * OC, 4);
        for (int threads = 1; threads <= 3; threads += 2) {
            tc_pool *pool = tc_pool_create(threads);
            for (int act = TC_ACT_NONE; act <= TC_ACT_TANH; act++)
                for (int with_bias = 0; with_bias < 2; with_bias++) {
                    for (int n = 0; n < N; n++)
                        for (int o = 0; o < OC; o++) {
                            double acc = with_bias ? bias[o] : 0;
                            for (int k = 0; k < IC; k++) acc += (double)inp[n * IC + k] * w[o * IC + k];
                            ref_pre[n * OC + o] = (float)acc;
                            ref[n * OC + o] = (float)ref_act(acc, (tc_activation)act);
                        }
                    tc_cpu_matmul_forward(pool, out, pre, inp, w, with_bias ? bias : NULL, N, IC, OC, (tc_activation)act);
                    CHECKF(harness_close("matmul", out, ref, (size_t)N * OC, 1e-5 * sqrt(IC), 1e-5),
                           "matmul %dx%dx%d act %d bias %d threads %d", N, IC, OC, act, with_bias, threads);
                    CHECK_CLOSE("matmul pre", pre, ref_pre, (size_t)N * OC, 1e-5 * sqrt(IC), 1e-5);
                }
            tc_pool_destroy(pool);
        }
        free(inp), free(w), free(bias), free(out), free(pre), free(ref), free(ref_pre);
    }
}

static void test_activation(void) {
    size_t n = 100003;
    float *x = random_floats(n, 8), *out = calloc(n, 4), *ref = calloc(n, 4);
    x[0] = 0, x[1] = -30, x[2] = 30, x[3] = 1e-30f;
    tc_pool *pool = tc_pool_create(3);
    for (int act = TC_ACT_NONE; act <= TC_ACT_TANH; act++) {
        for (size_t i = 0; i < n; i++) ref[i] = (float)ref_act(x[i], (tc_activation)act);
        tc_cpu_activation_forward(pool, out, x, n, (tc_activation)act);
        CHECKF(harness_close("activation", out, ref, n, 1.5e-6, 1e-6), "activation %d", act);
    }
    memcpy(out, x, n * 4);
    tc_cpu_activation_forward(pool, out, out, n, TC_ACT_GELU);
    for (size_t i = 0; i < n; i++) ref[i] = (float)ref_act(x[i], TC_ACT_GELU);
    CHECK_CLOSE("gelu in place", out, ref, n, 1.5e-6, 1e-6);
    tc_pool_destroy(pool);
    free(x), free(out), free(ref);
}

// ---------------------------------------------------------------- attention

// The way Hugging Face computes it: a padded (B, T) batch, scores of every
// pair, masked keys at -inf before the softmax.
static void naive_attention(float *out, double *probs, const float *qkv, const int32_t *offsets, int B, int T, int C,
                            int NH) {
    int HS = C / NH;
    double *s = malloc((size_t)T * sizeof *s);
    for (int b = 0; b < B; b++) {
        int L = offsets[b + 1] - offsets[b];
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < L; i++) {
                const float *q = qkv + (size_t)(offsets[b] + i) * 3 * C + h * HS;
                double mx = -INFINITY, sum = 0;
                for (int j = 0; j < T; j++) {
                    if (j >= L) {  // masked: a padding key
                        s[j] = -INFINITY;
                        continue;
                    }
                    const float *k = qkv + (size_t)(offsets[b] + j) * 3 * C + C + h * HS;
                    double d = 0;
                    for (int e = 0; e < HS; e++) d += (double)q[e] * k[e];
                    s[j] = d / sqrt(HS);
                    if (s[j] > mx) mx = s[j];
                }
                for (int j = 0; j < T; j++) sum += s[j] = exp(s[j] - mx);
                for (int j = 0; j < T; j++) probs[(((size_t)b * NH + h) * T + i) * T + j] = s[j] / sum;
                for (int e = 0; e < HS; e++) {
                    double y = 0;
                    for (int j = 0; j < L; j++) y += s[j] / sum * qkv[(size_t)(offsets[b] + j) * 3 * C + 2 * C + h * HS + e];
                    out[(size_t)(offsets[b] + i) * C + h * HS + e] = (float)y;
                }
            }
    }
    free(s);
}

static void check_attention(int B, const int *lengths, int C, int NH, int threads) {
    int32_t offsets[64] = {0};
    int T = 0;
    for (int b = 0; b < B; b++) {
        offsets[b + 1] = offsets[b] + lengths[b];
        if (lengths[b] > T) T = lengths[b];
    }
    int N = offsets[B];
    float *qkv = random_floats((size_t)N * 3 * C, 2.5f);
    float *out = calloc((size_t)N * C, 4), *ref = calloc((size_t)N * C, 4);
    size_t att_n = (size_t)B * NH * T * T;
    float *att = malloc(att_n * 4), *ref_att = calloc(att_n, 4);
    double *probs = calloc(att_n, 8);
    for (size_t i = 0; i < att_n; i++) att[i] = NAN;  // every entry must be written
    tc_pool *pool = tc_pool_create(threads);
    float *scratch = malloc(tc_cpu_attention_scratch_bytes(threads, T));
    tc_seq_layout layout = {B, T, N, offsets, offsets};
    naive_attention(ref, probs, qkv, offsets, B, T, C, NH);
    to_float(ref_att, probs, att_n);
    tc_cpu_attention_forward(pool, out, NULL, scratch, qkv, &layout, C, NH, NULL);
    CHECKF(harness_close("attention", out, ref, (size_t)N * C, 2e-6, 1e-5), "B %d C %d NH %d threads %d", B, C, NH, threads);
    memset(out, 0, (size_t)N * C * 4);
    tc_cpu_attention_forward(pool, out, att, scratch, qkv, &layout, C, NH, NULL);
    CHECK_CLOSE("attention (probabilities kept)", out, ref, (size_t)N * C, 2e-6, 1e-5);
    CHECK_CLOSE("probabilities", att, ref_att, att_n, 1e-6, 1e-5);
    tc_pool_destroy(pool);
    free(qkv), free(out), free(ref), free(att), free(ref_att), free(probs), free(scratch);
}

static void test_attention(void) {
    int one[] = {1}, mixed[] = {5, 1, 17, 2, 9}, full[] = {12, 12, 12};
    for (int threads = 1; threads <= 3; threads += 2) {
        check_attention(1, one, 8, 2, threads);
        check_attention(5, mixed, 24, 3, threads);   // odd head count, HS 8
        check_attention(5, mixed, 35, 5, threads);   // HS 7
        check_attention(3, full, 64, 4, threads);
    }
    int many[40];
    for (int b = 0; b < 40; b++) many[b] = 1 + (b * 37) % 70;
    check_attention(40, many, 48, 12, 3);  // MiniLM's head size 4, long rows
}

// ---------------------------------------------------------------- pooling + normalize

static void test_pooling(void) {
    int B = 6, C = 20, lengths[6] = {1, 4, 9, 2, 30, 3};
    int32_t offsets[7] = {0};
    for (int b = 0; b < B; b++) offsets[b + 1] = offsets[b] + lengths[b];
    int N = offsets[B];
    float *x = random_floats((size_t)N * C, 3), *out = calloc((size_t)B * C, 4), *ref = calloc((size_t)B * C, 4);
    tc_seq_layout layout = {B, 30, N, offsets, offsets};
    for (int threads = 1; threads <= 3; threads += 2) {
        tc_pool *pool = tc_pool_create(threads);
        tc_cpu_pool_forward(pool, out, x, &layout, C, TC_POOL_MEAN);
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++) {
                double s = 0;
                for (int t = offsets[b]; t < offsets[b + 1]; t++) s += x[t * C + c];
                ref[b * C + c] = (float)(s / lengths[b]);
            }
        CHECK_CLOSE("mean pooling", out, ref, (size_t)B * C, 1e-6, 1e-6);
        tc_cpu_pool_forward(pool, out, x, &layout, C, TC_POOL_CLS);
        for (int b = 0; b < B; b++) memcpy(ref + b * C, x + offsets[b] * C, (size_t)C * 4);
        CHECK(!memcmp(out, ref, (size_t)B * C * 4));
        tc_pool_destroy(pool);
    }
    free(x), free(out), free(ref);
}

static void test_normalize(void) {
    int B = 5, D = 77;
    float *x = random_floats((size_t)B * D, 4), *out = calloc((size_t)B * D, 4), *ref = calloc((size_t)B * D, 4);
    for (int d = 0; d < D; d++) x[2 * D + d] = 0;          // a zero row stays zero
    for (int d = 0; d < D; d++) x[3 * D + d] *= 1e-20f;    // a tiny row still gets unit length
    for (int b = 0; b < B; b++) {
        double ss = 0;
        for (int d = 0; d < D; d++) ss += (double)x[b * D + d] * x[b * D + d];
        double norm = fmax(sqrt(ss), 1e-12);
        for (int d = 0; d < D; d++) ref[b * D + d] = (float)(x[b * D + d] / norm);
    }
    tc_pool *pool = tc_pool_create(3);
    tc_cpu_normalize_forward(pool, out, x, B, D);
    CHECK_CLOSE("normalize", out, ref, (size_t)B * D, 1e-7, 1e-6);
    tc_cpu_normalize_forward(pool, x, x, B, D);
    CHECK_CLOSE("normalize in place", x, ref, (size_t)B * D, 1e-7, 1e-6);
    tc_pool_destroy(pool);
    free(x), free(out), free(ref);
}

int main(void) {
    RUN(test_pool_runs_every_task_once);
    RUN(test_fastmath_accuracy);
    RUN(test_embeddings);
    RUN(test_layernorm);
    RUN(test_matmul);
    RUN(test_activation);
    RUN(test_attention);
    RUN(test_pooling);
    RUN(test_normalize);
    HARNESS_EXIT();
}
