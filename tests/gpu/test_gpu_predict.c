// tc-predict's scoring on GPUs against the CPU reference: the golden
// checkpoint of tests/golden/predict (a tiny BERT in tc-train's layout) and
// its documents (lengths 2..24, some cut to the checkpoint's 12 tokens),
// for every pooling, scored by the predictor on the CPU, on GPU 0 and on
// every visible GPU at once (rows sharded, order kept), in fp32, bf16 and
// fp16. Tolerances, as |x - ref| <= atol + rtol |ref| against the CPU:
//   fp32  1e-4 + 1e-4      (cuBLAS without TF32: only summation order differs)
//   fp16  3e-2 of max|ref| + 3e-2
//   bf16  1e-1 of max|ref| + 5e-2   (8 bits of mantissa through two layers)
// and the top class must agree on all documents in fp32. The CPU scores
// are also checked against transformers' (the golden), so both sides are
// pinned to the reference. The measured differences are printed.
#include "tests/gpu/gpu_check.h"
#include "common/predict/predictor.h"
#include "common/model/token_window.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_ROWS = 64 };

static char golden_dir[2048];

typedef struct {
    int n, K;
    float scores[MAX_ROWS * 16];
} result;

// Scores of the golden tokens with the checkpoint made to pool as asked.
static int score(const tc_predictor_model *pm, const tc_devices *dev, tct_dtype precision, int batch, result *out) {
    char path[4096];
    snprintf(path, sizeof path, "%s/golden.tct", golden_dir);
    FILE *f = fopen(path, "rb");
    tct_reader *r = NULL;
    tc_token_source src;
    tc_token_window w;
    tc_predictor *p = NULL;
    int rc = !f || tct_reader_open(&r, f, path) || tc_token_source_open(&src, r, &pm->model, path, pm->max_len, 1) ||
                     tc_token_window_alloc(&w, MAX_ROWS) || tc_token_source_read(&src, &w)
                 ? -1
                 : 0;
    tc_predictor_options o = {.batch_size = batch, .max_len = pm->max_len, .max_rows = MAX_ROWS,
                              .precision = precision, .threads = 2, .devices = *dev};
    if (rc == 0) rc = tc_predictor_create(&p, pm, &o);
    if (rc == 0) rc = tc_predictor_start(p, w.n, w.rows, w.lengths) || tc_predictor_finish(p, out->scores) ? -1 : 0;
    out->n = (int)w.n;
    out->K = pm->K;
    tc_predictor_free(p);
    if (r) tc_token_source_close(&src), tc_token_window_free(&w), tct_reader_close(r);
    if (f) fclose(f);
    return rc;
}

static double max_abs(const float *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fabs(x[i]) > m ? fabs(x[i]) : m;
    return m;
}

static double max_diff(const float *x, const float *y, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fabs((double)x[i] - y[i]) > m ? fabs((double)x[i] - y[i]) : m;
    return m;
}

static int top_class(const float *row, int K) {
    int best = 0;
    for (int k = 1; k < K; k++)
        if (row[k] > row[best]) best = k;
    return best;
}

// The golden scores transformers computed for this pooling.
static int golden_scores(const char *pooling, float *out, size_t n) {
    char path[4096], name[64];
    snprintf(path, sizeof path, "%s/golden.tct", golden_dir);
    snprintf(name, sizeof name, "scores_%s", pooling);
    tct_bundle b;
    if (tct_bundle_load(&b, path)) return -1;
    const tct_bundle_tensor *t = tct_bundle_expect(&b, path, name, TCT_F32, 2);
    int rc = t && t->count == n ? 0 : -1;
    if (rc == 0) memcpy(out, t->data, n * sizeof *out);
    tct_bundle_free(&b);
    return rc;
}

static void run_pooling(const char *pooling, tc_pooling mode, int normalize, int n_gpus) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/checkpoint", golden_dir);
    tc_predictor_model pm;
    ENSURE(tc_predictor_model_load(&pm, dir) == 0 || (printf("  %s\n", tc_error()), 0));
    pm.pooling = mode, pm.normalize = normalize;  // as classifier.json would say
    static result cpu, gpu, all;
    tc_devices none = {0}, one = {1, {0}}, every = {n_gpus, {0}};
    for (int i = 0; i < n_gpus; i++) every.gpus[i] = i;
    ENSURE(score(&pm, &none, TCT_F32, 5, &cpu) == 0 || (printf("  cpu: %s\n", tc_error()), 0));
    size_t n = (size_t)cpu.n * (size_t)cpu.K;
    float ref[MAX_ROWS * 16];
    ENSURE(golden_scores(pooling, ref, n) == 0);
    CHECK_CLOSE("cpu vs transformers", cpu.scores, ref, n, 2e-6, 1e-5);
    double scale = max_abs(cpu.scores, n);
    static const struct {
        tct_dtype dtype;
        const char *name;
        double atol_of_max, rtol;
    } precisions[3] = {{TCT_F32, "fp32", 0, 1e-4}, {TCT_F16, "fp16", 3e-2, 3e-2}, {TCT_BF16, "bf16", 1e-1, 5e-2}};
    for (int p = 0; p < 3; p++) {
        ENSURE(score(&pm, &one, precisions[p].dtype, 5, &gpu) == 0 || (printf("  gpu: %s\n", tc_error()), 0));
        double atol = p == 0 ? 1e-4 : precisions[p].atol_of_max * scale;
        printf("  %s %s: GPU 0 vs CPU max |diff| %.3g (max |score| %.3g)\n", pooling, precisions[p].name,
               max_diff(gpu.scores, cpu.scores, n), scale);
        CHECK_CLOSE(precisions[p].name, gpu.scores, cpu.scores, n, atol, precisions[p].rtol);
        if (p == 0)
            for (int i = 0; i < cpu.n; i++)
                CHECKF(top_class(gpu.scores + i * cpu.K, cpu.K) == top_class(cpu.scores + i * cpu.K, cpu.K),
                       "%s: document %d's top class differs on the GPU", pooling, i);
        // every GPU, batches of 2 so that each one gets several: same rows, same order
        ENSURE(score(&pm, &every, precisions[p].dtype, 2, &all) == 0 || (printf("  gpus: %s\n", tc_error()), 0));
        printf("  %s %s: %d GPUs vs GPU 0 max |diff| %.3g\n", pooling, precisions[p].name, n_gpus,
               max_diff(all.scores, gpu.scores, n));
        CHECK_CLOSE("all GPUs vs CPU", all.scores, cpu.scores, n, atol, precisions[p].rtol);
    }
    tc_predictor_model_free(&pm);
}

static int visible_gpus(void) {
    char why[256];
    int n = tc_cuda_device_count(why, sizeof why);
    return n > TC_MAX_GPUS ? TC_MAX_GPUS : n;
}

static void test_mean_normalized(void) {
    NEED_GPU();
    run_pooling("mean", TC_POOL_MEAN, 1, visible_gpus());
}
static void test_cls(void) {
    NEED_GPU();
    run_pooling("cls", TC_POOL_CLS, 0, visible_gpus());
}
static void test_pooler(void) {
    NEED_GPU();
    run_pooling("pooler", TC_POOL_POOLER, 0, visible_gpus());
}

int main(void) {
    const char *root = getenv("TC_ROOT");
    snprintf(golden_dir, sizeof golden_dir, "%s/tests/golden/predict", root && *root ? root : ".");
    RUN(test_mean_normalized);
    RUN(test_cls);
    RUN(test_pooler);
    HARNESS_EXIT();
}
