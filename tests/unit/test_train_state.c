// The CPU backend's whole-step entries (kernels/train_state.h): the step's
// decision (norm, clipping, skip of a non-finite gradient, fp16 dynamic loss
// scale: halved on overflow, doubled after the growth interval, as
// torch.cuda.amp.GradScaler), AdamW driven by the state against the
// step-by-step adamw_update (same bits), a skipped step that changes
// nothing, the loss of a micro-batch against bce_loss (same bits without
// loss scaling, exactly 8x its gradient with scale 8, the first non-finite
// sum's tag kept), grad_sumsq against sumsq, from_f32. The CUDA backend runs
// the same decision code (tests/gpu/test_gpu_train_ops.c compares them).
#include "tests/harness.h"
#include "tests/ensure.h"
#include "tests/tiny_bert.h"
#include "common/error.h"
#include "common/train/optim.h"
#include "kernels/backend.h"

static tc_backend *be;
static uint64_t rng = 4242;

static tc_step_args step_args(int dynamic, double max_norm, int64_t step) {
    tc_step_args a = {1e-3f, 0.9f, 0.999f, max_norm, dynamic, 3, step};
    return a;
}

static void test_decide_finite(void) {
    tc_train_state s = tc_train_state_init(1.0f);
    for (int t = 1; t <= 3; t++) {
        s.sumsq = 16.0 * t;
        tc_step_args a = step_args(0, 1.0, t);
        ENSURE(be->ops->step_decide(be, &s, &a) == 0);
        CHECK(s.skip == 0 && s.adam_steps == t && s.skipped == 0 && s.first_skip == -1);
        CHECK(s.grad_norm == sqrt(16.0 * t));
        CHECK(s.grad_scale == tc_clip_coefficient(sqrt(16.0 * t), 1.0));
        CHECK(s.step_size == (float)(1e-3f / (1.0 - pow(0.9f, t))));
        CHECK(s.bc2_sqrt == (float)sqrt(1.0 - pow(0.999f, t)));
        CHECK(s.loss_scale == 1.0f);
    }
    // no clipping below the threshold, nor with it off
    s.sumsq = 0.25;
    tc_step_args a = step_args(0, 1.0, 4);
    ENSURE(be->ops->step_decide(be, &s, &a) == 0);
    CHECK(s.grad_scale == 1.0f);
    s.sumsq = 1e6;
    a = step_args(0, 0, 5);
    ENSURE(be->ops->step_decide(be, &s, &a) == 0);
    CHECK(s.grad_scale == 1.0f);
    // the inline coefficient is optim.c's
    double norms[] = {0, 1e-7, 0.5, 0.999999, 1, 1.5, 3e4};
    for (size_t i = 0; i < sizeof norms / sizeof *norms; i++)
        CHECKF(tc_clip_coefficient_inline(norms[i], 1.0) == tc_clip_coefficient(norms[i], 1.0), "norm %g", norms[i]);
}

static void test_decide_nonfinite(void) {
    tc_train_state s = tc_train_state_init(1.0f);
    s.sumsq = 4;
    tc_step_args a = step_args(0, 1.0, 1);
    ENSURE(be->ops->step_decide(be, &s, &a) == 0);
    s.sumsq = NAN;
    a = step_args(0, 1.0, 2);
    ENSURE(be->ops->step_decide(be, &s, &a) == 0);
    CHECK(s.skip == 1 && s.skipped == 1 && s.first_skip == 2 && s.adam_steps == 1 && s.loss_scale == 1.0f);
    s.sumsq = INFINITY;
    a = step_args(0, 1.0, 3);
    ENSURE(be->ops->step_decide(be, &s, &a) == 0);
    CHECK(s.skip == 1 && s.skipped == 2 && s.first_skip == 2 && s.adam_steps == 1);
    s.sumsq = 1;
    a = step_args(0, 1.0, 4);
    ENSURE(be->ops->step_decide(be, &s, &a) == 0);
    CHECK(s.skip == 0 && s.adam_steps == 2);
}

