// Finite-difference check of the whole classifier's gradient on tiny random
// BERT models: encoder, pooling (mean, [CLS] with normalization, the
// pooler), head and loss together. The analytic gradient (f32, the backend's
// forward and backward passes) is compared with central differences of an
// independent double-precision forward (tests/bert_reference.h plus the head
// and loss written out here): for every parameter kind, all entries of
// small tensors and of the embedding rows the batch reads, a random sample
// of the others. The error of a kind is max |analytic - numeric| / max
// |numeric| over its checked entries; the threshold is 1e-4 (measured:
// 1.5e-7..2.7e-6, f32 through two layers and the fast exp/erf/tanh).
#include "tests/harness.h"
#include "tests/ensure.h"
#include "tests/tiny_bert.h"
#include "tests/bert_reference.h"
#include "common/model/classifier.h"
#include "common/error.h"

static const double GRAD_TOL = 1e-4;
enum { B = 3, K = 5, D = 6 };

typedef struct {
    tc_bert_model *m;
    tc_pooling pooling;
    int normalize;
    const int32_t *const *rows;
    const int32_t *lengths;
    double *W, *E;  // (C, D), (K, D)
    const float *y, *w;
    double scale;
} ref_problem;

static double ref_loss(const ref_problem *p) {
    int C = p->m->cfg.hidden;
    double *doc = malloc((size_t)C * 8), total = 0;
    for (int b = 0; b < B; b++) {
        ref_bert_encode(p->m, p->rows[b], NULL, p->lengths[b], p->pooling, p->normalize, doc);
        double u[D];
        for (int d = 0; d < D; d++) {
            u[d] = 0;
            for (int c = 0; c < C; c++) u[d] += doc[c] * p->W[c * D + d];
        }
        for (int k = 0; k < K; k++) {
            double s = 0;
            for (int d = 0; d < D; d++) s += u[d] * p->E[k * D + d];
            double y = p->y[b * K + k], sig = 1 / (1 + exp(-s));
            total += p->w[b * K + k] * -(y * log(sig) + (1 - y) * log(1 - sig));
        }
    }
    free(doc);
    return p->scale * total;
}

// Central difference in a float parameter: the step actually taken is
// measured, since x + h rounds in f32.
static double numeric_float(ref_problem *p, float *x) {
    float keep = *x, h = 1e-3f * (fabsf(keep) > 1 ? fabsf(keep) : 1);
    *x = keep + h;
    double up = ref_loss(p), xu = *x;
    *x = keep - h;
    double down = ref_loss(p), xd = *x;
    *x = keep;
    return (up - down) / (xu - xd);
}

static double numeric_double(ref_problem *p, double *x) {
    double keep = *x, h = 1e-6;
    *x = keep + h;
    double up = ref_loss(p);
    *x = keep - h;
    double down = ref_loss(p);
    *x = keep;
    return (up - down) / (2 * h);
}

typedef struct {
    double diff, scale;
    int checked;
} grad_stats;

static void add(grad_stats *s, double analytic, double numeric) {
    double d = fabs(analytic - numeric);
    if (d > s->diff || d != d) s->diff = d;
    if (fabs(numeric) > s->scale) s->scale = fabs(numeric);
    s->checked++;
}

static int report(const char *case_name, const char *what, const grad_stats *s) {
    double err = s->diff / (s->scale > 1e-30 ? s->scale : 1e-30);
    printf("  %-8s %-58s %4d entries, relative error %.2e\n", case_name, what, s->checked, err);
    return err < GRAD_TOL;
}

// Entries of kind k to check: all of a small tensor, the rows of the
// batch's tokens and positions for embeddings, else a sample.
static int wanted(const char *name, size_t i, size_t size, int C, const uint8_t *used_ids, uint64_t *st) {
    if (!strcmp(name, "embeddings.word_embeddings.weight")) return used_ids[i / (size_t)C];
    if (!strcmp(name, "embeddings.position_embeddings.weight")) return i / (size_t)C < 12;
    if (size <= 400) return 1;
    return (tiny_random(st) + 1) / 2 < 150.0 / (double)size;
}

