// The CPU backend's fused QKV product and attention (backend op
// qkv_attention_forward: with bf16 attention, q, k and v go from the int8
// or bf16 product to attention in bf16, rounded in the product's pass)
// against the two operations run one by one through the same backend:
// - the same bits, int8 and bf16, with and without MPNet's position bias,
//   sequences of 1 to 100 tokens (around the attention's padding step of
//   16 and the products' blocks of 64 rows), on one pool thread and on two;
// - close to the fp32 backend's two operations (a sanity bound);
// - the fp32 backend does not offer it.
// Without bf16 units the op runs the two operations itself (still checked
// for the same bits; the line says so); without oneDNN, skipped.
#include "tests/harness.h"
#include "common/rng.h"
#include "kernels/backend.h"
#include "kernels/cpu/matmul_onednn.h"

enum { SEQS = 7, C = 64, NH = 4, SPAN = 100, BUCKETS = 8 };
static const int lengths[SEQS] = {1, 15, 16, 17, 100, 64, 40};
enum { N = 1 + 15 + 16 + 17 + 100 + 64 + 40 };

static float x[N * C], w[3 * C * C], b[3 * C], table[BUCKETS * NH];
static float qkv[N * 3 * C], fused[N * C], one_thread[N * C], ref[N * C], ref32[N * C];

static void fill(tc_rng *rng, float *v, int n, double lo, double hi) {
    for (int i = 0; i < n; i++) v[i] = (float)(lo + (hi - lo) * tc_rng_uniform(rng));
}

static int unfused(tc_backend *be, float *out, const tc_seq_layout *layout, const tc_attn_bias *bias,
                   void *scratch) {
    return be->ops->matmul_forward(be, qkv, NULL, x, w, b, N, C, 3 * C, TC_ACT_NONE) ||
           be->ops->attention_forward(be, out, NULL, scratch, qkv, layout, C, NH, bias);
}

static void check_precision(tct_dtype precision) {
    char why[300];
    const char *name = precision == TCT_I8 ? "int8" : "bf16";
    if (tc_onednn_supported(precision, why, sizeof why)) SKIP("%s", why);
    tc_rng rng;
    tc_rng_seed(&rng, 41);
    fill(&rng, x, N * C, -2, 2);
    for (int r = 0; r < 30; r++) x[r * C + 3] = r % 2 ? 20.0f : -15.0f;  // an outlier column in the first block
    fill(&rng, w, 3 * C * C, -0.2, 0.2);
    fill(&rng, b, 3 * C, -0.1, 0.1);
    fill(&rng, table, BUCKETS * NH, -1, 1);
    int32_t offsets[SEQS + 1] = {0}, bucket[2 * SPAN - 1];
    for (int s = 0; s < SEQS; s++) offsets[s + 1] = offsets[s] + lengths[s];
    for (int d = 0; d < 2 * SPAN - 1; d++) bucket[d] = (d * 5) % BUCKETS;
    tc_seq_layout layout = {SEQS, SPAN, N, offsets, offsets};
    tc_attn_bias position = {table, bucket, SPAN, BUCKETS, NULL};
    tc_backend *be2 = tc_backend_cpu_create_precision(2, precision);
    tc_backend *be1 = tc_backend_cpu_create_precision(1, precision);
    tc_backend *be32 = tc_backend_cpu_create(2);
    void *scratch = be2 && be1 && be32 ? be2->ops->alloc(be2, be2->ops->attention_scratch_bytes(be2, SEQS, SPAN, C, NH))
                                       : NULL;
    CHECKF(be1 && be2 && be32 && scratch, "%s: backends", name);
    if (!scratch) goto done;
    CHECK(be32->ops->qkv_attention_forward == NULL);
    CHECKF(be2->ops->qkv_attention_forward != NULL, "%s: no fused QKV and attention", name);
    if (!be2->ops->qkv_attention_forward) goto done;
    if (!tc_onednn_native_bf16()) printf("  %s: no bf16 units here: the op runs the two operations itself\n", name);
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        const tc_attn_bias *bias = with_bias ? &position : NULL;
        CHECK(unfused(be2, ref, &layout, bias, scratch) == 0);
        CHECK(unfused(be32, ref32, &layout, bias, scratch) == 0);
        CHECK(be2->ops->qkv_attention_forward(be2, fused, qkv, scratch, x, w, b, &layout, C, NH, bias) == 0);
        CHECK(be1->ops->qkv_attention_forward(be1, one_thread, qkv, scratch, x, w, b, &layout, C, NH, bias) == 0);
        CHECKF(!memcmp(fused, ref, sizeof ref), "%s, bias %d: fused and one by one differ", name, with_bias);
        CHECKF(!memcmp(one_thread, ref, sizeof ref), "%s, bias %d: one thread differs from two", name, with_bias);
        double cos = harness_min_row_cosine(fused, ref32, N, C);
        printf("  %s, bias %d: min row cosine %.6f against fp32\n", name, with_bias, cos);
        CHECKF(cos >= 0.999, "%s, bias %d: cosine %.6f against fp32", name, with_bias, cos);
    }
done:
    if (scratch) be2->ops->free(be2, scratch);
    tc_backend_destroy(be1);
    tc_backend_destroy(be2);
    tc_backend_destroy(be32);
}

static void test_int8_same_bits_as_one_by_one(void) { check_precision(TCT_I8); }
static void test_bf16_same_bits_as_one_by_one(void) { check_precision(TCT_BF16); }

int main(void) {
    RUN(test_int8_same_bits_as_one_by_one);
    RUN(test_bf16_same_bits_as_one_by_one);
    HARNESS_EXIT();
}
