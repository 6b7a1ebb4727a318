// A small training problem held in memory for tests that drive the trainer
// directly (tc_train_run): a tiny random BERT written to a directory
// (tests/tiny_bert.h), documents of random tokens with 1-2 positive classes
// of K, a masked class now and then and weights 1 or 0.5, and class vectors;
// plus helpers to run the trainer on a backend and read the parameters back.
#ifndef TC_TESTS_TRAIN_PROBLEM_H
#define TC_TESTS_TRAIN_PROBLEM_H

#include "tests/tiny_bert.h"
#include "common/model/classifier.h"
#include "common/train/trainer.h"

enum { TP_MAX_DOCS = 64, TP_K = 6, TP_D = 8, TP_MAX_LEN = 20 };

typedef struct {
    tc_train_set s;
    char *ids[TP_MAX_DOCS];
    char names[TP_MAX_DOCS][8];
    int64_t tok_off[TP_MAX_DOCS + 1], pos_off[TP_MAX_DOCS + 1], mask_off[TP_MAX_DOCS + 1];
    int32_t tokens[TP_MAX_DOCS * TP_MAX_LEN], pos[TP_MAX_DOCS * 2], mask[TP_MAX_DOCS];
    float weights[TP_MAX_DOCS];
    uint32_t idx[TP_MAX_DOCS];
    float E[TP_K * TP_D];
    const char *class_names[TP_K];
    char dir[2048];
    tiny_bert_spec spec;
} train_problem;

// n_docs documents (<= TP_MAX_DOCS) and a model in DIR/model; 0 or -1.
static inline int train_problem_make(train_problem *p, const char *dir, int n_docs, uint64_t seed, int pooler) {
    memset(p, 0, sizeof *p);
    uint64_t st = seed;
    p->spec = tiny_bert_default();
    p->spec.pooler = pooler;
    p->spec.seed = seed;
    snprintf(p->dir, sizeof p->dir, "%s/model", dir);
    mkdir(dir, 0777);
    if (tiny_bert_write(p->dir, &p->spec)) return -1;
    static const char *names[TP_K] = {"c0", "c1", "c2", "c3", "c4", "c5"};
    for (int k = 0; k < TP_K; k++) p->class_names[k] = names[k];
    for (int i = 0; i < n_docs; i++) {
        snprintf(p->names[i], sizeof p->names[i], "d%d", i);
        p->ids[i] = p->names[i];
        int len = 4 + (int)((tiny_random(&st) + 1) / 2 * (TP_MAX_LEN - 4));
        int32_t *t = p->tokens + p->tok_off[i];
        t[0] = 2;
        for (int j = 1; j < len - 1; j++) t[j] = 5 + (int)((tiny_random(&st) + 1) / 2 * (p->spec.vocab - 6));
        t[len - 1] = 3;
        p->tok_off[i + 1] = p->tok_off[i] + len;
        int c = i % TP_K;
        p->pos_off[i + 1] = p->pos_off[i];
        p->pos[p->pos_off[i + 1]++] = c;
        if (i % 3 == 0) p->pos[p->pos_off[i + 1]++] = (c + 2) % TP_K;
        p->mask_off[i + 1] = p->mask_off[i];
        if (i % 4 == 1) p->mask[p->mask_off[i + 1]++] = (c + 1) % TP_K;
        p->weights[i] = i % 5 == 4 ? 0.5f : 1.0f;
        p->idx[i] = (uint32_t)i;
    }
    for (int i = 0; i < TP_K * TP_D; i++) p->E[i] = (float)tiny_random(&st);
    tc_train_set *s = &p->s;
    s->n_docs = (uint64_t)n_docs, s->doc_ids = p->ids, s->tok_offsets = p->tok_off, s->tokens = p->tokens;
    s->pos_offsets = p->pos_off, s->pos_classes = p->pos, s->mask_offsets = p->mask_off, s->mask_classes = p->mask;
    s->weights = p->weights, s->longest = TP_MAX_LEN;
    s->fingerprint = seed;
    return 0;
}

// The settings of a short run: constant rate, no warmup, eps large enough
// that float noise in a zero gradient stays small (tests/cli/test_train.sh).
static inline tc_train_config train_problem_config(const train_problem *p, const char *out_dir, int batch,
                                                   long steps) {
    tc_train_config c = {.train = &p->s, .train_idx = p->idx, .n_train = p->s.n_docs, .batch = batch,
                         .accumulate = 1, .epochs = 100, .max_steps = steps, .seed = 3, .lr = 1e-3,
                         .warmup_steps = 0, .constant_lr = 1, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-6f,
                         .weight_decay = 0.01f, .max_grad_norm = 1.0f, .out_dir = out_dir, .source_dir = p->dir,
                         .class_names = p->class_names, .max_len = TP_MAX_LEN};
    return c;
}

static inline tc_classifier_options train_problem_options(int batch, tc_pooling pooling) {
    tc_classifier_options o = {batch, batch * TP_MAX_LEN, TP_MAX_LEN, pooling, 0, 0};
    return o;
}

// The classifier's parameters on the host: enc (n_encoder), W (C, D), E (K, D).
static inline int classifier_params(tc_classifier *cl, float *enc, float *W, float *E) {
    tc_backend *be = cl->be;
    if (cl->encoder_master) {
        if (be->ops->download(be, enc, cl->encoder_master, cl->n_encoder * 4) || be->ops->synchronize(be)) return -1;
    } else {
        memcpy(enc, cl->model->params_memory, cl->n_encoder * 4);
    }
    return tc_classifier_get_head(cl, W, E);
}

// The classifier's gradient (n_total f32) on the host.
static inline int classifier_grads(tc_classifier *cl, float *g) {
    tc_backend *be = cl->be;
    return be->ops->download(be, g, cl->grads, cl->n_total * 4) || be->ops->synchronize(be) ? -1 : 0;
}

#endif
