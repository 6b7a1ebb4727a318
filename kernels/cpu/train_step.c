// The CPU backend's entries for whole training steps kept in backend memory
// (kernels/backend.h: from_f32, bce_loss_step, grad_sumsq, step_decide,
// adamw_step; kernels/train_state.h): on the CPU the backend's memory is the
// host's, so these are the plain operations plus the state's bookkeeping,
// computed exactly as the step-by-step entries (bce_loss, sumsq,
// adamw_update) compute them: a run gives the same bits either way.
#include "common/error.h"
#include "kernels/cpu/backend_cpu_train.h"
#include "kernels/cpu/train_ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


int tc_cpu_be_from_f32(tc_backend *be, void *dst, const float *src, size_t n) {
    if (dst != src && n) memmove(dst, src, n * sizeof(float));
    return 0;
}

int tc_cpu_be_bce_loss_step(tc_backend *be, float *loss, void *dlogits, const void *logits, const float *targets,
                            const float *weights, int B, int K, float scale, tc_train_state *state, int64_t tag) {
    // scale x 1 is scale itself: without loss scaling dlogits are bce_loss's bits
    tc_cpu_bce_loss(POOL(be), loss, dlogits, logits, targets, weights, B, K, scale * state->loss_scale);
    double sum = 0;
    for (int b = 0; b < B; b++) sum += loss[b];
    state->loss_sum += sum;
    if (!isfinite(sum) && state->bad_loss_tag < 0) state->bad_loss_tag = tag;
    return 0;
}

int tc_cpu_be_grad_sumsq(tc_backend *be, tc_train_state *state, const float *x, size_t n) {
    // tc_cpu_sumsq answers NaN when it cannot allocate its partial sums
    // (more than 1024 chunks of 65536): make sure it can, so that a NaN is
    // the gradient's
    size_t chunks = (n + 65535) / 65536;
    if (chunks > 1024) {
        void *probe = malloc(chunks * sizeof(double));
        if (!probe) return tc_fail("out of memory");
        free(probe);
    }
    state->sumsq = tc_cpu_sumsq(POOL(be), x, n);
    return 0;
}

int tc_cpu_be_step_decide(tc_backend *be, tc_train_state *state, const tc_step_args *args) {
    tc_step_decide_apply(state, args);
    return 0;
}

int tc_cpu_be_adamw_step(tc_backend *be, float *params, const float *grads, float *m, float *v, size_t n,
                         const tc_adamw_args *args, const tc_train_state *state) {
    if (state->skip) return 0;
    if (state->adam_steps < 1) return tc_fail("AdamW: no update decided (step_decide first)");
    // adamw_update derives the same step size and bias correction from t
    tc_adamw_args a = *args;
    a.step = (long)state->adam_steps;
    a.grad_scale = state->grad_scale;
    tc_cpu_adamw_update(POOL(be), params, grads, m, v, n, &a);
    return 0;
}
