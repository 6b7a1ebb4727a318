// Training's bf16 products (kernels/cpu/matmul_bf16.c):
// - the emulation is OpenBLAS sgemm on operands rounded to bf16 beforehand,
//   bit for bit, for every transpose, leading dimensions wider than the
//   rows, alpha, and beta 0 (C not read) and 1; and it does round (fp32 on
//   the unrounded operands differs);
// - the linear layer's forward and backward with the emulated products are
//   the fp32 kernels on pre-rounded operands, bit for bit (the wiring);
// - oneDNN's bf16 product agrees with the emulation within f32 summation
//   order, where this CPU has a bf16 kernel; skipped otherwise, naming what
//   it lacks;
// - where it has none, the oneDNN context is refused naming what is
//   missing, and the emulation is taken only under TC_CPU_BF16_EMULATE=1;
// - no bf16 context: cblas_sgemm itself;
// - attention at inference, on operands rounded once, agrees with fp32
//   within bf16's rounding, the same bits on any thread count.
#include "tests/harness.h"
#include "common/error.h"
#include "common/rng.h"
#include "common/threadpool.h"
#include "formats/tct.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/matmul_bf16.h"
#include "kernels/cpu/matmul_onednn.h"
#include "kernels/cpu/train_ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { M = 37, N = 29, K = 70, LD = 80 };  // LD: every stored operand's row stride

static float A[LD * LD], B[LD * LD], Ar[LD * LD], Br[LD * LD], C[M * LD], R[M * LD];

static void fill(float *x, size_t n, uint64_t seed) {
    tc_rng rng;
    tc_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) x[i] = (float)(tc_rng_uniform(&rng) * 4 - 2);
}

static void round_all(const float *x, float *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = tct_bf16_to_f32(tct_f32_to_bf16(x[i]));
}

static void test_emulated_is_sgemm_on_rounded(void) {
    tc_bf16 *g = tc_bf16_create(TC_BF16_EMULATED, 2);
    REQUIRE(g);
    fill(A, LD * LD, 1), fill(B, LD * LD, 2);
    round_all(A, Ar, LD * LD), round_all(B, Br, LD * LD);
    int rounded = 0;
    for (int t = 0; t < 4; t++)
        for (int b = 0; b < 2; b++) {
            CBLAS_TRANSPOSE ta = t & 1 ? CblasTrans : CblasNoTrans, tb = t & 2 ? CblasTrans : CblasNoTrans;
            float alpha = 0.125f + (float)t, beta = (float)b;
            fill(C, M * LD, 3), memcpy(R, C, sizeof C);
            if (b == 0) C[0] = NAN;  // beta 0: C is not read
            tc_cpu_gemm(g, t % 2, ta, tb, M, N, K, alpha, A, LD, B, LD, beta, C, LD);
            cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, Ar, LD, Br, LD, beta, R, LD);
            CHECKF(memcmp(C, R, sizeof C) == 0, "transposes %d, beta %d: not sgemm on the rounded operands", t, b);
            fill(R, M * LD, 3);
            cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, LD, B, LD, beta, R, LD);
            rounded += memcmp(C, R, sizeof C) != 0;
        }
    CHECKF(rounded == 8, "only %d of 8 products differ from fp32", rounded);
    CHECK(tc_bf16_check(g) == 0);
    tc_bf16_destroy(g);
}

static void test_no_context_is_sgemm(void) {
    fill(A, LD * LD, 4), fill(B, LD * LD, 5), fill(C, M * LD, 6), memcpy(R, C, sizeof C);
    tc_cpu_gemm(NULL, 0, CblasNoTrans, CblasTrans, M, N, K, 0.5f, A, LD, B, LD, 1.0f, C, LD);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 0.5f, A, LD, B, LD, 1.0f, R, LD);
    CHECK(memcmp(C, R, sizeof C) == 0);
}

// The linear layer (N rows of IC -> OC) forward and backward with emulated
// products against the fp32 kernels on pre-rounded operands.
enum { ROWS = 150, IC = 48, OC = 40 };
static float x[ROWS * IC], w[OC * IC], bias[OC], xr[ROWS * IC], wr[OC * IC], dout[ROWS * OC], doutr[ROWS * OC];
static float out1[ROWS * OC], out2[ROWS * OC], dx1[ROWS * IC], dx2[ROWS * IC], dw1[OC * IC], dw2[OC * IC],
    db1[OC], db2[OC];

