// Finite-difference checks of every backward operation of the CPU backend
// (through its ops table), the loss and the optimizer. Each backward pass
// (f32) is compared with central differences (h = 1e-5) of a plain
// double-precision forward of the same operation, on the loss
// L = sum(r * out) for a random r; the error reported is
// max |analytic - numeric| / max |numeric| over the gradient, and must stay
// below 1e-4 (f32 arithmetic against an exact reference: the measured
// errors are 3e-8..4e-7). Also: accumulation into existing gradients,
// results that do not depend on the thread count, AdamW against a double
// implementation of torch.optim.AdamW's update.
#include "tests/harness.h"
#include "tests/ensure.h"
#include "tests/tiny_bert.h"
#include "tests/bert_reference.h"
#include "common/error.h"
#include "common/model/bert_model.h"
#include "kernels/backend.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/train_ops.h"

static tc_backend *be;
static uint64_t rng = 777;
static const double FD_H = 1e-5, GRAD_TOL = 1e-4;

static float *rnd(size_t n, float spread) { return tiny_fill(n, &rng, 0, spread); }

static double *to_double(const float *x, size_t n) {
    double *d = malloc((n ? n : 1) * sizeof *d);
    for (size_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}

// max |a - n| / max |n|, printed.
static double grad_error(const char *what, const float *analytic, const double *numeric, size_t n) {
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(analytic[i] - numeric[i]);
        if (d > diff || d != d) diff = d;
        if (fabs(numeric[i]) > scale) scale = fabs(numeric[i]);
    }
    double err = diff / (scale > 1e-30 ? scale : 1e-30);
    printf("  %-34s relative error %.2e (max |grad| %.3g)\n", what, err, scale);
    return err;
}
#define CHECK_GRAD(what, a, num, n) \
    CHECKF(grad_error(what, a, num, n) < GRAD_TOL, "%s: gradient off by more than %g", what, GRAD_TOL)

// Central differences of loss() in each of x[0..n).
typedef double (*loss_fn)(void *ctx);
static double *numeric_grad(loss_fn loss, void *ctx, double *x, size_t n) {
    double *g = malloc((n ? n : 1) * sizeof *g);
    for (size_t i = 0; i < n; i++) {
        double keep = x[i];
        x[i] = keep + FD_H;
        double up = loss(ctx);
        x[i] = keep - FD_H;
        double down = loss(ctx);
        x[i] = keep;
        g[i] = (up - down) / (2 * FD_H);
    }
    return g;
}

static double dot(const double *a, const float *r, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * r[i];
    return s;
}

// ---------------------------------------------------------------- matmul

typedef struct {
    double *x, *w, *b, *y;
    const float *r;
    int N, IC, OC;
    tc_activation act;
} linear_ctx;

static double linear_loss(void *p) {
    linear_ctx *c = p;
    for (int n = 0; n < c->N; n++)
        for (int o = 0; o < c->OC; o++) {
            double s = c->b[o];
            for (int k = 0; k < c->IC; k++) s += c->x[n * c->IC + k] * c->w[o * c->IC + k];
            c->y[n * c->OC + o] = ref_act(s, c->act);
        }
    return dot(c->y, c->r, (size_t)c->N * c->OC);
}

static void check_matmul(tc_activation act, int N, int IC, int OC) {
    float *x = rnd((size_t)N * IC, 1), *w = rnd((size_t)OC * IC, 0.6f), *b = rnd(OC, 0.3f);
    float *out = rnd((size_t)N * OC, 1), *pre = rnd((size_t)N * OC, 1), *dout = rnd((size_t)N * OC, 1);
    float *dx = calloc((size_t)N * IC, 4), *dw = calloc((size_t)OC * IC, 4), *db = calloc(OC, 4);
    float *r = malloc((size_t)N * OC * 4);
    memcpy(r, dout, (size_t)N * OC * 4);
    be->ops->matmul_forward(be, out, pre, x, w, b, N, IC, OC, act);
    CHECK(be->ops->matmul_backward(be, dx, dw, db, dout, x, w, pre, N, IC, OC, act, 0) == 0);
    linear_ctx c = {to_double(x, (size_t)N * IC), to_double(w, (size_t)OC * IC), to_double(b, OC),
                    malloc((size_t)N * OC * 8), r, N, IC, OC, act};
    double *gx = numeric_grad(linear_loss, &c, c.x, (size_t)N * IC);
    double *gw = numeric_grad(linear_loss, &c, c.w, (size_t)OC * IC);
    double *gb = numeric_grad(linear_loss, &c, c.b, OC);
    char what[64];
    snprintf(what, sizeof what, "matmul %s d inp", tc_activation_name(act));
    CHECK_GRAD(what, dx, gx, (size_t)N * IC);
    snprintf(what, sizeof what, "matmul %s d weight", tc_activation_name(act));
    CHECK_GRAD(what, dw, gw, (size_t)OC * IC);
    snprintf(what, sizeof what, "matmul %s d bias", tc_activation_name(act));
    CHECK_GRAD(what, db, gb, OC);
    free(x), free(w), free(b), free(out), free(pre), free(dout), free(dx), free(dw), free(db), free(r);
    free(c.x), free(c.w), free(c.b), free(c.y), free(gx), free(gw), free(gb);
}

