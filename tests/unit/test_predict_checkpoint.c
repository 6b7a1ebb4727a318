// A checkpoint loaded back scores documents exactly as the trained
// classifier did: a tiny random model is trained for a few steps through
// tc-train's loop (tc_train_run, which writes RUN/final), the classifier in
// memory scores the documents (tc_classifier_scores), and the predictor
// loaded from RUN/final scores the same documents read from the tokens file
// (its own truncation to classifier.json's length, its own batches).
//
// Scored one document at a time on both sides, the scores are
// bit-identical (CPU, for every pooling): weights, settings and truncation
// come back exactly. In batches of other sizes they agree within
// |x - ref| <= 2e-6 + 1e-5 |ref| (measured: at most 3.6e-7): OpenBLAS
// chooses its kernels by matrix size, so the classifier itself gives
// slightly different bits for a document scored in a batch of 4 or alone.
// Broken checkpoints fail with one line naming the file.
#include "tests/harness.h"
#include "tests/ensure.h"
#include "tests/tiny_bert.h"
#include "tests/train_fixtures.h"
#include "common/model/classifier.h"
#include "common/error.h"
#include "common/fingerprint.h"
#include "common/predict/predictor.h"
#include "common/model/token_window.h"
#include "common/train/trainer.h"

#include <unistd.h>

enum { N = 37, K = 5, D = 8, WIDTH = 26, MAX_LEN = 16, VOCAB = 60 };

static char dir[2048];

static const char *in_dir(const char *name) {
    static char paths[4][4096];
    static int at;
    char *p = paths[at++ % 4];
    snprintf(p, 4096, "%s/%s", dir, name);
    return p;
}

// N documents of 3..26 tokens (some past MAX_LEN), one or two positive classes each.
static int write_data(const char *fingerprint) {
    char *ids[N], names[N][16];
    int32_t rows[N][WIDTH], lengths[N], *row_ptrs[N], cls[2 * N];
    int64_t off[N + 1] = {0}, moff[N + 1] = {0};
    uint64_t st = 17;
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "doc%d", i);
        ids[i] = names[i];
        lengths[i] = 3 + (int)((tiny_random(&st) + 1) / 2 * (WIDTH - 2));
        if (lengths[i] > WIDTH) lengths[i] = WIDTH;
        rows[i][0] = 2;
        for (int t = 1; t < lengths[i] - 1; t++) rows[i][t] = 5 + (int)((tiny_random(&st) + 1) / 2 * (VOCAB - 6));
        rows[i][lengths[i] - 1] = 3;
        row_ptrs[i] = rows[i];
        off[i + 1] = off[i];
        cls[off[i + 1]++] = i % K;
        if (i % 3 == 0) cls[off[i + 1]++] = (i + 2) % K;
    }
    tc_labels l = {.n_docs = N, .doc_ids = ids, .offsets = off, .classes = cls, .mask_offsets = moff};
    return fixture_write_tokens(in_dir("tokens.tct"), N, (const char *const *)ids, (const int32_t *const *)row_ptrs,
                                lengths, WIDTH, fingerprint) ||
                   fixture_write_labels(in_dir("targets.tct"), &l)
               ? -1
               : 0;
}

static int setup(void) {
    snprintf(dir, sizeof dir, "%s/predict-checkpoint", harness_tmpdir());
    mkdir(dir, 0777);
    tiny_bert_spec s = tiny_bert_default();
    s.vocab = VOCAB, s.positions = 32, s.hidden = 16, s.layers = 2, s.heads = 4, s.intermediate = 32, s.pooler = 1;
    char fp[17];
    return tiny_bert_write(in_dir("model"), &s) || tc_file_fingerprint(in_dir("model/vocab.txt"), fp) || write_data(fp)
               ? -1
               : 0;
}

// Scores of every document of the set by the classifier, in batches.
static int classifier_scores(tc_classifier *cl, const tc_train_set *set, int batch, float *scores) {
    for (uint64_t i = 0; i < set->n_docs; i += (uint64_t)batch) {
        int B = set->n_docs - i < (uint64_t)batch ? (int)(set->n_docs - i) : batch;
        const int32_t *rows[8];
        int32_t lengths[8];
        for (int b = 0; b < B; b++) {
            rows[b] = set->tokens + set->tok_offsets[i + (uint64_t)b];
            lengths[b] = tc_train_set_length(set, i + (uint64_t)b);
        }
        if (tc_classifier_scores(cl, rows, lengths, B, scores + i * K)) return -1;
    }
    return 0;
}

