#include "common/predict/predictor.h"
#include "common/model/checkpoint.h"
#include "common/model/encoder.h"
#include "common/error.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CLASSIFIER_FORMAT_VERSION = 1 };

static int json_int(json_t *o, const char *key, const char *path, int min, int *out) {
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > (1 << 30))
        return tc_fail("%s: '%s' must be an integer of at least %d", path, key, min);
    *out = (int)json_integer_value(v);
    return 0;
}

// classifier.json: how tc-train scored, and the class names.
static int read_settings(tc_predictor_model *pm, const char *path) {
    json_error_t err;
    json_t *o = json_load_file(path, 0, &err);
    if (!o) return tc_fail("%s: %s (line %d)", path, err.text, err.line);
    int rc = -1, hidden, class_dim, n_classes;
    json_t *version = json_object_get(o, "version"), *pooling = json_object_get(o, "pooling"),
           *normalize = json_object_get(o, "normalize"), *names = json_object_get(o, "class_names");
    if (!json_is_object(o)) tc_fail("%s: not a JSON object", path);
    else if (!json_is_integer(version) || json_integer_value(version) < 1)
        tc_fail("%s: no format 'version'", path);
    else if (json_integer_value(version) > CLASSIFIER_FORMAT_VERSION)
        tc_fail("%s: format version %lld; this build reads version %d (a newer tc-train wrote it)", path,
                (long long)json_integer_value(version), CLASSIFIER_FORMAT_VERSION);
    else if (!json_is_string(pooling) || tc_pooling_parse(json_string_value(pooling), &pm->pooling))
        tc_fail("%s: 'pooling' must be mean, cls or pooler", path);
    else if (!json_is_boolean(normalize))
        tc_fail("%s: 'normalize' must be true or false", path);
    else if (json_int(o, "max_length", path, 2, &pm->max_len) || json_int(o, "hidden_size", path, 1, &hidden) ||
             json_int(o, "class_dim", path, 1, &class_dim) || json_int(o, "num_classes", path, 1, &n_classes))
        ;
    else if (!json_is_array(names) || json_array_size(names) != (size_t)n_classes)
        tc_fail("%s: 'class_names' must list the %d classes", path, n_classes);
    else {
        pm->normalize = json_is_true(normalize);
        pm->C = hidden, pm->D = class_dim, pm->K = n_classes;
        pm->class_names = tc_calloc((size_t)n_classes, sizeof *pm->class_names);
        rc = pm->class_names ? 0 : -1;
        for (int k = 0; rc == 0 && k < n_classes; k++) {
            const char *s = json_string_value(json_array_get(names, (size_t)k));
            char shown[256];
            if (!s) rc = tc_fail("%s: class name %d is not a string", path, k);
            else if (tc_unprintable(s))  // the rule of taxonomy names: they reach outputs as they are
                rc = tc_fail("%s: class name %d ('%s') has a control character in it", path, k,
                             tc_escape(shown, sizeof shown, s));
            else if (!(pm->class_names[k] = strdup(s))) rc = tc_fail("out of memory");
        }
    }
    json_decref(o);
    return rc;
}

// The encoder and the head must agree with classifier.json.
static int check_sizes(tc_predictor_model *pm, const char *dir, int K, int D) {
    const tc_bert_model *m = &pm->model;
    if (m->cfg.hidden != pm->C)
        return tc_fail("%s/classifier.json: hidden_size %d, but config.json says %d", dir, pm->C, m->cfg.hidden);
    if (K != pm->K || D != pm->D)
        return tc_fail("%s/head.safetensors: %d classes of %d values; classifier.json says %d of %d", dir, K, D, pm->K,
                       pm->D);
    if (pm->pooling == TC_POOL_POOLER && !m->cfg.has_pooler)
        return tc_fail("%s/classifier.json: pooling 'pooler', but the model has no pooler.dense.weight", dir);
    // tc-train records its --max-len; what the model's positions allow is what it trained on
    if (pm->max_len > tc_bert_max_len(&m->cfg)) pm->max_len = tc_bert_max_len(&m->cfg);
    return 0;
}

int tc_predictor_model_load(tc_predictor_model *pm, const char *dir) {
    memset(pm, 0, sizeof *pm);
    char path[4096];
    snprintf(path, sizeof path, "%s/classifier.json", dir);
    if (access(dir, F_OK)) return tc_fail("%s: no such checkpoint directory", dir);
    if (access(path, F_OK))
        return tc_fail("%s: not a tc-train checkpoint (no classifier.json; a training run's directory holds "
                       "final/ and best/)",
                       dir);
    pm->dir = strdup(dir);
    if (!pm->dir) return tc_fail("out of memory");
    float *W = NULL;
    int K = 0, D = 0, rc = read_settings(pm, path) || tc_bert_model_load(&pm->model, dir) ? -1 : 0;
    if (rc == 0) rc = tc_checkpoint_load_head(dir, &K, &D, pm->model.cfg.hidden, &W, &pm->E);
    if (rc == 0) rc = check_sizes(pm, dir, K, D);
    if (rc == 0) {
        size_t C = (size_t)pm->C;
        pm->Wt = tc_malloc_array((size_t)D * C, sizeof *pm->Wt);
        if (!pm->Wt) rc = -1;
        for (size_t c = 0; rc == 0 && c < C; c++)
            for (size_t d = 0; d < (size_t)D; d++) pm->Wt[d * C + c] = W[c * (size_t)D + d];
    }
    free(W);
    if (rc) tc_predictor_model_free(pm);
    return rc;
}