static void test_linear_layer_wiring(void) {
    tc_pool *pool = tc_pool_create(2);
    tc_bf16 *g = tc_bf16_create(TC_BF16_EMULATED, 2);
    REQUIRE(pool && g);
    fill(x, ROWS * IC, 7), fill(w, OC * IC, 8), fill(bias, OC, 9), fill(dout, ROWS * OC, 10);
    round_all(x, xr, ROWS * IC), round_all(w, wr, OC * IC), round_all(dout, doutr, ROWS * OC);
    tc_cpu_matmul_forward_bf16(pool, g, out1, NULL, x, w, bias, ROWS, IC, OC, TC_ACT_NONE);
    tc_cpu_matmul_forward(pool, out2, NULL, xr, wr, bias, ROWS, IC, OC, TC_ACT_NONE);
    CHECK(memcmp(out1, out2, sizeof out1) == 0);
    memset(dw1, 0, sizeof dw1), memset(dw2, 0, sizeof dw2), memset(db1, 0, sizeof db1), memset(db2, 0, sizeof db2);
    // backward rounds dout (and w, x): the fp32 kernel gets them rounded
    memcpy(out1, dout, sizeof dout), memcpy(out2, doutr, sizeof doutr);
    tc_cpu_matmul_backward_bf16(pool, g, dx1, dw1, db1, out1, x, w, NULL, ROWS, IC, OC, TC_ACT_NONE, 0);
    tc_cpu_matmul_backward(pool, dx2, dw2, db2, out2, xr, wr, NULL, ROWS, IC, OC, TC_ACT_NONE, 0);
    CHECK(memcmp(dx1, dx2, sizeof dx1) == 0);
    CHECK(memcmp(dw1, dw2, sizeof dw1) == 0);
    CHECK(tc_bf16_check(g) == 0);
    tc_bf16_destroy(g);
    tc_pool_destroy(pool);
}

static void test_onednn_matches_emulation(void) {
    char why[300];
    if (tc_onednn_supported(TCT_BF16, why, sizeof why)) SKIP("%s", why);
    tc_bf16 *dn = tc_bf16_create(TC_BF16_ONEDNN, 1), *em = tc_bf16_create(TC_BF16_EMULATED, 1);
    REQUIRE(dn && em);
    fill(A, LD * LD, 11), fill(B, LD * LD, 12);
    round_all(A, Ar, LD * LD), round_all(B, Br, LD * LD);
    for (int t = 0; t < 4; t++) {
        CBLAS_TRANSPOSE ta = t & 1 ? CblasTrans : CblasNoTrans, tb = t & 2 ? CblasTrans : CblasNoTrans;
        fill(C, M * LD, 13), memcpy(R, C, sizeof C);
        for (int rep = 0; rep < 2; rep++) {  // the second call reuses the primitive
            tc_cpu_gemm(dn, 0, ta, tb, M, N, K, 0.5f, A, LD, B, LD, 1.0f, C, LD);
            tc_cpu_gemm(em, 0, ta, tb, M, N, K, 0.5f, A, LD, B, LD, 1.0f, R, LD);
        }
        CHECK(tc_bf16_check(dn) == 0);
        // the products are exact in f32: only the order of the sums differs
        double worst = 0;
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                double mag = 0;
                for (int k = 0; k < K; k++) {
                    double a = ta == CblasNoTrans ? Ar[m * LD + k] : Ar[k * LD + m];
                    double b = tb == CblasNoTrans ? Br[k * LD + n] : Br[n * LD + k];
                    mag += fabs(a * b);
                }
                double err = fabs((double)C[m * LD + n] - R[m * LD + n]) / (2 * mag * K * 0x1p-24 + 1e-30);
                worst = err > worst ? err : worst;
            }
        CHECKF(worst <= 1.0, "transposes %d: oneDNN off by %.3g of the f32 summation bound", t, worst);
    }
    tc_bf16_destroy(dn);
    tc_bf16_destroy(em);
}