static void test_matmul_backward(void) {
    check_matmul(TC_ACT_NONE, 7, 6, 5);
    check_matmul(TC_ACT_GELU, 9, 5, 11);
    check_matmul(TC_ACT_GELU_TANH, 4, 8, 6);
    check_matmul(TC_ACT_TANH, 3, 7, 7);
    check_matmul(TC_ACT_RELU, 6, 4, 5);
    check_matmul(TC_ACT_NONE, 130, 3, 70);  // several row and column blocks
}

// Gradients add to what is there: weights always, the input with accumulate.
static void test_matmul_backward_accumulates(void) {
    int N = 5, IC = 4, OC = 3;
    float *x = rnd(20, 1), *w = rnd(12, 1), *dout = rnd(15, 1), *dout2 = malloc(60);
    float *dx0 = rnd(20, 1), *dw0 = rnd(12, 1), *db0 = rnd(3, 1);
    float dx[20], dw[12], db[3], fx[20] = {0}, fw[12] = {0}, fb[3] = {0};
    memcpy(dout2, dout, 60);
    memcpy(dx, dx0, 80), memcpy(dw, dw0, 48), memcpy(db, db0, 12);
    be->ops->matmul_backward(be, dx, dw, db, dout, x, w, NULL, N, IC, OC, TC_ACT_NONE, 1);
    be->ops->matmul_backward(be, fx, fw, fb, dout2, x, w, NULL, N, IC, OC, TC_ACT_NONE, 0);
    for (int i = 0; i < 20; i++) fx[i] += dx0[i];
    for (int i = 0; i < 12; i++) fw[i] += dw0[i];
    for (int i = 0; i < 3; i++) fb[i] += db0[i];
    CHECK_CLOSE("dx", dx, fx, 20, 1e-6, 1e-6);
    CHECK_CLOSE("dw", dw, fw, 12, 1e-6, 1e-6);
    CHECK_CLOSE("db", db, fb, 3, 1e-6, 1e-6);
    free(x), free(w), free(dout), free(dout2), free(dx0), free(dw0), free(db0);
}

// ---------------------------------------------------------------- layer norm

typedef struct {
    double *inp, *res, *w, *b, *y;
    const float *r;
    int N, C;
} ln_ctx;

static double ln_loss(void *p) {
    ln_ctx *c = p;
    for (int n = 0; n < c->N; n++) {
        double *y = c->y + n * c->C, m = 0, v = 0;
        for (int k = 0; k < c->C; k++) y[k] = c->inp[n * c->C + k] + (c->res ? c->res[n * c->C + k] : 0), m += y[k];
        m /= c->C;
        for (int k = 0; k < c->C; k++) v += (y[k] - m) * (y[k] - m);
        v /= c->C;
        for (int k = 0; k < c->C; k++) y[k] = (y[k] - m) / sqrt(v + 1e-5) * c->w[k] + c->b[k];
    }
    return dot(c->y, c->r, (size_t)c->N * c->C);
}

