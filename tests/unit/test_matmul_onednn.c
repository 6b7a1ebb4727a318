// The CPU's reduced-precision linear layers (kernels/cpu/matmul_onednn.c)
// against the fp32 reference (kernels/cpu/matmul.c):
// - int8 is exact where quantization loses nothing: rows of 64ths spanning
//   the input maximum's steps (255, or 127 without VNNI: scale 1/64, a zero
//   point), one outlier column of integers (multiplied in f32), weights of
//   integers whose largest is 127 (scale 1); this checks the zero points,
//   the channel sums, the scales and the outlier split bit for bit;
// - on random data, int8 and bf16 stay within the error their rounding
//   allows (per-row cosine and relative error), bias, activation and `pre`
//   included, over several pool tasks;
// - a prepared weight is reused, and forgotten when its buffer is freed;
// - the result is the same to the bit on one pool thread as on two (blocks
//   of 64 rows, each with its own outlier columns, whatever the threads).
// A precision the CPU or the build lacks is skipped, naming what is missing.
#include "tests/harness.h"
#include "common/rng.h"
#include "common/threadpool.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/matmul_onednn.h"

enum { N = 203, IC = 96, OC = 80 };  // 203 rows: four tasks of 64, one short

static float inp[N * IC], w[OC * IC], bias[OC], out[N * OC], pre[N * OC], ref[N * OC], ref_pre[N * OC];

static tc_onednn *open_or_skip(tct_dtype precision, char *why, size_t n) {
    if (tc_onednn_supported(precision, why, n)) return NULL;
    tc_onednn *d = tc_onednn_create(precision, 2);
    if (!d) snprintf(why, n, "create failed");
    return d;
}

static void test_int8_exact_on_integers(void) {
    char why[300];
    tc_onednn *d = open_or_skip(TCT_I8, why, sizeof why);
    if (!d) SKIP("%s", why);
    int top = 127, span = tc_onednn_input_max(d);
    CHECKF(span == 255 || span == 127, "input maximum %d", span);
    tc_rng rng;
    tc_rng_seed(&rng, 7);
    for (int r = 0; r < N; r++) {
        int lo = -(int)(tc_rng_next(&rng) % (unsigned)(span - 50));  // [lo, lo + span] / 64: scale 1/64, zero point -lo
        for (int k = 0; k < IC; k++) inp[r * IC + k] = (float)(lo + (int)(tc_rng_next(&rng) % (unsigned)(span + 1))) / 64;
        inp[r * IC + 0] = (float)lo / 64, inp[r * IC + 1] = (float)(lo + span) / 64;
        inp[r * IC + 5] = (float)(r % 3 ? 100 : -37);  // an outlier channel
    }
    for (int o = 0; o < OC; o++) {
        for (int k = 0; k < IC; k++) w[o * IC + k] = (float)((int)(tc_rng_next(&rng) % (2 * top + 1)) - top);
        w[o * IC + o % IC] = (float)(o % 2 ? top : -top);
        bias[o] = (float)(o % 7) - 3;
    }
    tc_pool *pool = tc_pool_create(2);
    tc_cpu_matmul_forward(pool, ref, NULL, inp, w, bias, N, IC, OC, TC_ACT_NONE);
    CHECKF(tc_onednn_matmul_forward(d, pool, out, NULL, inp, w, bias, N, IC, OC, TC_ACT_NONE) == 0, "forward");
    CHECK_CLOSE("int8 on integers", out, ref, (size_t)N * OC, 0, 0);
    tc_onednn_destroy(d);
    tc_pool_destroy(pool);
}

static void random_data(uint64_t seed) {
    tc_rng rng;
    tc_rng_seed(&rng, seed);
    for (int i = 0; i < N * IC; i++) inp[i] = (float)(tc_rng_uniform(&rng) * 4 - 2);
    for (int i = 0; i < OC * IC; i++) w[i] = (float)(tc_rng_uniform(&rng) * 0.2 - 0.1);
    for (int o = 0; o < OC; o++) bias[o] = (float)(tc_rng_uniform(&rng) - 0.5);
}