void tc_predictor_model_free(tc_predictor_model *pm) {
    if (pm->model.dir) tc_bert_model_free(&pm->model);
    for (int k = 0; pm->class_names && k < pm->K; k++) free(pm->class_names[k]);
    free(pm->class_names);
    free(pm->Wt), free(pm->E), free(pm->dir);
    memset(pm, 0, sizeof *pm);
}

// ---------------------------------------------------------------- scoring

struct tc_predictor {
    const tc_predictor_model *pm;
    tc_encoder *encoder;
    tc_backend *head;        // the CPU backend, for the head's two products
    size_t max_rows;         // window capacity
    tc_encoder_window window;  // the rows in flight (the encoder keeps a pointer to it)
    int in_flight;           // rows started and not waited for
    float *doc[2];           // (max_rows, C) document vectors, the buffers taking turns
    int fill;                // the buffer the next start fills
    const float *ready;      // the vectors of the rows waited for last
    size_t ready_n;
    float *u;                // (max_rows, D) doc . W
};

int tc_predictor_create(tc_predictor **out, const tc_predictor_model *pm, const tc_predictor_options *opt) {
    *out = NULL;
    tc_predictor *p = tc_calloc(1, sizeof *p);
    if (!p) return -1;
    p->pm = pm;
    p->max_rows = opt->max_rows ? opt->max_rows : 1;
    tc_encoder_options eo = {.batch_size = opt->batch_size, .max_len = opt->max_len, .pooling = pm->pooling,
                             .normalize = pm->normalize, .precision = opt->precision, .threads = opt->threads,
                             .devices = opt->devices};
    for (int i = 0; i < 2; i++) p->doc[i] = tc_malloc_array(p->max_rows * (size_t)pm->C, sizeof(float));
    p->u = tc_malloc_array(p->max_rows * (size_t)pm->D, sizeof *p->u);
    if (!p->doc[0] || !p->doc[1] || !p->u || !(p->head = tc_backend_cpu_create(opt->threads)) ||
        tc_encoder_create(&p->encoder, &pm->model, &eo)) {
        tc_predictor_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

void tc_predictor_free(tc_predictor *p) {
    if (!p) return;
    tc_encoder_free(p->encoder);
    tc_backend_destroy(p->head);
    free(p->doc[0]), free(p->doc[1]), free(p->u);
    free(p);
}

int tc_predictor_workers(const tc_predictor *p) { return tc_encoder_workers(p->encoder); }

int tc_predictor_start(tc_predictor *p, size_t n, const int32_t *const *rows, const int32_t *lengths) {
    if (n > p->max_rows) return tc_fail("%zu rows in a window of %zu", n, p->max_rows);
    if (p->in_flight) return tc_fail("rows are still being encoded");
    p->window = (tc_encoder_window){n, rows, lengths, p->doc[p->fill]};
    if (tc_encoder_start(p->encoder, &p->window)) return -1;
    p->in_flight = 1;
    return 0;
}

int tc_predictor_wait(tc_predictor *p) {
    if (!p->in_flight) return tc_fail("no rows are being encoded");
    p->in_flight = 0;
    if (tc_encoder_finish(p->encoder)) return -1;
    p->ready = p->doc[p->fill];
    p->ready_n = p->window.n;
    p->fill ^= 1;
    return 0;
}

// scores (n, K) = (doc . Wt^T) . E^T, as the classifier's head computes them.
int tc_predictor_head(tc_predictor *p, float *scores) {
    const tc_predictor_model *pm = p->pm;
    const tc_backend_ops *op = p->head->ops;
    int n = (int)p->ready_n;
    if (n == 0) return 0;
    return op->matmul_forward(p->head, p->u, NULL, p->ready, pm->Wt, NULL, n, pm->C, pm->D, TC_ACT_NONE) ||
                   op->matmul_forward(p->head, scores, NULL, p->u, pm->E, NULL, n, pm->D, pm->K, TC_ACT_NONE)
               ? -1
               : 0;
}

int tc_predictor_finish(tc_predictor *p, float *scores) {
    return tc_predictor_wait(p) || tc_predictor_head(p, scores) ? -1 : 0;
}