static void test_layernorm_backward(void) {
    int N = 6, C = 13;
    size_t NC = (size_t)N * C;
    float *inp = rnd(NC, 1.5f), *res = rnd(NC, 1), *w = tiny_fill(C, &rng, 1, 0.3f), *b = rnd(C, 0.2f);
    float *out = malloc(NC * 4), *sum = malloc(NC * 4), mean[6], rstd[6], *dout = rnd(NC, 1);
    float *dx = malloc(NC * 4), *dw = calloc(C, 4), *db = calloc(C, 4), *r = malloc(NC * 4);
    memcpy(r, dout, NC * 4);
    be->ops->layernorm_forward(be, out, mean, rstd, sum, inp, res, w, b, 1e-5f, N, C);
    CHECK(be->ops->layernorm_backward(be, dx, dw, db, dout, sum, mean, rstd, w, N, C, 0) == 0);
    ln_ctx c = {to_double(inp, NC), to_double(res, NC), to_double(w, C), to_double(b, C), malloc(NC * 8), r, N, C};
    double *gi = numeric_grad(ln_loss, &c, c.inp, NC), *gr = numeric_grad(ln_loss, &c, c.res, NC);
    double *gw = numeric_grad(ln_loss, &c, c.w, C), *gb = numeric_grad(ln_loss, &c, c.b, C);
    CHECK_GRAD("layernorm d inp", dx, gi, NC);
    CHECK_GRAD("layernorm d residual", dx, gr, NC);
    CHECK_GRAD("layernorm d weight", dw, gw, C);
    CHECK_GRAD("layernorm d bias", db, gb, C);
    // in place (dx = dout) and accumulating give the same
    float *inplace = malloc(NC * 4), *acc = malloc(NC * 4), dw2[13] = {0}, db2[13] = {0};
    memcpy(inplace, r, NC * 4);
    for (size_t i = 0; i < NC; i++) acc[i] = 1.0f;
    be->ops->layernorm_backward(be, inplace, dw2, db2, inplace, sum, mean, rstd, w, N, C, 0);
    CHECK_CLOSE("in place", inplace, dx, NC, 0, 0);
    be->ops->layernorm_backward(be, acc, dw2, db2, r, sum, mean, rstd, w, N, C, 1);
    for (size_t i = 0; i < NC; i++) acc[i] -= 1.0f;
    CHECK_CLOSE("accumulated", acc, dx, NC, 1e-6, 1e-5);
    for (int i = 0; i < C; i++) dw2[i] *= 0.5f;
    CHECK_CLOSE("dw added twice", dw2, dw, C, 1e-6, 1e-5);
    free(inp), free(res), free(w), free(b), free(out), free(sum), free(dout), free(dx), free(dw), free(db), free(r);
    free(c.inp), free(c.res), free(c.w), free(c.b), free(c.y), free(gi), free(gr), free(gw), free(gb);
    free(inplace), free(acc);
}

// ---------------------------------------------------------------- attention

typedef struct {
    double *qkv, *y;
    const float *r;
    const int32_t *off;
    int B, C, NH;
} att_ctx;

static double att_loss(void *p) {
    att_ctx *c = p;
    int C = c->C, HS = C / c->NH;
    double sc[16];
    for (int b = 0; b < c->B; b++) {
        int o = c->off[b], L = c->off[b + 1] - o;
        for (int h = 0; h < c->NH; h++)
            for (int i = 0; i < L; i++) {
                double mx = -1e300, s = 0;
                for (int j = 0; j < L; j++) {
                    double d = 0;
                    for (int e = 0; e < HS; e++)
                        d += c->qkv[(size_t)(o + i) * 3 * C + h * HS + e] * c->qkv[(size_t)(o + j) * 3 * C + C + h * HS + e];
                    sc[j] = d / sqrt((double)HS);
                    if (sc[j] > mx) mx = sc[j];
                }
                for (int j = 0; j < L; j++) s += sc[j] = exp(sc[j] - mx);
                for (int e = 0; e < HS; e++) {
                    double v = 0;
                    for (int j = 0; j < L; j++) v += sc[j] / s * c->qkv[(size_t)(o + j) * 3 * C + 2 * C + h * HS + e];
                    c->y[(size_t)(o + i) * C + h * HS + e] = v;
                }
            }
    }
    return dot(c->y, c->r, (size_t)c->off[c->B] * C);
}

