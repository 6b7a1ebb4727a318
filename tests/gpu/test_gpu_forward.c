// The whole forward pass on a GPU against the CPU backend: tiny random
// models of several shapes (odd head counts, pooler, each activation) in
// fp32 (elements within 1e-5), bf16 and fp16 (cosine >= 0.999 and 0.9999),
// kept activations, two batches in flight, and the default model on the
// sentence-transformers goldens (fp32 within the CPU's own limits: cosine
// >= 0.99999, 1e-4 per element).
#include "tests/gpu/gpu_check.h"
#include "tests/tiny_bert.h"
#include "common/model/bert_forward.h"

#include <sys/stat.h>

// Cosine of the worst row and the largest element difference.
static void compare_rows(const float *a, const float *b, int B, int D, double *min_cos, double *max_err) {
    *min_cos = 1, *max_err = 0;
    for (int r = 0; r < B; r++) {
        double dot = 0, aa = 0, bb = 0;
        for (int d = 0; d < D; d++) {
            double x = a[(size_t)r * D + d], y = b[(size_t)r * D + d];
            dot += x * y, aa += x * x, bb += y * y;
            if (!(fabs(x - y) <= *max_err)) *max_err = fabs(x - y);
        }
        double cos = aa == 0 && bb == 0 ? 1 : dot / sqrt(aa * bb);
        if (!(cos >= *min_cos)) *min_cos = cos;
    }
}

// Embeddings of all rows through a forward on `be`, in batches of `batch`,
// keeping two batches in flight.
static int encode_all(tc_backend *be, const tc_bert_model *m, const int32_t *const *rows, const int32_t *lengths,
                      int n, int batch, int max_len, tc_bert_run_options opt, float *out) {
    opt.max_batch = batch, opt.max_len = max_len, opt.max_tokens = batch * max_len;
    tc_bert_forward *fw;
    if (tc_bert_forward_create(&fw, be, m, &opt)) return -1;
    int D = m->cfg.hidden, submitted = 0, collected = 0, rc = 0;
    while (rc == 0 && collected < n) {
        if (submitted < n && submitted - collected < 2 * batch) {
            int B = n - submitted < batch ? n - submitted : batch;
            rc = tc_bert_forward_submit(fw, rows + submitted, NULL, lengths + submitted, B);
            submitted += B;
        } else {
            int B = n - collected < batch ? n - collected : batch;
            rc = tc_bert_forward_collect(fw, out + (size_t)collected * D);
            collected += B;
        }
    }
    tc_bert_forward_free(fw);
    return rc;
}

static void test_tiny_models(void) {
    NEED_GPU();
    struct {
        int hidden, heads, layers, inter, pooler;
        const char *act;
        tc_pooling pooling;
    } cases[] = {
        {32, 4, 2, 64, 0, "gelu", TC_POOL_MEAN},      {30, 3, 2, 50, 1, "gelu_new", TC_POOL_POOLER},
        {35, 5, 1, 20, 1, "relu", TC_POOL_CLS},       {64, 1, 3, 128, 0, "gelu", TC_POOL_MEAN},
    };
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tiny", harness_tmpdir());
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tiny_bert_spec s = tiny_bert_default();
        s.hidden = cases[i].hidden, s.heads = cases[i].heads, s.layers = cases[i].layers;
        s.intermediate = cases[i].inter, s.pooler = cases[i].pooler, s.act = cases[i].act, s.seed = 30 + i;
        s.positions = 40;
        tc_bert_model m;
        ENSURE(tiny_bert_write(dir, &s) == 0 && tc_bert_model_load(&m, dir) == 0);
        enum { ROWS = 37 };
        int32_t *rows[ROWS], lengths[ROWS];
        uint64_t st = 5 + i;
        for (int r = 0; r < ROWS; r++) {
            lengths[r] = 1 + (int)((tiny_random(&st) + 1) / 2 * 39);
            rows[r] = malloc(40 * 4);
            for (int t = 0; t < 40; t++) rows[r][t] = (int)((tiny_random(&st) + 1) / 2 * 49);
        }
        int D = s.hidden;
        float *cpu = malloc((size_t)ROWS * D * 4), *gpu = malloc((size_t)ROWS * D * 4);
        tc_bert_run_options opt = {.pooling = cases[i].pooling, .normalize = (int)(i % 2)};
        tc_backend *cb = tc_backend_cpu_create(2);
        ENSURE(encode_all(cb, &m, (const int32_t *const *)rows, lengths, ROWS, 8, 40, opt, cpu) == 0);
        tc_backend_destroy(cb);
        for (int k = 0; k < 3; k++) {
            tc_backend *be = tc_backend_cuda_create(0, gpu_dtypes[k]);
            ENSURE(be);
            int rc = encode_all(be, &m, (const int32_t *const *)rows, lengths, ROWS, 8, 40, opt, gpu);
            CHECKF(rc == 0, "%s", tc_error());
            double min_cos, max_err;
            compare_rows(gpu, cpu, ROWS, D, &min_cos, &max_err);
            printf("  case %zu %s: min cosine %.7f, max abs error %.2g\n", i, dtype_label(gpu_dtypes[k]), min_cos, max_err);
            if (gpu_dtypes[k] == TCT_F32) CHECK_CLOSE("fp32 forward", gpu, cpu, (size_t)ROWS * D, 1e-5, 1e-4);
            else CHECKF(min_cos >= (gpu_dtypes[k] == TCT_BF16 ? 0.999 : 0.9999), "case %zu %s: cosine %.6f", i,
                        dtype_label(gpu_dtypes[k]), min_cos);
            tc_backend_destroy(be);
        }
        for (int r = 0; r < ROWS; r++) free(rows[r]);
        free(cpu), free(gpu);
        tc_bert_model_free(&m);
    }
}

