// One training step equals PyTorch's: the model, batch, head and settings of
// tests/golden/make_train_step_golden.py go through tc_train_run (one step
// of the whole batch, constant rate, no warmup), and the loss, the gradient
// norm, every gradient and every parameter after the step (read back from
// the checkpoint written, by its Hugging Face names) are compared with the
// golden file. Tolerances (f32 against f32, other summation orders), with
// the largest differences measured (TC_TEST_VERBOSE=1 prints them all):
//   loss, gradient norm         relative 1e-5                  (measured ~5e-7)
//   gradients                   |x - ref| <= 1e-5 max|ref| + 1e-4 |ref|   (8.3e-7)
//   parameters after the step   |x - ref| <= 5e-7 + 1e-6 |ref|            (1.2e-7)
// The same for the tiny MPNet of tests/golden/train_step_mpnet (its
// relative position bias's gradient and update included), whose checkpoint
// must also, loaded again, give the mean-pooled outputs transformers'
// MPNetModel gives after the step; and tc_rel_bucket must equal
// transformers' bucket of every distance -600..600.
#include "tests/harness.h"
#include "tests/ensure.h"
#include "common/model/classifier.h"
#include "common/error.h"
#include "common/model/safetensors.h"
#include "common/train/trainer.h"

#include <jansson.h>

enum { B = 4, K = 5, D = 6 };

static char golden_root[2048], golden_dir[2048];

static const float *golden(const tc_safetensors *st, const char *name, size_t *count) {
    const tc_st_tensor *t = tc_safetensors_find(st, name);
    if (!t || t->dtype != TC_ST_F32) return NULL;
    if (count) *count = t->count;
    return t->data;  // 4-byte aligned: the writer pads the header to 8 bytes
}

// The golden batch as a training set: positives where y = 1, masked classes
// where w = 0, the row's weight as the document's.
typedef struct {
    tc_train_set s;
    char *ids[B];
    int64_t tok_off[B + 1], pos_off[B + 1], mask_off[B + 1];
    int32_t tokens[B * 24], pos[B * K], mask[B * K];  // sequences of up to 24 tokens
    float weights[B];
} golden_set;

static int make_set(const tc_safetensors *st, golden_set *g) {
    const tc_st_tensor *in = tc_safetensors_find(st, "input_ids"), *len = tc_safetensors_find(st, "lengths");
    const float *y = golden(st, "y", NULL), *w = golden(st, "w", NULL);
    if (!in || !len || !y || !w) return -1;
    const int32_t *ids = in->data, *lengths = len->data;
    int T = (int)in->shape[1];
    static char names[B][8];
    memset(g, 0, sizeof *g);
    for (int b = 0; b < B; b++) {
        snprintf(names[b], sizeof names[b], "g%d", b);
        g->ids[b] = names[b];
        memcpy(g->tokens + g->tok_off[b], ids + b * T, (size_t)lengths[b] * 4);
        g->tok_off[b + 1] = g->tok_off[b] + lengths[b];
        g->pos_off[b + 1] = g->pos_off[b], g->mask_off[b + 1] = g->mask_off[b];
        for (int k = 0; k < K; k++) {
            if (w[b * K + k] == 0) g->mask[g->mask_off[b + 1]++] = k;
            else g->weights[b] = w[b * K + k];
            if (y[b * K + k] > 0) g->pos[g->pos_off[b + 1]++] = k;
        }
    }
    tc_train_set *s = &g->s;
    s->n_docs = B, s->doc_ids = g->ids, s->tok_offsets = g->tok_off, s->tokens = g->tokens;
    s->pos_offsets = g->pos_off, s->pos_classes = g->pos, s->mask_offsets = g->mask_off, s->mask_classes = g->mask;
    s->weights = g->weights, s->longest = T;
    return 0;
}

static double step1_value(const char *log_path, const char *key) {
    FILE *f = fopen(log_path, "r");
    char line[4096];
    double v = NAN;
    while (f && fgets(line, sizeof line, f)) {
        json_t *o = json_loads(line, 0, NULL);
        json_t *x = o ? json_object_get(o, key) : NULL;
        if (json_is_number(x) && json_integer_value(json_object_get(o, "step")) == 1) v = json_number_value(x);
        json_decref(o);
    }
    if (f) fclose(f);
    return v;
}