static void test_attention_backward(void) {
    int32_t off[4] = {0, 5, 6, 10};  // lengths 5, 1, 4
    int B = 3, T = 5, N = 10, C = 12, NH = 3;
    tc_seq_layout layout = {B, T, N, off, off};
    size_t NC = (size_t)N * C;
    float *qkv = rnd(3 * NC, 1.2f), *y = malloc(NC * 4), *att = malloc((size_t)B * NH * T * T * 4);
    float *scratch = malloc(be->ops->attention_scratch_bytes(be, B, T, C, NH));
    float *bscratch = malloc(be->ops->attention_backward_scratch_bytes(be, B, T, C, NH));
    float *dy = rnd(NC, 1), *dqkv = malloc(3 * NC * 4);
    be->ops->attention_forward(be, y, att, scratch, qkv, &layout, C, NH, NULL);
    CHECK(be->ops->attention_backward(be, dqkv, bscratch, dy, att, qkv, &layout, C, NH, NULL) == 0);
    att_ctx c = {to_double(qkv, 3 * NC), malloc(NC * 8), dy, off, B, C, NH};
    double *g = numeric_grad(att_loss, &c, c.qkv, 3 * NC);
    CHECK_GRAD("attention d qkv", dqkv, g, 3 * NC);
    CHECK(be->ops->attention_backward(be, dqkv, bscratch, dy, NULL, qkv, &layout, C, NH, NULL) == -1 &&
          strstr(tc_error(), "did not keep"));
    free(qkv), free(y), free(att), free(scratch), free(bscratch), free(dy), free(dqkv), free(c.qkv), free(c.y), free(g);
}

// ---------------------------------------------------------------- embeddings, pooling, normalize

static void test_embeddings_backward(void) {
    int N = 6, C = 5, V = 4, P = 6, TT = 2;
    int32_t ids[6] = {1, 3, 1, 0, 1, 2}, pos[6] = {0, 1, 2, 0, 1, 2}, types[6] = {0, 1, 1, 0, 0, 1};
    float *dout = rnd((size_t)N * C, 1), dwte[20] = {0}, dwpe[30] = {0}, dwtt[10] = {0};
    float ewte[20] = {0}, ewpe[30] = {0}, ewtt[10] = {0};
    CHECK(be->ops->embeddings_backward(be, dwte, dwpe, dwtt, dout, ids, pos, types, N, C) == 0);
    // the forward is a sum of rows: its gradient is exact bookkeeping
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            ewte[ids[n] * C + c] += dout[n * C + c];
            ewpe[pos[n] * C + c] += dout[n * C + c];
            ewtt[types[n] * C + c] += dout[n * C + c];
        }
    CHECK_CLOSE("dwte", dwte, ewte, (size_t)V * C, 1e-6, 1e-6);
    CHECK_CLOSE("dwpe", dwpe, ewpe, (size_t)P * C, 1e-6, 1e-6);
    CHECK_CLOSE("dwtt", dwtt, ewtt, (size_t)TT * C, 1e-6, 1e-6);
    // types NULL: all type 0
    float dwtt0[10] = {0};
    be->ops->embeddings_backward(be, NULL, NULL, dwtt0, dout, ids, pos, NULL, N, C);
    for (int c = 0; c < C; c++) {
        float s = 0;
        for (int n = 0; n < N; n++) s += dout[n * C + c];
        CHECK(fabsf(dwtt0[c] - s) < 1e-5f && dwtt0[C + c] == 0);
    }
    free(dout);
}

static void test_pool_backward(void) {
    int32_t off[3] = {0, 3, 4};
    tc_seq_layout layout = {2, 3, 4, off, off};
    float dout[6] = {3, 6, 9, 1, 2, 4}, dx[12];
    for (int i = 0; i < 12; i++) dx[i] = 99;
    be->ops->pool_backward(be, dx, dout, &layout, 3, TC_POOL_MEAN);
    float mean[12] = {1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 4};
    CHECK_CLOSE("mean", dx, mean, 12, 1e-7, 0);
    be->ops->pool_backward(be, dx, dout, &layout, 3, TC_POOL_CLS);
    float cls[12] = {3, 6, 9, 0, 0, 0, 0, 0, 0, 1, 2, 4};
    CHECK_CLOSE("cls", dx, cls, 12, 0, 0);
}

typedef struct {
    double *x, *y;
    const float *r;
    int B, D;
} norm_ctx;

static double norm_loss(void *p) {
    norm_ctx *c = p;
    for (int b = 0; b < c->B; b++) {
        double ss = 0;
        for (int d = 0; d < c->D; d++) ss += c->x[b * c->D + d] * c->x[b * c->D + d];
        double n = sqrt(ss) > 1e-12 ? sqrt(ss) : 1e-12;
        for (int d = 0; d < c->D; d++) c->y[b * c->D + d] = c->x[b * c->D + d] / n;
    }
    return dot(c->y, c->r, (size_t)c->B * c->D);
}