static void test_keep_activations(void) {
    NEED_GPU();
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/keep", harness_tmpdir());
    tiny_bert_spec s = tiny_bert_default();
    s.pooler = 1;
    tc_bert_model m;
    ENSURE(tiny_bert_write(dir, &s) == 0 && tc_bert_model_load(&m, dir) == 0);
    int32_t row[20] = {2, 9, 14, 7, 30, 3, 2, 8}, *rows[3] = {row, row + 1, row + 2}, lengths[3] = {6, 7, 4};
    tc_bert_run_options opt = {.max_batch = 3, .max_tokens = 60, .max_len = 20, .pooling = TC_POOL_POOLER,
                               .normalize = 1, .keep = 1};
    tc_backend *cb = tc_backend_cpu_create(1), *gb = tc_backend_cuda_create(0, TCT_F32);
    ENSURE(cb && gb);
    tc_bert_forward *cf, *gf;
    ENSURE(tc_bert_forward_create(&cf, cb, &m, &opt) == 0 && tc_bert_forward_create(&gf, gb, &m, &opt) == 0);
    float c_out[3 * 16], g_out[3 * 16];
    ENSURE(tc_bert_forward_submit(cf, (const int32_t *const *)rows, NULL, lengths, 3) == 0 &&
           tc_bert_forward_collect(cf, c_out) == 0);
    ENSURE(tc_bert_forward_submit(gf, (const int32_t *const *)rows, NULL, lengths, 3) == 0 &&
           tc_bert_forward_collect(gf, g_out) == 0);
    CHECK_CLOSE("keep: embeddings", g_out, c_out, 3 * 16, 1e-5, 1e-4);
    // every layer's kept tensors agree (layer 1's qkv, fch, probabilities)
    size_t N = 60, C = 16, F = 40;
    float *gq = gpu_get(gb, (char *)gf->a.qkv + N * 3 * C * 4, 17 * 3 * C);
    float *gh = gpu_get(gb, (char *)gf->a.fch + N * F * 4, 17 * F);
    float *ga = gpu_get(gb, (char *)gf->a.att + (size_t)3 * 4 * 20 * 20 * 4, (size_t)3 * 4 * 20 * 20);
    CHECK(gq && gh && ga);
    if (gq && gh && ga) {
        CHECK_CLOSE("keep: qkv", gq, (float *)cf->a.qkv + N * 3 * C, 17 * 3 * C, 1e-5, 1e-4);
        CHECK_CLOSE("keep: fch", gh, (float *)cf->a.fch + N * F, 17 * F, 1e-5, 1e-4);
        CHECK_CLOSE("keep: att", ga, (float *)cf->a.att + (size_t)3 * 4 * 20 * 20, (size_t)3 * 4 * 20 * 20, 1e-6, 1e-4);
    }
    free(gq), free(gh), free(ga);
    tc_bert_forward_free(cf), tc_bert_forward_free(gf);
    tc_backend_destroy(cb), tc_backend_destroy(gb);
    tc_bert_model_free(&m);
}

static void test_default_model_goldens(void) {
    NEED_GPU();
    const char *root = getenv("TC_ROOT") ? getenv("TC_ROOT") : ".";
    char model_dir[2048], golden[2048], weights[2100];
    snprintf(model_dir, sizeof model_dir, "%s/models/all-MiniLM-L6-v2", root);
    snprintf(golden, sizeof golden, "%s/tests/golden/encode_minilm.tct", root);
    snprintf(weights, sizeof weights, "%s/model.safetensors", model_dir);
    struct stat sb;
    if (stat(weights, &sb) != 0) SKIP("%s is missing (run `make model`)", weights);
    tct_bundle g;
    ENSURE(tct_bundle_load(&g, golden) == 0);
    const tct_bundle_tensor *ids = tct_bundle_find(&g, "input_ids"), *len = tct_bundle_find(&g, "lengths"),
                            *emb = tct_bundle_find(&g, "embeddings");
    ENSURE(ids && len && emb);
    tc_bert_model m;
    ENSURE(tc_bert_model_load(&m, model_dir) == 0);
    int N = (int)len->dims[0], W = (int)ids->dims[1], D = (int)emb->dims[1];
    const int32_t **rows = malloc((size_t)N * sizeof *rows);
    for (int n = 0; n < N; n++) rows[n] = (const int32_t *)ids->data + (size_t)n * W;
    float *out = malloc((size_t)N * D * 4);
    tc_bert_run_options opt = {.pooling = TC_POOL_MEAN, .normalize = 1};
    double limits[3] = {0.99999, 0.999, 0.9999};
    for (int k = 0; k < 3; k++) {
        tc_backend *be = tc_backend_cuda_create(0, gpu_dtypes[k]);
        ENSURE(be);
        CHECKF(encode_all(be, &m, rows, len->data, N, 64, W, opt, out) == 0, "%s", tc_error());
        double min_cos, max_err;
        compare_rows(out, emb->data, N, D, &min_cos, &max_err);
        printf("  %d documents, %s: min cosine %.7f, max abs error %.2g\n", N, dtype_label(gpu_dtypes[k]), min_cos, max_err);
        CHECKF(min_cos >= limits[k], "%s: min cosine %.7f", dtype_label(gpu_dtypes[k]), min_cos);
        if (gpu_dtypes[k] == TCT_F32) CHECKF(max_err <= 1e-4, "fp32: max abs error %.3g", max_err);
        tc_backend_destroy(be);
    }
    free(rows), free(out);
    tc_bert_model_free(&m);
    tct_bundle_free(&g);
}

int main(void) {
    RUN(test_tiny_models);
    RUN(test_keep_activations);
    RUN(test_default_model_goldens);
    HARNESS_EXIT();
}