// The worst row's cosine and relative error of x against r (rows of OC).
static void row_agreement(const float *x, const float *r, double *min_cos, double *max_rel) {
    *min_cos = 1, *max_rel = 0;
    for (int n = 0; n < N; n++) {
        double dot = 0, xx = 0, rr = 0, dd = 0;
        for (int o = 0; o < OC; o++) {
            double a = x[n * OC + o], b = r[n * OC + o];
            dot += a * b, xx += a * a, rr += b * b, dd += (a - b) * (a - b);
        }
        double cos = dot / sqrt(xx * rr), rel = sqrt(dd / rr);
        if (cos < *min_cos || cos != cos) *min_cos = cos;
        if (rel > *max_rel || rel != rel) *max_rel = rel;
    }
}

static void check_random(tct_dtype precision, double cos_bound, double rel_bound) {
    char why[300];
    tc_onednn *d = open_or_skip(precision, why, sizeof why);
    if (!d) SKIP("%s", why);
    random_data(11);
    tc_pool *pool = tc_pool_create(2);
    tc_cpu_matmul_forward(pool, ref, ref_pre, inp, w, bias, N, IC, OC, TC_ACT_GELU);
    CHECKF(tc_onednn_matmul_forward(d, pool, out, pre, inp, w, bias, N, IC, OC, TC_ACT_GELU) == 0, "forward");
    double cos, rel;
    row_agreement(pre, ref_pre, &cos, &rel);
    printf("  %s before GELU: min row cosine %.6f, max row relative error %.4f\n", precision == TCT_I8 ? "int8" : "bf16", cos, rel);
    CHECKF(cos >= cos_bound && rel <= rel_bound, "pre: cosine %.6f, relative error %.4f", cos, rel);
    for (int i = 0; i < N * OC; i++) ref[i] = 0.5f * pre[i] * (1.0f + erff(pre[i] / sqrtf(2.0f)));
    CHECK_CLOSE("GELU of pre", out, ref, (size_t)N * OC, 1e-6, 1e-5);
    // the prepared weights are kept: the same call gives the same bits
    memcpy(ref, out, sizeof out);
    CHECK(tc_onednn_matmul_forward(d, pool, out, NULL, inp, w, NULL, N, IC, OC, TC_ACT_NONE) == 0);
    CHECK(tc_onednn_matmul_forward(d, pool, out, NULL, inp, w, bias, N, IC, OC, TC_ACT_GELU) == 0);
    CHECK(memcmp(out, ref, sizeof out) == 0);
    // new values at the same address are seen once the old ones are forgotten
    for (int i = 0; i < OC * IC; i++) w[i] = -w[i];
    tc_onednn_forget(d, w);
    tc_cpu_matmul_forward(pool, ref, NULL, inp, w, bias, N, IC, OC, TC_ACT_NONE);
    CHECK(tc_onednn_matmul_forward(d, pool, out, NULL, inp, w, bias, N, IC, OC, TC_ACT_NONE) == 0);
    row_agreement(out, ref, &cos, &rel);
    CHECKF(cos >= cos_bound && rel <= rel_bound, "after forget: cosine %.6f, relative error %.4f", cos, rel);
    tc_onednn_destroy(d);
    tc_pool_destroy(pool);
}

// int8's error: 1/255 (or 1/127) of each row's range and 1/(2 x 127) of each channel's,
// over 96 products of independent signs: a few per cent of the norm.
static void test_int8_within_rounding(void) { check_random(TCT_I8, 0.999, 0.03); }
// bf16 keeps 8 bits of mantissa: 2^-9 relative per factor.
static void test_bf16_within_rounding(void) { check_random(TCT_BF16, 0.99999, 0.005); }

