// MPNet on a GPU against the CPU backend: attention with the relative
// position bias (forward: outputs and probabilities; backward: dqkv and the
// bias table's gradient) in fp32, bf16 and fp16 over the attention shapes of
// gpu_check.h; then the tiny MPNet of tests/golden/train_step_mpnet, whose
// forward (mean pooling, a <pad> inside a text) and backward (every
// parameter's gradient, the table's included) must match the CPU's (the
// forward also in bf16 and fp16: cosine >= 0.999 and 0.9999), and
// all-mpnet-base-v2 (when models/ has it) on its sentence-transformers
// golden in fp32.
// Tolerances: as gpu_check.h's for activations (attention's gradient 2.5
// times looser in bf16/fp16, as test_gpu_train_ops.c); the table's
// gradient, summed over B x T x T scores, within 1e-4 x max (fp32) and
// 5e-2 x max (bf16, fp16); whole-model gradients within 1e-4 x max (fp32);
// all-mpnet-base-v2 min cosine >= 0.99999.
#include "tests/gpu/gpu_check.h"
#include "common/model/bert_backward.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/train_ops.h"

#include <sys/stat.h>

static uint64_t rng = 77;

static float uniform(void) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((rng >> 40) / (double)(1 << 24)) * 2 - 1;
}

static float *random_input(tct_dtype t, size_t n, float spread) {
    float *x = malloc((n ? n : 1) * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = spread * uniform();
    round_to(t, x, n);
    return x;
}

// |x - ref| <= atol * max|ref| + rtol * |ref| elementwise; the worst printed on failure.
static int close_scaled(const char *what, const float *x, const float *ref, size_t n, double atol, double rtol) {
    double mx = 0;
    for (size_t i = 0; i < n; i++) mx = fabs(ref[i]) > mx ? fabs(ref[i]) : mx;
    return harness_close(what, x, ref, n, atol * mx + 1e-30, rtol);
}

static int same_gpu(tc_backend *be, const char *what, const void *dev, const float *ref, size_t n, double loosen) {
    float *x = gpu_get(be, dev, n);
    tct_dtype t = be->dtype;
    int ok = x && close_scaled(what, x, ref, n, gpu_atol(t) * (t == TCT_F32 ? 1 : loosen), gpu_rtol(t));
    free(x);
    return ok;
}

static void check_biased_attention(tc_backend *be, int B, const int *lengths, int C, int NH) {
    enum { NB = 32 };
    tct_dtype t = be->dtype;
    int32_t offsets[65] = {0};
    int T = 0;
    for (int b = 0; b < B; b++) {
        offsets[b + 1] = offsets[b] + lengths[b];
        if (lengths[b] > T) T = lengths[b];
    }
    int N = offsets[B], span = T + 3;  // a span beyond the batch's longest, as a model's max_len is
    int32_t *bucket = malloc((2 * (size_t)span - 1) * 4);
    for (int d = -(span - 1); d <= span - 1; d++) bucket[d + span - 1] = tc_rel_bucket(d);
    size_t att_n = (size_t)B * NH * T * T, nq = (size_t)N * 3 * C, ny = (size_t)N * C, nt = (size_t)NB * NH;
    float *qkv = random_input(t, nq, 1.5f), *table = random_input(t, nt, 2.0f);
    float *y = malloc(ny * 4), *att = malloc(att_n * 4), *dtable = calloc(nt, 4);
    size_t sb = tc_cpu_attention_scratch_bytes(1, T), sbb = tc_cpu_attention_backward_scratch_bytes(1, T);
    float *scratch = malloc(sb > sbb ? sb : sbb);
    tc_seq_layout host = {B, T, N, offsets, offsets};
    tc_attn_bias hb = {table, bucket, span, NB, dtable};
    tc_cpu_attention_forward(NULL, y, att, scratch, qkv, &host, C, NH, &hb);
    void *d_qkv = gpu_put(be, qkv, nq), *d_table = gpu_put(be, table, nt);
    void *d_y = be->ops->alloc(be, ny * 4), *d_att = be->ops->alloc(be, att_n * 4);
    void *d_scratch = be->ops->alloc(be, be->ops->attention_scratch_bytes(be, B, T, C, NH));
    int32_t *d_off = gpu_put_raw(be, offsets, (size_t)(B + 1) * 4);
    int32_t *d_bucket = gpu_put_raw(be, bucket, (2 * (size_t)span - 1) * 4);
    float *d_dtable = gpu_put_raw(be, dtable, nt * 4);  // zeros
    tc_seq_layout dev = {B, T, N, offsets, d_off};
    tc_attn_bias db = {d_table, d_bucket, span, NB, d_dtable};
    CHECKF(be->ops->attention_forward(be, d_y, d_att, d_scratch, d_qkv, &dev, C, NH, &db) == 0, "forward: %s",
           tc_error());
    CHECKF(same_gpu(be, "biased attention out", d_y, y, ny, 1) && same_gpu(be, "biased attention probabilities",
                                                                            d_att, att, att_n, 1),
           "B %d C %d NH %d %s", B, C, NH, dtype_label(t));
    // backward from the probabilities as the GPU keeps them
    round_to(t, att, att_n);
    float *datty = random_input(t, ny, 1), *ref = calloc(nq, 4);
    tc_cpu_attention_backward(NULL, ref, scratch, datty, att, qkv, &host, C, NH, &hb);
    void *d_att_r = gpu_put(be, att, att_n), *d_datty = gpu_put(be, datty, ny), *d_dqkv = be->ops->alloc(be, nq * 4);
    void *d_bscratch = be->ops->alloc(be, be->ops->attention_backward_scratch_bytes(be, B, T, C, NH));
    CHECKF(be->ops->attention_backward(be, d_dqkv, d_bscratch, d_datty, d_att_r, d_qkv, &dev, C, NH, &db) == 0,
           "backward: %s", tc_error());
    float *got = gpu_get_f32(be, d_dtable, nt);
    CHECKF(same_gpu(be, "biased attention dqkv", d_dqkv, ref, nq, 2.5) && got &&
               close_scaled("bias table gradient", got, dtable, nt, t == TCT_F32 ? 1e-4 : 5e-2, 0),
           "B %d C %d NH %d %s", B, C, NH, dtype_label(t));
    free(got), free(qkv), free(table), free(y), free(att), free(dtable), free(scratch), free(datty), free(ref);
    free(bucket);
    void *bufs[] = {d_qkv, d_table, d_y, d_att, d_scratch, d_off, d_bucket, d_dtable, d_att_r, d_datty, d_dqkv,
                    d_bscratch};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) be->ops->free(be, bufs[i]);
}