// The predictor's scores of tokens.tct, read in windows of `window` rows.
static int predictor_scores(const tc_predictor_model *pm, int threads, int window, float *scores) {
    FILE *f = fopen(in_dir("tokens.tct"), "rb");
    tct_reader *r = NULL;
    tc_token_source src;
    tc_token_window w;
    tc_predictor *p = NULL;
    int rc = !f || tct_reader_open(&r, f, "tokens.tct") ||
                     tc_token_source_open(&src, r, &pm->model, "tokens.tct", pm->max_len, 1) ||
                     tc_token_window_alloc(&w, (size_t)window)
                 ? -1
                 : 0;
    tc_predictor_options o = {.batch_size = 3, .max_len = pm->max_len, .max_rows = (size_t)window, .threads = threads};
    if (rc == 0) rc = tc_predictor_create(&p, pm, &o);
    size_t at = 0;
    while (rc == 0) {
        if (tc_token_source_read(&src, &w)) rc = -1;
        else if (w.n == 0) break;
        else if (tc_predictor_start(p, w.n, w.rows, w.lengths) || tc_predictor_finish(p, scores + at * K)) rc = -1;
        at += w.n;
    }
    if (rc == 0 && at != N) rc = tc_fail("read %zu rows, not %d", at, N);
    tc_predictor_free(p);
    if (r) tc_token_source_close(&src), tc_token_window_free(&w), tct_reader_close(r);
    if (f) fclose(f);
    return rc;
}

static size_t count_different(const float *a, const float *b, size_t n, double *worst) {
    size_t bad = 0;
    *worst = 0;
    for (size_t i = 0; i < n; i++) {
        if (memcmp(&a[i], &b[i], sizeof *a)) bad++;
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > *worst) *worst = d;
    }
    return bad;
}

static void run_case(const char *name, tc_pooling pooling, int normalize) {
    tc_bert_model m;
    tc_train_set set;
    tc_train_load_options lo = {MAX_LEN, VOCAB, K};
    ENSURE(tc_bert_model_load(&m, in_dir("model")) == 0);
    ENSURE(tc_train_set_load(&set, in_dir("tokens.tct"), in_dir("targets.tct"), &lo) == 0);
    tc_backend *be = tc_backend_cpu_create(2);
    tc_comm *comm = tc_comm_single_create();
    uint64_t st = 3;
    float *E = tiny_fill(K * D, &st, 0, 0.5f), before[N * K], after[N * K], one_by_one[N * K], loaded[N * K];
    tc_classifier *cl;
    tc_classifier_options co = {4, 4 * set.longest, set.longest, pooling, normalize, 0};
    ENSURE(tc_classifier_create(&cl, be, &m, &co, E, K, D, NULL) == 0 && tc_classifier_init_head(cl, 9, 0) == 0);
    ENSURE(classifier_scores(cl, &set, 4, before) == 0);
    char out_dir[4096];
    snprintf(out_dir, sizeof out_dir, "%s/run-%s", dir, name);
    uint32_t idx[N];
    for (int i = 0; i < N; i++) idx[i] = (uint32_t)i;
    const char *names[K] = {"science", "sports", "physics", "biology", "hockey"};
    tc_train_config c = {.train = &set, .train_idx = idx, .n_train = N, .batch = 4, .accumulate = 1, .epochs = 2,
                         .max_steps = 6, .seed = 5, .lr = 5e-3, .warmup_steps = 0, .constant_lr = 1, .beta1 = 0.9f,
                         .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.01f, .max_grad_norm = 1.0f,
                         .out_dir = out_dir, .source_dir = in_dir("model"), .class_names = names, .max_len = MAX_LEN};
    tc_train_result r;
    ENSURE(tc_train_run(cl, comm, &c, &r) == 0 || (printf("  %s\n", tc_error()), 0));
    CHECK(r.steps == 6);
    ENSURE(classifier_scores(cl, &set, 4, after) == 0 && classifier_scores(cl, &set, 1, one_by_one) == 0);
    double worst;
    CHECKF(count_different(before, after, N * K, &worst) > N * K / 2, "training changed few scores");

    char final_dir[4096];
    snprintf(final_dir, sizeof final_dir, "%s/final", out_dir);
    tc_predictor_model pm;
    ENSURE(tc_predictor_model_load(&pm, final_dir) == 0 || (printf("  %s\n", tc_error()), 0));
    CHECK(pm.pooling == pooling && pm.normalize == normalize && pm.max_len == MAX_LEN);
    CHECK(pm.K == K && pm.D == D && pm.C == 16 && !strcmp(pm.class_names[4], "hockey"));
    // one document at a time on both sides: the same arithmetic, the same bits
    ENSURE(predictor_scores(&pm, 2, 1, loaded) == 0 || (printf("  %s\n", tc_error()), 0));
    size_t bad = count_different(loaded, one_by_one, N * K, &worst);
    CHECKF(bad == 0, "%s: %zu of %d scores differ from the classifier's (worst %.3g)", name, bad, N * K, worst);
    // other batches and windows, other thread counts: OpenBLAS picks its
    // kernels by matrix size, so sums may round differently
    int windows[3] = {N, 10, 4}, threads[3] = {2, 2, 1};
    double most = 0;
    for (int i = 0; i < 3; i++) {
        ENSURE(predictor_scores(&pm, threads[i], windows[i], loaded) == 0);
        CHECK_CLOSE("scores", loaded, after, N * K, 2e-6, 1e-5);
        count_different(loaded, after, N * K, &worst);
        most = worst > most ? worst : most;
    }
    printf("  %s: %d scores of the reloaded checkpoint bit-identical to the classifier's one by one; "
           "in other batches within %.2g\n", name, N * K, most);
    tc_predictor_model_free(&pm);
    tc_classifier_free(cl);
    free(E);
    tc_comm_destroy(comm);
    tc_backend_destroy(be);
    tc_train_set_free(&set);
    tc_bert_model_free(&m);
}