static void test_dynamic_loss_scale(void) {
    tc_train_state s = tc_train_state_init(1024.0f);
    // overflow: skipped, the scale halves
    s.sumsq = INFINITY;
    tc_step_args a = step_args(1, 1.0, 1);
    ENSURE(be->ops->step_decide(be, &s, &a) == 0);
    CHECK(s.skip == 1 && s.loss_scale == 512.0f && s.adam_steps == 0 && s.good_steps == 0);
    // finite steps: the norm and the multiplier undo the scale; after the
    // growth interval (3 here) the scale doubles
    for (int t = 2; t <= 4; t++) {
        s.sumsq = 512.0 * 512.0 * 0.25;  // unscaled norm 0.5
        a = step_args(1, 1.0, t);
        ENSURE(be->ops->step_decide(be, &s, &a) == 0);
        CHECK(s.skip == 0 && s.grad_norm == 0.5 && s.grad_scale == 1.0f / 512.0f);
        CHECK(s.adam_steps == t - 1);
    }
    CHECK(s.loss_scale == 1024.0f && s.good_steps == 0);
    // clipping applies to the unscaled norm
    s.sumsq = 1024.0 * 1024.0 * 16.0;  // unscaled norm 4
    a = step_args(1, 1.0, 5);
    ENSURE(be->ops->step_decide(be, &s, &a) == 0);
    CHECK(s.grad_norm == 4.0 && s.grad_scale == tc_clip_coefficient(4.0, 1.0) / 1024.0f);
    CHECK(s.good_steps == 1);
    // an overflow resets the count
    s.sumsq = NAN;
    a = step_args(1, 1.0, 6);
    ENSURE(be->ops->step_decide(be, &s, &a) == 0);
    CHECK(s.loss_scale == 512.0f && s.good_steps == 0 && s.skipped == 2 && s.first_skip == 1);
}

static void test_adamw_step_matches_update(void) {
    enum { N = 3000 };
    float *p1 = tiny_fill(N, &rng, 0, 1), *g = tiny_fill(N, &rng, 0, 2), *m1 = tiny_fill(N, &rng, 0, 0.1f);
    float *v1 = tiny_fill(N, &rng, 0.5f, 0.4f), p2[N], m2[N], v2[N], p3[N], m3[N], v3[N], p0[N], m0[N], v0[N];
    memcpy(p2, p1, sizeof p2), memcpy(m2, m1, sizeof m2), memcpy(v2, v1, sizeof v2);
    memcpy(p3, p1, sizeof p3), memcpy(m3, m1, sizeof m3), memcpy(v3, v1, sizeof v3);
    memcpy(p0, p1, sizeof p0), memcpy(m0, m1, sizeof m0), memcpy(v0, v1, sizeof v0);
    tc_train_state s = tc_train_state_init(1.0f);
    s.adam_steps = 6;  // a resumed run at step 7
    s.sumsq = 9.0;
    tc_step_args sa = step_args(0, 1.0, 7);
    ENSURE(be->ops->step_decide(be, &s, &sa) == 0);
    tc_adamw_args a = {1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 7, tc_clip_coefficient(3.0, 1.0)};
    ENSURE(be->ops->adamw_update(be, p1, g, m1, v1, N, &a) == 0);
    tc_adamw_args b = {1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 0, 0};
    ENSURE(be->ops->adamw_step(be, p2, g, m2, v2, N, &b, &s) == 0);
    CHECK(!memcmp(p1, p2, sizeof p2) && !memcmp(m1, m2, sizeof m2) && !memcmp(v1, v2, sizeof v2));
    // a skipped step changes nothing
    s.sumsq = NAN;
    sa = step_args(0, 1.0, 8);
    ENSURE(be->ops->step_decide(be, &s, &sa) == 0);
    ENSURE(be->ops->adamw_step(be, p3, g, m3, v3, N, &b, &s) == 0);
    CHECK(!memcmp(p3, p0, sizeof p0) && !memcmp(m3, m0, sizeof m0) && !memcmp(v3, v0, sizeof v0));
    CHECK(memcmp(p1, p0, sizeof p0));  // while the step before did move them
    free(p1), free(g), free(m1), free(v1);
}