// Without a oneDNN bf16 kernel, the oneDNN context is refused in
// tc_onednn_supported's words, and selection takes the emulation only when
// asked to.
static void test_onednn_refused_where_missing(void) {
    char why[300], picked[300];
    if (tc_onednn_supported(TCT_BF16, why, sizeof why) == 0) SKIP("this CPU has a oneDNN bf16 kernel");
    CHECK(tc_bf16_create(TC_BF16_ONEDNN, 1) == NULL);
    CHECKF(strcmp(tc_error(), why) == 0, "'%s' is not '%s'", tc_error(), why);
    tc_bf16_mode mode = 0;
    unsetenv("TC_CPU_BF16_EMULATE");
    CHECK(tc_bf16_select(&mode, picked, sizeof picked) == -1 && strcmp(picked, why) == 0);
    setenv("TC_CPU_BF16_EMULATE", "1", 1);
    CHECK(tc_bf16_select(&mode, picked, sizeof picked) == 0 && mode == TC_BF16_EMULATED);
    unsetenv("TC_CPU_BF16_EMULATE");
}

static void test_thread_out_of_range_is_reported(void) {
    tc_bf16 *g = tc_bf16_create(TC_BF16_EMULATED, 1);
    REQUIRE(g);
    fill(C, M * LD, 14), memcpy(R, C, sizeof C);
    tc_cpu_gemm(g, 1, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, A, LD, B, LD, 0.0f, C, LD);
    CHECK(memcmp(C, R, sizeof C) == 0);
    CHECK(tc_bf16_check(g) == -1);
    CHECK(strstr(tc_error(), "pool thread") != NULL);
    CHECK(tc_bf16_check(g) == 0);  // reported once
    tc_bf16_destroy(g);
}

// Attention at inference in bf16 (no probabilities kept: q, k and v rounded
// once per group of heads, the exponentials rounded to bf16 unnormalized,
// the context divided by their sum) against the same arithmetic in double,
// with and without a position bias, at lengths on both sides of the padding
// step, with head sizes that are and are not multiples of 16; and against
// fp32 attention within bf16's rounding; the same bits on one thread and on
// three.
static float bf16_of(float v) { return tct_bf16_to_f32(tct_f32_to_bf16(v)); }

static void reference_attention(double *out, const float *qkv, const int32_t *offsets, int seqs, int hidden, int NH,
                                const tc_attn_bias *position) {
    int HS = hidden / NH;
    double e[64];
    for (int b = 0; b < seqs; b++)
        for (int h = 0; h < NH; h++)
            for (int i = offsets[b]; i < offsets[b + 1]; i++) {
                int L = offsets[b + 1] - offsets[b];
                double top = -INFINITY, sum = 0;
                for (int j = 0; j < L; j++) {
                    const float *q = qkv + (size_t)i * 3 * hidden + h * HS;
                    const float *k = qkv + (size_t)(offsets[b] + j) * 3 * hidden + hidden + h * HS;
                    double dot = 0;
                    for (int d = 0; d < HS; d++) dot += (double)bf16_of(q[d]) * bf16_of(k[d]);
                    e[j] = dot / sqrt((double)HS);
                    if (position) {
                        int distance = j - (i - offsets[b]);
                        int bucket = position->bucket[distance + position->span - 1];
                        e[j] += ((const float *)position->table)[bucket * NH + h];
                    }
                    top = e[j] > top ? e[j] : top;
                }
                for (int j = 0; j < L; j++) sum += e[j] = exp(e[j] - top);
                for (int d = 0; d < HS; d++) {
                    double y = 0;
                    for (int j = 0; j < L; j++) {
                        const float *v = qkv + (size_t)(offsets[b] + j) * 3 * hidden + 2 * hidden + h * HS;
                        y += bf16_of((float)e[j]) * (double)bf16_of(v[d]);
                    }
                    out[(size_t)i * hidden + h * HS + d] = y / sum;
                }
            }
}

