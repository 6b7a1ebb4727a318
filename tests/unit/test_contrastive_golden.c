// tc-train --objective contrastive against sentence-transformers: the tiny
// model, the 6 pairs and the settings of
// tests/golden/make_contrastive_golden.py go through tc_train_run for 10
// steps of the whole batch (constant rate, no warmup); the loss of every
// step (the log) and every parameter after the 10 steps (the final
// checkpoint, by its Hugging Face names) are compared with
// MultipleNegativesRankingLoss's. The same golden is met
//   - with the batch encoded in chunks (GradCache, --cached-chunk), and
//   - on 2 ranks at batch 3 with the negatives gathered from both ranks
//     (threads of one process, common/comm/comm_threads.h), the same loss
//     and update as 1 rank at batch 6.
// The final checkpoint is a sentence-transformers model (modules.json,
// 1_Pooling/config.json; no classifier head).
// Tolerances (f32 against f32, other summation orders; TC_TEST_VERBOSE=1
// prints the largest differences):
//   loss of each step           relative 1e-5
//   parameters after 10 steps   |x - ref| <= 1e-5 + 1e-5 |ref|
#include "tests/harness.h"
#include "tests/ensure.h"
#include "common/comm/comm_threads.h"
#include "common/error.h"
#include "common/model/safetensors.h"
#include "common/train/trainer.h"

#include <jansson.h>
#include <pthread.h>
#include <sys/stat.h>

enum { B = 6, STEPS = 10, T_MAX = 24, MAX_RANKS = 2 };

static char golden_dir[2048];
static tc_safetensors st;

static const float *golden(const char *name, size_t *count) {
    const tc_st_tensor *t = tc_safetensors_find(&st, name);
    if (!t || t->dtype != TC_ST_F32) return NULL;
    if (count) *count = t->count;
    return t->data;
}

// One side of the golden pairs as a training set without targets.
typedef struct {
    tc_train_set s;
    char *ids[B];
    int64_t tok_off[B + 1], none[B + 1];
    int32_t tokens[B * T_MAX];
    float weights[B];
} side_set;

static int make_side(side_set *g, const char *ids_name, const char *lengths_name) {
    const tc_st_tensor *in = tc_safetensors_find(&st, ids_name), *len = tc_safetensors_find(&st, lengths_name);
    if (!in || !len) return -1;
    const int32_t *ids = in->data, *lengths = len->data;
    int T = (int)in->shape[1];
    static char names[B][8];
    memset(g, 0, sizeof *g);
    for (int b = 0; b < B; b++) {
        snprintf(names[b], sizeof names[b], "p%d", b);
        g->ids[b] = names[b];
        memcpy(g->tokens + g->tok_off[b], ids + b * T, (size_t)lengths[b] * 4);
        g->tok_off[b + 1] = g->tok_off[b] + lengths[b];
        g->weights[b] = 1;
    }
    tc_train_set *s = &g->s;
    s->n_docs = B, s->doc_ids = g->ids, s->tok_offsets = g->tok_off, s->tokens = g->tokens;
    s->pos_offsets = s->mask_offsets = g->none, s->weights = g->weights, s->longest = T;
    return 0;
}

static side_set anchors, positives;

typedef struct {
    tc_comm *comm;
    tc_train_config cfg;
    int rc;
    char error[256];
} rank_run;

static void *rank_main(void *arg) {
    rank_run *r = arg;
    char model_dir[4096];
    snprintf(model_dir, sizeof model_dir, "%s/train_step/model", golden_dir);
    tc_bert_model m;
    tc_backend *be = tc_backend_cpu_create(1);
    tc_classifier *cl = NULL;
    int rows = r->cfg.cached_chunk ? r->cfg.cached_chunk : 2 * r->cfg.batch;
    tc_classifier_options co = {rows, rows * T_MAX, T_MAX, TC_POOL_MEAN, 0, 0};
    float E[16] = {0};
    tc_train_result res;
    r->rc = !be || tc_bert_model_load(&m, model_dir) ? -1 : 0;
    if (r->rc == 0) {
        r->cfg.source_dir = model_dir;
        r->rc = tc_classifier_create(&cl, be, &m, &co, E, 1, 16, NULL) || tc_train_run(cl, r->comm, &r->cfg, &res)
                    ? -1
                    : 0;
        tc_classifier_free(cl);
        tc_bert_model_free(&m);
    }
    if (r->rc) snprintf(r->error, sizeof r->error, "%s", tc_error());
    tc_backend_destroy(be);
    return NULL;
}