static int check_case(const char *name, tiny_bert_spec spec, tc_pooling pooling, int normalize) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/grad-%s", harness_tmpdir(), name);
    tc_bert_model m;
    if (tiny_bert_write(dir, &spec) || tc_bert_model_load(&m, dir)) {
        printf("  %s\n", tc_error());
        return 0;
    }
    int C = m.cfg.hidden, ok = 1;
    uint64_t st = 99;
    int32_t lengths[B] = {7, 1, 11}, r[B][11];
    const int32_t *rows[B];
    uint8_t used[64] = {0};
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < lengths[b]; t++) r[b][t] = 5 + (int32_t)((tiny_random(&st) + 1) / 2 * (spec.vocab - 6)), used[r[b][t]] = 1;
        rows[b] = r[b];
    }
    float y[B * K], w[B * K], *E = tiny_fill(K * D, &st, 0, 0.8f), *W = tiny_fill((size_t)C * D, &st, 0, 0.6f);
    for (int i = 0; i < B * K; i++) y[i] = (float)(i % 3 == 1), w[i] = i % 4 == 2 ? 0.0f : 0.5f + (float)(i % 5) * 0.3f;
    tc_backend *be = tc_backend_cpu_create(2);
    tc_classifier *cl = NULL;
    tc_classifier_options o = {.max_batch = 4, .max_tokens = 40, .max_len = 12, .pooling = pooling, .normalize = normalize};
    float row_loss[B], scale = 1.0f / B;
    if (!be || tc_classifier_create(&cl, be, &m, &o, E, K, D, W) || tc_classifier_zero_grads(cl) ||
        tc_classifier_train_batch(cl, rows, lengths, B, y, w, scale, row_loss, NULL)) {
        printf("  %s\n", tc_error());
        ok = 0;
    }
    ref_problem p = {&m, pooling, normalize, rows, lengths, malloc((size_t)C * D * 8), malloc(K * D * 8), y, w, scale};
    for (int i = 0; i < C * D; i++) p.W[i] = W[i];
    for (int i = 0; i < K * D; i++) p.E[i] = E[i];
    // the loss itself
    double analytic_loss = 0;
    for (int b = 0; ok && b < B; b++) analytic_loss += row_loss[b] * scale;
    if (ok && fabs(analytic_loss - ref_loss(&p)) > 1e-5 * fabs(ref_loss(&p))) {
        printf("  %s: loss %.9g, reference %.9g\n", name, analytic_loss, ref_loss(&p));
        ok = 0;
    }
    for (int g = 0; ok && g < cl->n_groups; g++) {
        const tc_param_group *pg = &cl->groups[g];
        const float *grad = cl->grads + pg->offset;
        grad_stats s = {0};
        if (!strncmp(pg->name, "head.", 5)) {
            int is_w = !strcmp(pg->name, "head.weight");
            for (size_t i = 0; i < pg->count; i++) {
                // grads of W come transposed: Wt (D, C)
                size_t d = i / (size_t)C, c = i % (size_t)C;
                double *x = is_w ? &p.W[c * D + d] : &p.E[i];
                add(&s, grad[i], numeric_double(&p, x));
            }
        } else {
            for (size_t i = 0; i < pg->count; i++)
                if (wanted(pg->name, i, pg->count, C, used, &st)) add(&s, grad[i], numeric_float(&p, pg->param + i));
        }
        ok &= report(name, pg->name, &s);
    }
    free(p.W), free(p.E), free(E), free(W);
    tc_classifier_free(cl);
    tc_backend_destroy(be);
    tc_bert_model_free(&m);
    return ok;
}

static void test_gradient_mean_pooling(void) {
    tiny_bert_spec s = tiny_bert_default();
    CHECK(check_case("mean", s, TC_POOL_MEAN, 0));
}

static void test_gradient_cls_normalized(void) {
    tiny_bert_spec s = tiny_bert_default();
    s.act = "gelu_new", s.heads = 2, s.seed = 4;
    CHECK(check_case("cls+norm", s, TC_POOL_CLS, 1));
}

static void test_gradient_pooler(void) {
    tiny_bert_spec s = tiny_bert_default();
    s.pooler = 1, s.layers = 1, s.seed = 5;
    CHECK(check_case("pooler", s, TC_POOL_POOLER, 0));
}

int main(void) {
    RUN(test_gradient_mean_pooling);
    RUN(test_gradient_cls_normalized);
    RUN(test_gradient_pooler);
    HARNESS_EXIT();
}