static void test_mean_normalized(void) { run_case("mean", TC_POOL_MEAN, 1); }
static void test_cls(void) { run_case("cls", TC_POOL_CLS, 0); }
static void test_pooler(void) { run_case("pooler", TC_POOL_POOLER, 0); }

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) fputs(text, f), fclose(f);
}

static void copy_file(const char *from, const char *to) {
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[65536];
    size_t n;
    while (a && b && (n = fread(buf, 1, sizeof buf, a)) > 0) fwrite(buf, 1, n, b);
    if (a) fclose(a);
    if (b) fclose(b);
}

// A copy of the mean run's checkpoint with classifier.json replaced, in DIR/broken.
static void write_checkpoint(const char *json) {
    char ck[4096], src[4096], dst[4096];
    snprintf(ck, sizeof ck, "%s/broken", dir);
    mkdir(ck, 0777);
    static const char *files[] = {"config.json", "vocab.txt", "model.safetensors", "head.safetensors"};
    for (int i = 0; i < 4; i++) {
        snprintf(src, sizeof src, "%s/run-mean/final/%s", dir, files[i]);
        snprintf(dst, sizeof dst, "%s/%s", ck, files[i]);
        copy_file(src, dst);
    }
    snprintf(dst, sizeof dst, "%s/classifier.json", ck);
    write_file(dst, json);
}

// Expects the copy with this classifier.json refused with `message` in the error.
static void expect_refused(const char *json, const char *message) {
    write_checkpoint(json);
    tc_predictor_model pm;
    CHECKF(tc_predictor_model_load(&pm, in_dir("broken")) == -1, "loaded a checkpoint with %s", json);
    CHECKF(strstr(tc_error(), message) != NULL, "error '%s' lacks '%s'", tc_error(), message);
    CHECKF(!strchr(tc_error(), '\n'), "error of several lines");
}