static void test_normalize_backward(void) {
    int B = 4, D = 7;
    float *x = rnd(28, 1), *dy = rnd(28, 1), dx[28];
    CHECK(be->ops->normalize_backward(be, dx, dy, x, B, D) == 0);
    norm_ctx c = {to_double(x, 28), malloc(28 * 8), dy, B, D};
    double *g = numeric_grad(norm_loss, &c, c.x, 28);
    CHECK_GRAD("normalize d x", dx, g, 28);
    free(x), free(dy), free(c.x), free(c.y), free(g);
}

// ---------------------------------------------------------------- loss

typedef struct {
    double *s;
    const float *y, *w;
    int n;
} bce_ctx;

static double bce_ref(void *p) {
    bce_ctx *c = p;
    double t = 0;
    for (int i = 0; i < c->n; i++) {
        double s = c->s[i], y = c->y[i];
        t += c->w[i] * -(y * log(1 / (1 + exp(-s))) + (1 - y) * log(1 - 1 / (1 + exp(-s))));
    }
    return t;
}

static void test_bce_loss(void) {
    int B = 3, K = 5;
    float s[15], y[15], w[15], loss[3], ds[15];
    for (int i = 0; i < 15; i++) {
        s[i] = (float)(tiny_random(&rng) * 6);
        y[i] = (float)(i % 3 == 0);
        w[i] = i % 7 == 3 ? 0.0f : (float)(1 + tiny_random(&rng) * 0.5);
    }
    float scale = 0.25f;
    CHECK(be->ops->bce_loss(be, loss, ds, s, y, w, B, K, scale) == 0);
    bce_ctx c = {to_double(s, 15), y, w, 15};
    double *g = numeric_grad(bce_ref, &c, c.s, 15);
    for (int i = 0; i < 15; i++) g[i] *= scale;
    CHECK_GRAD("bce d logits", ds, g, 15);
    for (int b = 0; b < B; b++) {
        bce_ctx row = {c.s + b * K, y + b * K, w + b * K, K};
        CHECKF(fabs(loss[b] - bce_ref(&row)) < 1e-5 * fabs(bce_ref(&row)) + 1e-6, "row %d loss %g vs %g", b, loss[b],
               bce_ref(&row));
    }
    // large logits: no overflow, the loss is linear in them
    float big[2] = {200.0f, -200.0f}, one[2] = {0, 1}, wt[2] = {1, 1}, l1, d2[2];
    be->ops->bce_loss(be, &l1, d2, big, one, wt, 1, 2, 1.0f);
    CHECKF(fabsf(l1 - 400.0f) < 1e-3f && d2[0] == 1.0f && d2[1] == -1.0f, "loss %g grads %g %g", l1, d2[0], d2[1]);
    free(c.s), free(g);
}

// ---------------------------------------------------------------- optimizer

static void test_adamw_matches_reference(void) {
    size_t n = 100003;
    float *p = rnd(n, 1), *m = calloc(n, 4), *v = calloc(n, 4);
    double *pd = to_double(p, n), *md = calloc(n, 8), *vd = calloc(n, 8);
    tc_adamw_args a = {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.01f};
    for (long t = 1; t <= 3; t++) {
        float *g = rnd(n, 2);
        a.step = t;
        a.grad_scale = t == 2 ? 0.5f : 1.0f;
        CHECK(be->ops->adamw_update(be, p, g, m, v, n, &a) == 0);
        double bc1 = 1 - pow(0.9, (double)t), bc2 = 1 - pow(0.999, (double)t);
        for (size_t i = 0; i < n; i++) {
            double gi = (double)g[i] * a.grad_scale;
            pd[i] *= 1 - 1e-3 * 0.01;
            md[i] = 0.9 * md[i] + 0.1 * gi;
            vd[i] = 0.999 * vd[i] + 0.001 * gi * gi;
            pd[i] -= 1e-3 / bc1 * md[i] / (sqrt(vd[i]) / sqrt(bc2) + 1e-8);
        }
        free(g);
    }
    float *pf = malloc(n * 4);
    for (size_t i = 0; i < n; i++) pf[i] = (float)pd[i];
    CHECK_CLOSE("params after 3 steps", p, pf, n, 2e-6, 1e-5);
    a.step = 0;
    CHECK(be->ops->adamw_update(be, p, p, m, v, n, &a) == -1);
    free(p), free(m), free(v), free(pd), free(md), free(vd), free(pf);
}