static void test_biased_attention(void) {
    NEED_GPU();
    check_attention_shapes(check_biased_attention);
}

static char root_path[2048];

static const char *in_root(const char *rel) {
    const char *root = getenv("TC_ROOT");
    snprintf(root_path, sizeof root_path, "%s/%s", root && *root ? root : ".", rel);
    return root_path;
}

// Forward (mean pooling, normalized) and, with d_out, the backward of one
// batch on `be`; embeddings (B, C) into out, the gradients (n_params) into grads.
static int run_model(tc_backend *be, const tc_bert_model *m, const int32_t *const *rows, const int32_t *lengths,
                     int B, int T, const float *d_out, float *out, float *grads) {
    tc_bert_run_options o = {B, B * T, T, TC_POOL_MEAN, 1, 1, 0};
    tc_bert_forward *fw = NULL;
    tc_bert_backward *bw = NULL;
    size_t C = (size_t)m->cfg.hidden;
    float *g = be->ops->alloc(be, m->n_params * 4);
    void *dd = gpu_put(be, d_out, (size_t)B * C);
    int rc = !g || !dd || tc_bert_forward_create(&fw, be, m, &o) || tc_bert_forward_submit(fw, rows, NULL, lengths, B) ||
             tc_bert_forward_collect(fw, out) || tc_bert_backward_create(&bw, fw, g) || tc_bert_backward_run(bw, dd) ||
             be->ops->download(be, grads, g, m->n_params * 4) || be->ops->synchronize(be);
    if (rc) printf("  %s: %s\n", be->name, tc_error());
    tc_bert_backward_free(bw);
    tc_bert_forward_free(fw);
    if (g) be->ops->free(be, g);
    if (dd) be->ops->free(be, dd);
    return rc ? -1 : 0;
}