// Trains the golden problem on `ranks` thread ranks (batch B / ranks each)
// into OUT/name.
static int train(int ranks, int chunk, const char *out_dir) {
    static uint32_t idx[B] = {0, 1, 2, 3, 4, 5};
    static const char *names[1] = {"pair"};
    tc_comm *comms[MAX_RANKS];
    pthread_t th[MAX_RANKS];
    rank_run run[MAX_RANKS];
    if (tc_comm_threads_create(ranks, comms)) return -1;
    for (int r = 0; r < ranks; r++) {
        run[r] = (rank_run){.comm = comms[r]};
        run[r].cfg = (tc_train_config){
            .train = &anchors.s, .train_idx = idx, .n_train = B, .batch = B / ranks, .accumulate = 1, .epochs = STEPS,
            .max_steps = STEPS, .seed = 1, .lr = 1e-3, .warmup_steps = 0, .constant_lr = 1, .beta1 = 0.9f,
            .beta2 = 0.999f, .eps = 1e-4f, .weight_decay = 0.01f, .max_grad_norm = 1.0f, .out_dir = out_dir,
            .class_names = names, .max_len = T_MAX, .objective = TC_OBJECTIVE_CONTRASTIVE,
            .train_positives = &positives.s, .cached_chunk = chunk, .loss = TC_LOSS_MEAN};
        if (pthread_create(&th[r], NULL, rank_main, &run[r])) return -1;
    }
    for (int r = 0; r < ranks; r++) pthread_join(th[r], NULL);
    int rc = 0;
    for (int r = 0; r < ranks; r++) {
        if (run[r].rc) printf("  rank %d: %s\n", r, run[r].error), rc = -1;
        tc_comm_destroy(comms[r]);
    }
    return rc;
}

static void step_losses(const char *log_path, double *loss) {
    FILE *f = fopen(log_path, "r");
    char line[4096];
    for (int s = 0; s < STEPS; s++) loss[s] = NAN;
    while (f && fgets(line, sizeof line, f)) {
        json_t *o = json_loads(line, 0, NULL);
        json_t *x = o ? json_object_get(o, "loss") : NULL;
        long step = o ? (long)json_integer_value(json_object_get(o, "step")) : 0;
        if (json_is_number(x) && step >= 1 && step <= STEPS) loss[step - 1] = json_number_value(x);
        json_decref(o);
    }
    if (f) fclose(f);
}

static int exists(const char *dir, const char *name) {
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &sb) == 0;
}

static void check_run(const char *name, int ranks, int chunk) {
    char out_dir[4096], path[4096];
    snprintf(out_dir, sizeof out_dir, "%s/%s", harness_tmpdir(), name);
    ENSURE(train(ranks, chunk, out_dir) == 0);
    double loss[STEPS];
    snprintf(path, sizeof path, "%s/log.jsonl", out_dir);
    step_losses(path, loss);
    const float *ref = golden("loss", NULL);
    printf("  %s: loss %.7g (sentence-transformers %.7g), after %d steps %.7g (%.7g)\n", name, loss[0], ref[0], STEPS,
           loss[STEPS - 1], ref[STEPS - 1]);
    for (int s = 0; s < STEPS; s++)
        CHECKF(fabs(loss[s] - ref[s]) <= 1e-5 * fabs(ref[s]), "%s step %d: loss %.9g vs %.9g", name, s + 1, loss[s],
               (double)ref[s]);
    tc_safetensors enc;
    snprintf(path, sizeof path, "%s/final", out_dir);
    CHECKF(exists(path, "modules.json") && exists(path, "1_Pooling/config.json") &&
               exists(path, "sentence_bert_config.json") && exists(path, "config.json") && exists(path, "vocab.txt"),
           "%s: the sentence-transformers files", path);
    CHECKF(!exists(path, "head.safetensors") && !exists(path, "classifier.json"), "%s: a classifier head", path);
    snprintf(path, sizeof path, "%s/final/model.safetensors", out_dir);
    ENSURE(tc_safetensors_open(&enc, path) == 0);
    int checked = 0;
    double worst = 0;
    for (size_t i = 0; i < st.n_tensors; i++) {
        const char *gname = st.tensors[i].name;
        if (strncmp(gname, "after.", 6)) continue;
        const tc_st_tensor *t = tc_safetensors_find(&enc, gname + 6);
        CHECKF(t && t->count == st.tensors[i].count, "%s missing or mis-shaped", gname + 6);
        if (!t || t->count != st.tensors[i].count) continue;
        const float *x = t->data, *r = st.tensors[i].data;
        for (size_t k = 0; k < t->count; k++) worst = fmax(worst, fabs(x[k] - r[k]));
        CHECKF(harness_close(gname + 6, x, r, t->count, 1e-5, 1e-5), "%s: %s after %d steps", name, gname + 6, STEPS);
        checked++;
    }
    if (getenv("TC_TEST_VERBOSE")) printf("  %s: largest parameter difference %.2e\n", name, worst);
    CHECKF(checked == 37, "%s: %d tensors compared", name, checked);
    tc_safetensors_close(&enc);
}

static void test_one_rank(void) { check_run("plain", 1, 0); }
static void test_cached_chunks(void) { check_run("cached", 1, 4); }  // 12 sequences in chunks of 4
static void test_two_ranks_gathered(void) { check_run("ranks", 2, 0); }

int main(void) {
    const char *root = getenv("TC_ROOT");
    char path[4096];
    snprintf(golden_dir, sizeof golden_dir, "%s/tests/golden", root && *root ? root : ".");
    snprintf(path, sizeof path, "%s/contrastive/golden.safetensors", golden_dir);
    if (tc_safetensors_open(&st, path)) {
        printf("SKIP: %s\n", tc_error());
        return 0;
    }
    if (make_side(&anchors, "anchor_ids", "anchor_lengths") || make_side(&positives, "positive_ids", "positive_lengths")) {
        printf("FAIL: %s lacks the pairs\n", path);
        return 1;
    }
    RUN(test_one_rank);
    RUN(test_cached_chunks);
    RUN(test_two_ranks_gathered);
    tc_safetensors_close(&st);
    HARNESS_EXIT();
}