static void test_loss_step(void) {
    enum { B = 5, K = 7 };
    float *logits = tiny_fill(B * K, &rng, 0, 4), y[B * K], w[B * K];
    for (int i = 0; i < B * K; i++) y[i] = (float)(i % 3 == 0), w[i] = i % 5 == 4 ? 0.0f : 1.0f;
    float loss1[B], d1[B * K], loss2[B], d2[B * K], loss3[B], d3[B * K];
    ENSURE(be->ops->bce_loss(be, loss1, d1, logits, y, w, B, K, 0.125f) == 0);
    tc_train_state s = tc_train_state_init(1.0f);
    ENSURE(be->ops->bce_loss_step(be, loss2, d2, logits, y, w, B, K, 0.125f, &s, 11) == 0);
    CHECK(!memcmp(loss1, loss2, sizeof loss1) && !memcmp(d1, d2, sizeof d1));
    double sum = 0;
    for (int b = 0; b < B; b++) sum += loss1[b];
    CHECK(s.loss_sum == sum && s.bad_loss_tag == -1);
    ENSURE(be->ops->bce_loss_step(be, loss2, d2, logits, y, w, B, K, 0.125f, &s, 12) == 0);
    CHECK(s.loss_sum == sum + sum);
    // with a loss scale of 8, the gradient is exactly 8 times
    tc_train_state s8 = tc_train_state_init(8.0f);
    ENSURE(be->ops->bce_loss_step(be, loss3, d3, logits, y, w, B, K, 0.125f, &s8, 0) == 0);
    int exact = 1;
    for (int i = 0; i < B * K; i++) exact &= d3[i] == 8.0f * d1[i];
    CHECK(exact && !memcmp(loss3, loss1, sizeof loss1));
    // a non-finite loss keeps the first tag
    w[3] = INFINITY;
    ENSURE(be->ops->bce_loss_step(be, loss2, d2, logits, y, w, B, K, 0.125f, &s, 13) == 0);
    ENSURE(be->ops->bce_loss_step(be, loss2, d2, logits, y, w, B, K, 0.125f, &s, 14) == 0);
    CHECK(s.bad_loss_tag == 13 && !isfinite(s.loss_sum));
    free(logits);
}

static void test_sumsq_and_copy(void) {
    enum { N = 200000 };
    float *x = tiny_fill(N, &rng, 0, 1), *y = malloc(N * sizeof *y);
    double ref;
    tc_train_state s = tc_train_state_init(1.0f);
    ENSURE(be->ops->sumsq(be, &ref, x, N) == 0 && be->ops->grad_sumsq(be, &s, x, N) == 0);
    CHECK(s.sumsq == ref);
    ENSURE(be->ops->from_f32(be, y, x, N) == 0);
    CHECK(!memcmp(x, y, N * sizeof *x));
    ENSURE(be->ops->from_f32(be, y, y, N) == 0);  // itself: nothing
    CHECK(!memcmp(x, y, N * sizeof *x));
    free(x), free(y);
}

int main(void) {
    be = tc_backend_cpu_create(2);
    if (!be) {
        printf("FAIL backend: %s\n", tc_error());
        return 1;
    }
    RUN(test_decide_finite);
    RUN(test_decide_nonfinite);
    RUN(test_dynamic_loss_scale);
    RUN(test_adamw_step_matches_update);
    RUN(test_loss_step);
    RUN(test_sumsq_and_copy);
    tc_backend_destroy(be);
    HARNESS_EXIT();
}