static void test_tiny_mpnet_forward_backward(void) {
    NEED_GPU();
    enum { B = 4, T = 22 };
    tc_bert_model m;
    ENSURE(tc_bert_model_load(&m, in_root("tests/golden/train_step_mpnet/model")) == 0);
    int32_t ids[B][T], lengths[B] = {5, 9, 3, 22};
    const int32_t *rows[B];
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++) ids[b][t] = 5 + (b * 7 + t * 3) % 35;
        ids[b][0] = 0, ids[b][lengths[b] - 1] = 2;
        rows[b] = ids[b];
    }
    ids[1][4] = 1;  // a <pad> inside a text
    size_t C = (size_t)m.cfg.hidden, n = m.n_params;
    float d_out[B * 16], ref[B * 16], got[B * 16];
    for (size_t i = 0; i < B * C; i++) d_out[i] = uniform();
    float *gref = malloc(n * 4), *ggot = malloc(n * 4);
    tc_backend *cpu = tc_backend_cpu_create(1);
    ENSURE(C <= 16 && cpu && run_model(cpu, &m, rows, lengths, B, T, d_out, ref, gref) == 0);
    tc_backend *gpu = tc_backend_cuda_create(0, TCT_F32);
    ENSURE(gpu);
    CHECK(run_model(gpu, &m, rows, lengths, B, T, d_out, got, ggot) == 0);
    CHECK(close_scaled("tiny MPNet embeddings", got, ref, B * C, 1e-5, 1e-4));
    CHECK(close_scaled("tiny MPNet gradients", ggot, gref, n, 1e-4, 0));
    size_t sizes[TC_BERT_NUM_PARAMS], at = 0;
    tc_bert_param_sizes(&m.cfg, sizes);
    for (int k = 0; k < TC_BERT_REL_BIAS; k++) at += sizes[k];
    CHECK(close_scaled("tiny MPNet bias table gradient", ggot + at, gref + at, sizes[TC_BERT_REL_BIAS], 1e-4, 0));
    // bf16 and fp16: the embeddings within cosine 0.999 and 0.9999 of the CPU's
    for (int k = 1; k < 3; k++) {
        tc_backend *half = tc_backend_cuda_create(0, gpu_dtypes[k]);
        ENSURE(half);
        CHECK(run_model(half, &m, rows, lengths, B, T, d_out, got, ggot) == 0);
        double worst = harness_min_row_cosine(got, ref, B, C);
        CHECKF(worst >= (k == 1 ? 0.999 : 0.9999), "%s: min cosine %.6f", dtype_label(gpu_dtypes[k]), worst);
        tc_backend_destroy(half);
    }
    free(gref), free(ggot);
    tc_backend_destroy(gpu);
    tc_backend_destroy(cpu);
    tc_bert_model_free(&m);
}

static void test_all_mpnet_base_golden(void) {
    NEED_GPU();
    struct stat sb;
    char model_dir[2048], weights[2100];
    snprintf(model_dir, sizeof model_dir, "%s", in_root("models/all-mpnet-base-v2"));
    snprintf(weights, sizeof weights, "%s/model.safetensors", model_dir);
    if (stat(weights, &sb) != 0) SKIP("%s is missing (make model NAME=all-mpnet-base-v2)", weights);
    tct_bundle golden;
    ENSURE(tct_bundle_load(&golden, in_root("tests/golden/encode_mpnet.tct")) == 0);
    const tct_bundle_tensor *ids = tct_bundle_expect(&golden, "golden", "input_ids", TCT_I32, 2);
    const tct_bundle_tensor *lengths = tct_bundle_expect(&golden, "golden", "lengths", TCT_I32, 1);
    const tct_bundle_tensor *expected = tct_bundle_expect(&golden, "golden", "embeddings", TCT_F32, 2);
    ENSURE(ids && lengths && expected);
    int N = (int)lengths->dims[0], width = (int)ids->dims[1], D = (int)expected->dims[1];
    tc_bert_model m;
    ENSURE(tc_bert_model_load(&m, model_dir) == 0);
    tc_backend *be = tc_backend_cuda_create(0, TCT_F32);
    ENSURE(be);
    enum { BATCH = 32 };
    tc_bert_run_options o = {BATCH, BATCH * width, width, TC_POOL_MEAN, 1, 0, 0};
    tc_bert_forward *fw = NULL;
    float *out = calloc((size_t)N * D, 4);
    int ok = out && tc_bert_forward_create(&fw, be, &m, &o) == 0;
    for (int start = 0; ok && start < N; start += BATCH) {
        const int32_t *rows[BATCH];
        int B = N - start < BATCH ? N - start : BATCH;
        for (int b = 0; b < B; b++) rows[b] = (const int32_t *)ids->data + (size_t)(start + b) * width;
        ok = tc_bert_forward_submit(fw, rows, NULL, (const int32_t *)lengths->data + start, B) == 0 &&
             tc_bert_forward_collect(fw, out + (size_t)start * D) == 0;
    }
    CHECKF(ok, "forward: %s", tc_error());
    double min_cos = 1;
    const float *ref = expected->data;
    for (int r = 0; ok && r < N; r++) {
        double dot = 0, a2 = 0, b2 = 0;
        for (int d = 0; d < D; d++) {
            double x = out[(size_t)r * D + d], y = ref[(size_t)r * D + d];
            dot += x * y, a2 += x * x, b2 += y * y;
        }
        if (dot / sqrt(a2 * b2) < min_cos) min_cos = dot / sqrt(a2 * b2);
    }
    printf("  all-mpnet-base-v2 on the GPU, %d documents: min cosine %.9f\n", N, min_cos);
    CHECKF(min_cos >= 0.99999, "min cosine %.9f", min_cos);
    free(out);
    tc_bert_forward_free(fw);
    tc_backend_destroy(be);
    tc_bert_model_free(&m);
    tct_bundle_free(&golden);
}

int main(void) {
    RUN(test_biased_attention);
    RUN(test_tiny_mpnet_forward_backward);
    RUN(test_all_mpnet_base_golden);
    HARNESS_EXIT();
}