// More outlier columns than are split off (40 > 32): the largest go to f32,
// the rest are quantized with their rows; the result stays close (the
// largest column comes first, so that a list that kept a column twice
// would count it twice), and a later call with fewer columns does not see
// the earlier call's list.
static void test_int8_many_outliers(void) {
    char why[300];
    tc_onednn *d = open_or_skip(TCT_I8, why, sizeof why);
    if (!d) SKIP("%s", why);
    random_data(13);
    for (int r = 0; r < N; r++)
        for (int c = 0; c < 40; c++) inp[r * IC + 2 * c] = (float)((r + c) % 2 ? 7 + c : -7 - c) * (c ? 1 : 9);
    tc_pool *pool = tc_pool_create(2);
    double cos, rel;
    for (int ic = IC; ic >= IC / 2; ic -= IC / 2) {  // 40 outliers in 96 columns, then 24 in 48
        tc_onednn_forget(d, w);
        tc_cpu_matmul_forward(pool, ref, NULL, inp, w, bias, N, ic, OC, TC_ACT_NONE);
        CHECK(tc_onednn_matmul_forward(d, pool, out, NULL, inp, w, bias, N, ic, OC, TC_ACT_NONE) == 0);
        row_agreement(out, ref, &cos, &rel);
        printf("  int8, %d columns: min row cosine %.6f, max row relative error %.4f\n", ic, cos, rel);
        CHECKF(cos >= 0.999 && rel <= 0.03, "%d columns: cosine %.6f, relative error %.4f", ic, cos, rel);
    }
    tc_onednn_destroy(d);
    tc_pool_destroy(pool);
}

static void test_same_bits_on_any_thread_count(void) {
    static float one[N * OC];
    tct_dtype precisions[2] = {TCT_I8, TCT_BF16};
    char why[300] = "";
    int ran = 0;
    for (int i = 0; i < 2; i++) {
        tc_onednn *d = open_or_skip(precisions[i], why, sizeof why);
        if (!d) {
            printf("  %s: %s\n", tct_dtype_name(precisions[i]), why);
            continue;
        }
        ran++;
        random_data(29);
        // outlier columns in some rows only: 3 in the first block, 7 in the
        // last ones, so that a split by threads rather than by blocks would
        // take different columns apart for the same row
        for (int r = 0; r < 31; r++) inp[r * IC + 3] = (float)(r % 2 ? 40 : -25);
        for (int r = 150; r < N; r++) inp[r * IC + 7] = (float)(r % 2 ? -30 : 18);
        tc_pool *pool1 = tc_pool_create(1), *pool2 = tc_pool_create(2);
        CHECK(tc_onednn_matmul_forward(d, pool1, one, NULL, inp, w, bias, N, IC, OC, TC_ACT_GELU) == 0);
        CHECK(tc_onednn_matmul_forward(d, pool2, out, NULL, inp, w, bias, N, IC, OC, TC_ACT_GELU) == 0);
        CHECKF(!memcmp(one, out, sizeof one), "%s: one thread and two differ", tct_dtype_name(precisions[i]));
        tc_pool_destroy(pool1);
        tc_pool_destroy(pool2);
        tc_onednn_destroy(d);
    }
    if (!ran) SKIP("%s", why);
}

static void test_refuses_what_it_lacks(void) {
    char why[300] = "";
    CHECK(tc_onednn_supported(TCT_F16, why, sizeof why) == -1);
#if TC_HAVE_DNNL
    CHECKF(strstr(why, "not f16"), "why: %s", why);
#else  // every precision refused, naming the package
    CHECKF(strstr(why, "no oneDNN") && strstr(why, "libdnnl-dev"), "why: %s", why);
#endif
    if (tc_onednn_supported(TCT_BF16, why, sizeof why)) {
        printf("  bf16: %s\n", why);
        CHECK(tc_onednn_create(TCT_BF16, 1) == NULL);
    }
}

int main(void) {
    RUN(test_int8_exact_on_integers);
    RUN(test_int8_within_rounding);
    RUN(test_bf16_within_rounding);
    RUN(test_int8_many_outliers);
    RUN(test_same_bits_on_any_thread_count);
    RUN(test_refuses_what_it_lacks);
    HARNESS_EXIT();
}