// max |x - ref| / max |ref|, printed; then the tolerance check.
static int close_to(const char *what, const float *x, const float *ref, size_t n, double atol_of_max, double rtol,
                    double atol) {
    double scale = 0, worst = 0;
    for (size_t i = 0; i < n; i++) {
        scale = fabs(ref[i]) > scale ? fabs(ref[i]) : scale;
        worst = fabs(x[i] - ref[i]) > worst ? fabs(x[i] - ref[i]) : worst;
    }
    if (getenv("TC_TEST_VERBOSE")) printf("  %-52s max diff %.2e (max |ref| %.3g)\n", what, worst, scale);
    return harness_close(what, x, ref, n, atol + atol_of_max * scale, rtol);
}

// The checkpoint in dir, loaded as a model, embeds the golden batch as the
// golden's CASE.after_embeddings says (mean over the tokens, f32).
static int reloaded_outputs_match(const tc_safetensors *st, const char *dir, const char *pooling_name) {
    char key[256];
    snprintf(key, sizeof key, "%s.after_embeddings", pooling_name);
    size_t n = 0;
    const float *ref = golden(st, key, &n);
    const tc_st_tensor *in = tc_safetensors_find(st, "input_ids"), *len = tc_safetensors_find(st, "lengths");
    if (!ref || !in || !len) return 0;
    tc_bert_model m;
    if (tc_bert_model_load(&m, dir)) return printf("  %s\n", tc_error()), 0;
    int C = m.cfg.hidden, T = (int)in->shape[1], ok = n == (size_t)B * C;
    const int32_t *rows[B], *lengths = len->data;
    for (int b = 0; b < B; b++) rows[b] = (const int32_t *)in->data + b * T;
    tc_backend *be = tc_backend_cpu_create(1);
    tc_bert_forward *fw = NULL;
    tc_bert_run_options o = {B, B * T, T, TC_POOL_MEAN, 0, 0, 0};
    float out[B * 64];
    ok = ok && C <= 64 && be && tc_bert_forward_create(&fw, be, &m, &o) == 0 &&
         tc_bert_forward_submit(fw, rows, NULL, lengths, B) == 0 && tc_bert_forward_collect(fw, out) == 0;
    if (!ok) printf("  reloaded: %s\n", tc_error());
    ok = ok && close_to("reloaded checkpoint's outputs", out, ref, n, 0, 1e-5, 1e-6);
    tc_bert_forward_free(fw);
    tc_backend_destroy(be);
    tc_bert_model_free(&m);
    return ok;
}

