// The CPU backend's fused rest of a layer after attention
// (kernels/cpu/layer_tail.c, backend op layer_tail_forward) against the
// same five operations run one by one through the backend (output
// projection, layer norm, FFN up with GELU, FFN down, layer norm), which
// their own tests check against fp32:
// - int8 and bf16: the same bits, on one pool thread and on two, with
//   outlier columns in some blocks only (int8 picks them per block of rows,
//   so a fused block that strayed from the products' blocks would differ);
// - out may be x (the model writes a layer's output over its input);
// - close to the fp32 backend's operations (a sanity bound: the error is
//   the products' rounding);
// - the fp32 backend does not offer it (its products stay OpenBLAS's).
// A precision the CPU or the build lacks is skipped, naming what is missing.
#include "tests/harness.h"
#include "common/rng.h"
#include "kernels/backend.h"
#include "kernels/cpu/matmul_onednn.h"

enum { N = 203, C = 64, F = 256 };  // 203 rows: three blocks of 64 and a short one

static float atty[N * C], x[N * C], fused[N * C], one_thread[N * C], in_place[N * C], ref[N * C], ref32[N * C];
static float attproj_w[C * C], attproj_b[C], fc_w[F * C], fc_b[F], fcproj_w[C * F], fcproj_b[C];
static float ln1_w[C], ln1_b[C], ln2_w[C], ln2_b[C];
static float attproj[N * C], ln1[N * C], fch[N * F], fcproj[N * C];  // the unfused path's buffers

static void fill(tc_rng *rng, float *v, int n, double lo, double hi) {
    for (int i = 0; i < n; i++) v[i] = (float)(lo + (hi - lo) * tc_rng_uniform(rng));
}

static void random_layer(uint64_t seed) {
    tc_rng rng;
    tc_rng_seed(&rng, seed);
    fill(&rng, atty, N * C, -1, 1);
    fill(&rng, x, N * C, -2, 2);
    // outlier columns in some rows only: a block of other rows than the
    // products' (32 rows, say) would split off other columns for rows 21-63
    for (int r = 0; r < 21; r++) x[r * C + 5] = r % 2 ? 30.0f : -22.0f;
    for (int r = 150; r < N; r++) atty[r * C + 9] = r % 3 ? -12.0f : 15.0f;
    fill(&rng, attproj_w, C * C, -0.15, 0.15);
    fill(&rng, fc_w, F * C, -0.15, 0.15);
    fill(&rng, fcproj_w, C * F, -0.08, 0.08);
    fill(&rng, attproj_b, C, -0.1, 0.1);
    fill(&rng, fc_b, F, -0.1, 0.1);
    fill(&rng, fcproj_b, C, -0.1, 0.1);
    fill(&rng, ln1_w, C, 0.8, 1.2);
    fill(&rng, ln2_w, C, 0.8, 1.2);
    fill(&rng, ln1_b, C, -0.1, 0.1);
    fill(&rng, ln2_b, C, -0.1, 0.1);
}

static const tc_layer_tail tail = {.attproj_w = attproj_w, .attproj_b = attproj_b, .ln1_w = ln1_w, .ln1_b = ln1_b,
                                   .fc_w = fc_w, .fc_b = fc_b, .fcproj_w = fcproj_w, .fcproj_b = fcproj_b,
                                   .ln2_w = ln2_w, .ln2_b = ln2_b, .eps = 1e-12f, .act = TC_ACT_GELU};

// The five operations one by one, as common/model/bert_forward.c runs them
// without the fused operation.
static int unfused(tc_backend *be, float *out) {
    const tc_backend_ops *op = be->ops;
    return op->matmul_forward(be, attproj, NULL, atty, attproj_w, attproj_b, N, C, C, TC_ACT_NONE) ||
           op->layernorm_forward(be, ln1, NULL, NULL, NULL, attproj, x, ln1_w, ln1_b, tail.eps, N, C) ||
           op->matmul_forward(be, fch, NULL, ln1, fc_w, fc_b, N, C, F, TC_ACT_GELU) ||
           op->matmul_forward(be, fcproj, NULL, fch, fcproj_w, fcproj_b, N, F, C, TC_ACT_NONE) ||
           op->layernorm_forward(be, out, NULL, NULL, NULL, fcproj, ln1, ln2_w, ln2_b, tail.eps, N, C);
}

static void check_precision(tct_dtype precision, double cos_bound) {
    char why[300];
    const char *name = precision == TCT_I8 ? "int8" : "bf16";
    if (tc_onednn_supported(precision, why, sizeof why)) SKIP("%s", why);
    random_layer(precision == TCT_I8 ? 3 : 5);
    tc_backend *be2 = tc_backend_cpu_create_precision(2, precision);
    tc_backend *be1 = tc_backend_cpu_create_precision(1, precision);
    tc_backend *be32 = tc_backend_cpu_create(2);
    CHECKF(be1 && be2 && be32, "backends: %s", be2 ? "" : "none");
    if (!be1 || !be2 || !be32) goto done;
    CHECK(be32->ops->layer_tail_forward == NULL);
    CHECKF(be2->ops->layer_tail_forward != NULL, "%s: no fused layer tail", name);
    if (!be2->ops->layer_tail_forward) goto done;
    CHECK(unfused(be2, ref) == 0);
    CHECK(unfused(be32, ref32) == 0);
    CHECK(be2->ops->layer_tail_forward(be2, fused, atty, x, &tail, N, C, F) == 0);
    CHECK(be1->ops->layer_tail_forward(be1, one_thread, atty, x, &tail, N, C, F) == 0);
    CHECKF(!memcmp(fused, ref, sizeof ref), "%s: fused and one by one differ", name);
    CHECKF(!memcmp(one_thread, ref, sizeof ref), "%s: one thread differs from two", name);
    memcpy(in_place, x, sizeof x);
    CHECK(be2->ops->layer_tail_forward(be2, in_place, atty, in_place, &tail, N, C, F) == 0);
    CHECKF(!memcmp(in_place, ref, sizeof ref), "%s: out == x differs", name);
    double cos = harness_min_row_cosine(fused, ref32, N, C);
    printf("  %s: min row cosine %.6f against fp32\n", name, cos);
    CHECKF(cos >= cos_bound, "%s: cosine %.6f against fp32", name, cos);
done:
    tc_backend_destroy(be1);
    tc_backend_destroy(be2);
    tc_backend_destroy(be32);
}

static void test_int8_same_bits_as_one_by_one(void) { check_precision(TCT_I8, 0.995); }
static void test_bf16_same_bits_as_one_by_one(void) { check_precision(TCT_BF16, 0.9999); }

int main(void) {
    RUN(test_int8_same_bits_as_one_by_one);
    RUN(test_bf16_same_bits_as_one_by_one);
    HARNESS_EXIT();
}