static void test_sumsq(void) {
    size_t n = 300001;
    float *x = rnd(n, 3);
    double ref = 0, got;
    for (size_t i = 0; i < n; i++) ref += (double)x[i] * x[i];
    CHECK(be->ops->sumsq(be, &got, x, n) == 0);
    CHECKF(fabs(got - ref) <= 1e-12 * ref, "%.17g vs %.17g", got, ref);
    free(x);
}

// Layer-norm and norm sums: the same bits on 1 and on 3 threads; matrix
// products: the same bits run after run on a thread count.
static void test_thread_count_independent(void) {
    tc_backend *one = tc_backend_cpu_create(1), *three = tc_backend_cpu_create(3);
    ENSURE(one && three);
    int N = 300, IC = 40, OC = 70, C = 40;
    float *x = rnd((size_t)N * IC, 1), *w = rnd((size_t)OC * IC, 1), *pre = rnd((size_t)N * OC, 1);
    float *d1 = rnd((size_t)N * OC, 1), *d3 = malloc((size_t)N * OC * 4);
    memcpy(d3, d1, (size_t)N * OC * 4);
    float *dx1 = calloc((size_t)N * IC, 4), *dx3 = calloc((size_t)N * IC, 4), *dw1 = calloc((size_t)OC * IC, 4),
          *dw3 = calloc((size_t)OC * IC, 4), *db1 = calloc(OC, 4), *db3 = calloc(OC, 4);
    // matrix products: OpenBLAS's blocking follows the split, so only the
    // same thread count repeats a result bit for bit
    three->ops->matmul_backward(three, dx1, dw1, db1, d1, x, w, pre, N, IC, OC, TC_ACT_GELU, 0);
    three->ops->matmul_backward(three, dx3, dw3, db3, d3, x, w, pre, N, IC, OC, TC_ACT_GELU, 0);
    CHECK(!memcmp(dx1, dx3, (size_t)N * IC * 4) && !memcmp(dw1, dw3, (size_t)OC * IC * 4) && !memcmp(db1, db3, OC * 4));
    float mean[300], rstd[300], *lw = rnd(C, 1), *ldw1 = calloc(C, 4), *ldw3 = calloc(C, 4), *ldb1 = calloc(C, 4),
          *ldb3 = calloc(C, 4);
    for (int i = 0; i < N; i++) mean[i] = 0.1f, rstd[i] = 2.0f;
    one->ops->layernorm_backward(one, dx1, ldw1, ldb1, x, x, mean, rstd, lw, N, C, 0);
    three->ops->layernorm_backward(three, dx3, ldw3, ldb3, x, x, mean, rstd, lw, N, C, 0);
    CHECK(!memcmp(dx1, dx3, (size_t)N * C * 4) && !memcmp(ldw1, ldw3, C * 4) && !memcmp(ldb1, ldb3, C * 4));
    double s1, s3;
    float *big = rnd(1000000, 1);
    one->ops->sumsq(one, &s1, big, 1000000);
    three->ops->sumsq(three, &s3, big, 1000000);
    CHECK(s1 == s3);
    tc_backend_destroy(one), tc_backend_destroy(three);
    free(x), free(w), free(pre), free(d1), free(d3), free(dx1), free(dx3), free(dw1), free(dw3), free(db1), free(db3);
    free(lw), free(ldw1), free(ldw3), free(ldb1), free(ldb3), free(big);
}

int main(void) {
    be = tc_backend_cpu_create(2);
    if (!be) return 1;
    RUN(test_matmul_backward);
    RUN(test_matmul_backward_accumulates);
    RUN(test_layernorm_backward);
    RUN(test_attention_backward);
    RUN(test_embeddings_backward);
    RUN(test_pool_backward);
    RUN(test_normalize_backward);
    RUN(test_bce_loss);
    RUN(test_adamw_matches_reference);
    RUN(test_sumsq);
    RUN(test_thread_count_independent);
    tc_backend_destroy(be);
    HARNESS_EXIT();
}