static void run_case(const char *pooling_name, tc_pooling pooling) {
    char path[4096], out_dir[4096];
    snprintf(path, sizeof path, "%s/golden.safetensors", golden_dir);
    tc_safetensors st;
    if (tc_safetensors_open(&st, path)) SKIP("%s", tc_error());
    golden_set g;
    tc_bert_model m;
    snprintf(path, sizeof path, "%s/model", golden_dir);
    ENSURE(make_set(&st, &g) == 0 && tc_bert_model_load(&m, path) == 0);
    tc_backend *be = tc_backend_cpu_create(2);
    tc_comm *comm = tc_comm_single_create();
    tc_classifier *cl;
    int max_len = tc_bert_max_len(&m.cfg) < 24 ? tc_bert_max_len(&m.cfg) : 24;
    tc_classifier_options co = {B, B * max_len, max_len, pooling, 0, 0};
    ENSURE(tc_classifier_create(&cl, be, &m, &co, golden(&st, "E", NULL), K, D, golden(&st, "W", NULL)) == 0);
    snprintf(out_dir, sizeof out_dir, "%s/%s-step-%s", harness_tmpdir(), strrchr(golden_dir, '/') + 1, pooling_name);
    uint32_t idx[B] = {0, 1, 2, 3};
    const char *names[K] = {"c0", "c1", "c2", "c3", "c4"};
    tc_train_config c = {.train = &g.s, .train_idx = idx, .n_train = B, .batch = B, .accumulate = 1, .epochs = 1,
                         .max_steps = 1, .seed = 1, .lr = 1e-3, .warmup_steps = 0, .constant_lr = 1, .beta1 = 0.9f,
                         .beta2 = 0.999f, .eps = 1e-4f, .weight_decay = 0.01f, .max_grad_norm = 1.0f,
                         .out_dir = out_dir, .source_dir = path, .class_names = names, .max_len = max_len};
    tc_train_result r;
    ENSURE(tc_train_run(cl, comm, &c, &r) == 0 || (printf("  %s\n", tc_error()), 0));
    char key[256], log_path[4096];
    snprintf(log_path, sizeof log_path, "%s/log.jsonl", out_dir);
    snprintf(key, sizeof key, "%s.loss", pooling_name);
    double loss = step1_value(log_path, "loss"), ref_loss = golden(&st, key, NULL)[0];
    snprintf(key, sizeof key, "%s.grad_norm", pooling_name);
    double norm = step1_value(log_path, "grad_norm"), ref_norm = golden(&st, key, NULL)[0];
    printf("  %s: loss %.7g (PyTorch %.7g), gradient norm %.7g (PyTorch %.7g)\n", pooling_name, loss, ref_loss, norm,
           ref_norm);
    CHECKF(fabs(loss - ref_loss) <= 1e-5 * fabs(ref_loss), "loss %.9g vs %.9g", loss, ref_loss);
    CHECKF(fabs(norm - ref_norm) <= 1e-5 * fabs(ref_norm), "gradient norm %.9g vs %.9g", norm, ref_norm);
    // the checkpoint, tensor by tensor, and the gradients the step used
    tc_safetensors enc, head;
    snprintf(path, sizeof path, "%s/final/model.safetensors", out_dir);
    ENSURE(tc_safetensors_open(&enc, path) == 0);
    snprintf(path, sizeof path, "%s/final/head.safetensors", out_dir);
    ENSURE(tc_safetensors_open(&head, path) == 0);
    int checked = 0;
    for (size_t i = 0; i < st.n_tensors; i++) {
        const char *name = st.tensors[i].name;
        size_t prefix = strlen(pooling_name) + strlen(".after.");
        if (strncmp(name, pooling_name, strlen(pooling_name)) || strncmp(name + strlen(pooling_name), ".after.", 7))
            continue;
        const char *hf = name + prefix;
        const tc_safetensors *file = strstr(hf, "interaction") || strstr(hf, "label_embedding") ? &head : &enc;
        const tc_st_tensor *t = tc_safetensors_find(file, hf);
        CHECKF(t && t->count == st.tensors[i].count, "%s missing or mis-shaped in the checkpoint", hf);
        if (!t || t->count != st.tensors[i].count) continue;
        CHECKF(close_to(hf, t->data, st.tensors[i].data, t->count, 0, 1e-6, 5e-7), "%s after the step", hf);
        checked++;
    }
    CHECKF(checked == (pooling == TC_POOL_POOLER ? 41 : 39), "%d tensors compared", checked);
    // the same tensor names and shapes as the file transformers saved
    tc_safetensors hf;
    snprintf(path, sizeof path, "%s/model/model.safetensors", golden_dir);
    ENSURE(tc_safetensors_open(&hf, path) == 0);
    CHECKF(hf.n_tensors == enc.n_tensors, "%zu tensors, transformers saved %zu", enc.n_tensors, hf.n_tensors);
    for (size_t i = 0; i < hf.n_tensors; i++) {
        const tc_st_tensor *a = &hf.tensors[i], *b = tc_safetensors_find(&enc, a->name);
        CHECKF(b && b->rank == a->rank && !memcmp(b->shape, a->shape, (size_t)a->rank * sizeof *a->shape),
               "%s: not in the checkpoint with transformers' shape", a->name);
    }
    tc_safetensors_close(&hf);
    snprintf(key, sizeof key, "%s.after_embeddings", pooling_name);
    if (tc_safetensors_find(&st, key)) {
        snprintf(path, sizeof path, "%s/final", out_dir);
        CHECKF(reloaded_outputs_match(&st, path, pooling_name), "%s: the reloaded checkpoint's outputs", path);
    }
    // gradients: the flat buffer, by parameter group (QKV grouped per layer as the model stacks them)
    snprintf(key, sizeof key, "%s.grad.interaction.weight", pooling_name);
    size_t n = 0;
    const float *gw = golden(&st, key, &n);
    float *wt = cl->grads + cl->n_encoder, *W = malloc((n ? n : 1) * 4);
    for (int c2 = 0; c2 < cl->C; c2++)
        for (int d = 0; d < D; d++) W[c2 * D + d] = wt[d * cl->C + c2];
    CHECK(gw && close_to("grad interaction.weight", W, gw, n, 1e-5, 1e-4, 0));
    snprintf(key, sizeof key, "%s.grad.label_embedding_weights", pooling_name);
    const float *ge = golden(&st, key, &n);
    CHECK(ge && close_to("grad label_embedding_weights", wt + (size_t)D * cl->C, ge, n, 1e-5, 1e-4, 0));
    snprintf(key, sizeof key, "%s.grad.embeddings.word_embeddings.weight", pooling_name);
    const float *gwte = golden(&st, key, &n);
    CHECK(gwte && close_to("grad embeddings.word_embeddings.weight", cl->grads, gwte, n, 1e-5, 1e-4, 0));
    snprintf(key, sizeof key, "%s.grad.encoder.layer.1.output.dense.weight", pooling_name);
    const float *gfc = golden(&st, key, &n);
    const float *mine = tc_bert_layer_param(&cl->bw->g, TC_BERT_FCPROJ_W, 1, 4, &m.cfg);
    CHECK(gfc && close_to("grad encoder.layer.1.output.dense.weight", mine, gfc, n, 1e-5, 1e-4, 0));
    snprintf(key, sizeof key, "%s.grad.encoder.relative_attention_bias.weight", pooling_name);
    const float *grel = golden(&st, key, &n);
    CHECK(!grel == !m.cfg.rel_buckets);
    if (grel) CHECK(close_to("grad encoder.relative_attention_bias.weight", cl->bw->g.p[TC_BERT_REL_BIAS], grel, n, 1e-5, 1e-4, 0));
    free(W);
    tc_safetensors_close(&enc), tc_safetensors_close(&head), tc_safetensors_close(&st);
    tc_classifier_free(cl);
    tc_comm_destroy(comm);
    tc_backend_destroy(be);
    tc_bert_model_free(&m);
}