static void check_inference_attention(int hidden, int NH, int with_bias) {
    enum { SEQS = 6, SPAN = 40, BUCKETS = 8 };
    const int lengths[SEQS] = {1, 15, 16, 17, 40, 3};
    int32_t offsets[SEQS + 1] = {0}, bucket[2 * SPAN - 1];
    for (int b = 0; b < SEQS; b++) offsets[b + 1] = offsets[b] + lengths[b];
    for (int d = 0; d < 2 * SPAN - 1; d++) bucket[d] = (d * 7) % BUCKETS;
    int Nt = offsets[SEQS];
    float *qkv = malloc((size_t)Nt * 3 * hidden * 4), *table = malloc(BUCKETS * (size_t)NH * 4);
    size_t bytes = (size_t)Nt * hidden * 4;
    float *ref = malloc(bytes), *out = malloc(bytes), *out3 = malloc(bytes);
    float *scratch = malloc(tc_cpu_attention_scratch_bytes(3, SPAN));
    REQUIRE(qkv && table && ref && out && out3 && scratch);
    fill(qkv, (size_t)Nt * 3 * hidden, 21), fill(table, BUCKETS * (size_t)NH, 22);
    tc_attn_bias position = {table, bucket, SPAN, BUCKETS, NULL};
    tc_seq_layout layout = {SEQS, SPAN, Nt, offsets, offsets};
    tc_pool *one = tc_pool_create(1), *three = tc_pool_create(3);
    tc_bf16 *g = tc_bf16_create(TC_BF16_ONEDNN, 3);
    REQUIRE(one && three && g);
    const tc_attn_bias *bias_or_null = with_bias ? &position : NULL;
    tc_cpu_attention_forward(one, ref, NULL, scratch, qkv, &layout, hidden, NH, bias_or_null);
    tc_cpu_attention_forward_bf16(one, g, out, NULL, scratch, qkv, &layout, hidden, NH, bias_or_null);
    tc_cpu_attention_forward_bf16(three, g, out3, NULL, scratch, qkv, &layout, hidden, NH, bias_or_null);
    CHECK(tc_bf16_check(g) == 0);
    // q, k, v in [-2, 2] rounded to 8 bits: outputs off by ~1e-2
    size_t n = (size_t)Nt * hidden;
    CHECKF(harness_close("bf16 attention", out, ref, n, 0.02, 0), "hidden %d NH %d bias %d", hidden, NH, with_bias);
    double *exact = malloc((size_t)Nt * hidden * sizeof *exact);
    REQUIRE(exact);
    reference_attention(exact, qkv, offsets, SEQS, hidden, NH, bias_or_null);
    for (int i = 0; i < Nt * hidden; i++) ref[i] = (float)exact[i];
    // the exponentials' bf16 rounding may differ in the last place where
    // f32's exp and double's straddle a rounding boundary
    CHECKF(harness_close("bf16 attention's arithmetic", out, ref, n, 1e-3, 0), "hidden %d NH %d bias %d", hidden, NH,
           with_bias);
    free(exact);
    CHECKF(memcmp(out, out3, bytes) == 0, "hidden %d NH %d bias %d: 1 and 3 threads differ", hidden, NH, with_bias);
    tc_bf16_destroy(g);
    tc_pool_destroy(one), tc_pool_destroy(three);
    free(qkv), free(table), free(ref), free(out), free(out3), free(scratch);
}

static void test_inference_attention_matches_fp32(void) {
    char why[300];
    if (tc_onednn_supported(TCT_BF16, why, sizeof why)) SKIP("%s", why);
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        check_inference_attention(96, 3, with_bias);   // HS 32, one group
        check_inference_attention(384, 12, with_bias); // HS 32, two groups of 6 (MiniLM's shape)
        check_inference_attention(70, 5, with_bias);   // HS 14: strides not a multiple of 16
    }
}

int main(void) {
    RUN(test_emulated_is_sgemm_on_rounded);
    RUN(test_no_context_is_sgemm);
    RUN(test_linear_layer_wiring);
    RUN(test_onednn_matches_emulation);
    RUN(test_onednn_refused_where_missing);
    RUN(test_thread_out_of_range_is_reported);
    RUN(test_inference_attention_matches_fp32);
    HARNESS_EXIT();
}