static void test_broken_checkpoints(void) {
    tc_predictor_model pm;
    CHECK(tc_predictor_model_load(&pm, in_dir("nowhere")) == -1 && strstr(tc_error(), "no such checkpoint"));
    CHECK(tc_predictor_model_load(&pm, in_dir("model")) == -1 && strstr(tc_error(), "not a tc-train checkpoint"));
    const char *names = "\"class_names\": [\"a\", \"b\", \"c\", \"d\", \"e\"]";
    char json[1024];
    expect_refused("{", "classifier.json");
    snprintf(json, sizeof json, "{\"version\": 2, \"pooling\": \"mean\", \"normalize\": true, %s}", names);
    expect_refused(json, "format version 2");
    snprintf(json, sizeof json, "{\"version\": 1, \"pooling\": \"max\", \"normalize\": true, %s}", names);
    expect_refused(json, "'pooling' must be mean, cls or pooler");
    snprintf(json, sizeof json,
             "{\"version\": 1, \"pooling\": \"mean\", \"normalize\": true, \"max_length\": 16, \"hidden_size\": 16, "
             "\"class_dim\": 8, \"num_classes\": 6, %s}", names);
    expect_refused(json, "'class_names' must list the 6 classes");
    snprintf(json, sizeof json,
             "{\"version\": 1, \"pooling\": \"mean\", \"normalize\": true, \"max_length\": 16, \"hidden_size\": 16, "
             "\"class_dim\": 7, \"num_classes\": 5, %s}", names);
    expect_refused(json, "head.safetensors: 5 classes of 8 values; classifier.json says 5 of 7");
    snprintf(json, sizeof json,
             "{\"version\": 1, \"pooling\": \"mean\", \"normalize\": true, \"max_length\": 16, \"hidden_size\": 12, "
             "\"class_dim\": 8, \"num_classes\": 5, %s}", names);
    expect_refused(json, "hidden_size 12, but config.json says 16");
    snprintf(json, sizeof json,
             "{\"version\": 1, \"pooling\": \"mean\", \"normalize\": true, \"max_length\": 16, \"hidden_size\": 16, "
             "\"class_dim\": 8, \"num_classes\": 0, %s}", names);
    expect_refused(json, "'num_classes' must be an integer of at least 1");
    // tc-train records its --max-len even past the model's positions: the positions bound it
    snprintf(json, sizeof json,
             "{\"version\": 1, \"pooling\": \"cls\", \"normalize\": false, \"max_length\": 128, \"hidden_size\": 16, "
             "\"class_dim\": 8, \"num_classes\": 5, %s}", names);
    write_checkpoint(json);
    CHECK(tc_predictor_model_load(&pm, in_dir("broken")) == 0 && pm.max_len == 32 && pm.pooling == TC_POOL_CLS &&
          !pm.normalize && !strcmp(pm.class_names[2], "c"));
    tc_predictor_model_free(&pm);
    snprintf(json, sizeof json,
             "{\"version\": 1, \"pooling\": \"mean\", \"normalize\": true, \"hidden_size\": 16, "
             "\"class_dim\": 8, \"num_classes\": 5, %s}", names);
    expect_refused(json, "'max_length' must be an integer");
    // a NaN in the head would make every score NaN: refused, naming the tensor
    snprintf(json, sizeof json,
             "{\"version\": 1, \"pooling\": \"mean\", \"normalize\": true, \"max_length\": 16, \"hidden_size\": 16, "
             "\"class_dim\": 8, \"num_classes\": 5, %s}", names);
    write_checkpoint(json);
    float W[16 * 8] = {0}, E[5 * 8] = {0};
    E[13] = NAN;
    tc_st_write_tensor head[2] = {{.name = "interaction.weight", .rank = 2, .shape = {16, 8}, .data = W},
                                  {.name = "label_embedding_weights", .rank = 2, .shape = {5, 8}, .data = E}};
    char path[4096];
    snprintf(path, sizeof path, "%s/broken/head.safetensors", dir);
    ENSURE(tc_safetensors_write(path, head, 2, NULL, 0) == 0);
    CHECK(tc_predictor_model_load(&pm, in_dir("broken")) == -1);
    CHECKF(strstr(tc_error(), "broken/head.safetensors: tensor 'label_embedding_weights' holds NaN at element 13"), "%s",
           tc_error());
}

int main(void) {
    if (setup()) {
        printf("FAIL setup: %s\n", tc_error());
        return 1;
    }
    RUN(test_mean_normalized);
    RUN(test_cls);
    RUN(test_pooler);
    RUN(test_broken_checkpoints);
    HARNESS_EXIT();
}