static void use_golden(const char *name) { snprintf(golden_dir, sizeof golden_dir, "%s/%s", golden_root, name); }

static void test_step_pooler(void) { use_golden("train_step"), run_case("pooler", TC_POOL_POOLER); }
static void test_step_mean(void) { use_golden("train_step"), run_case("mean", TC_POOL_MEAN); }
static void test_mpnet_step_pooler(void) { use_golden("train_step_mpnet"), run_case("pooler", TC_POOL_POOLER); }
static void test_mpnet_step_mean(void) { use_golden("train_step_mpnet"), run_case("mean", TC_POOL_MEAN); }

static void test_mpnet_buckets(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/train_step_mpnet/golden.safetensors", golden_root);
    tc_safetensors st;
    if (tc_safetensors_open(&st, path)) SKIP("%s", tc_error());
    const tc_st_tensor *t = tc_safetensors_find(&st, "rel_buckets");
    ENSURE(t && t->dtype == TC_ST_I32 && t->count == 1201);
    const int32_t *ref = t->data;
    int wrong = 0;
    for (int d = -600; d <= 600; d++)
        if (tc_rel_bucket(d) != ref[d + 600] && wrong++ < 5)
            printf("  distance %d: bucket %d, transformers %d\n", d, tc_rel_bucket(d), ref[d + 600]);
    CHECKF(wrong == 0, "%d distances in another bucket", wrong);
    tc_safetensors_close(&st);
}

int main(void) {
    const char *root = getenv("TC_ROOT");
    snprintf(golden_root, sizeof golden_root, "%s/tests/golden", root && *root ? root : ".");
    RUN(test_step_pooler);
    RUN(test_step_mean);
    RUN(test_mpnet_buckets);
    RUN(test_mpnet_step_pooler);
    RUN(test_mpnet_step_mean);
    HARNESS_EXIT();
}
