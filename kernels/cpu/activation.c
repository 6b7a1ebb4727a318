// Elementwise activations: GELU (exact, erf: Hugging Face "gelu"), its tanh
// approximation ("gelu_new"), ReLU and tanh (the pooler). The loops are
// branch-free so that they vectorize (kernels/cpu/fastmath.h).
#include "kernels/cpu/cpu_ops.h"

// Without this, GCC keeps the clamps of the approximations as branches (a
// division might trap) and the loops stay scalar; nothing here reads the
// floating-point exception flags. (Clang does not trap by default.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include "kernels/cpu/fastmath.h"

#include <string.h>

void tc_cpu_activation_inplace(float *x, size_t n, tc_activation act) {
    switch (act) {
    case TC_ACT_NONE: break;
    case TC_ACT_GELU:
        for (size_t i = 0; i < n; i++) x[i] = tc_gelu_erf(x[i]);
        break;
    case TC_ACT_GELU_TANH:
        for (size_t i = 0; i < n; i++) x[i] = tc_gelu_tanh(x[i]);
        break;
    case TC_ACT_RELU:
        for (size_t i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : 0.0f;
        break;
    case TC_ACT_TANH:
        for (size_t i = 0; i < n; i++) x[i] = tc_fast_tanhf(x[i]);
        break;
    }
}

void tc_cpu_activation_inplace_fused(float *x, size_t n, tc_activation act) {
    if (act != TC_ACT_GELU) {
        tc_cpu_activation_inplace(x, n, act);
        return;
    }
    for (size_t i = 0; i < n; i++) x[i] = tc_gelu_erf_as(x[i], 1);
}

typedef struct {
    float *out;
    const float *inp;
    size_t n;
    tc_activation act;
    int n_tasks;
} activation_job;

static void activation_task(void *ctx, int task, int thread) {
    const activation_job *j = ctx;
    long begin, end;
    tc_pool_range((long)j->n, j->n_tasks, task, &begin, &end);
    if (j->out != j->inp) memcpy(j->out + begin, j->inp + begin, (size_t)(end - begin) * sizeof(float));
    tc_cpu_activation_inplace(j->out + begin, (size_t)(end - begin), j->act);
}

void tc_cpu_activation_forward(tc_pool *pool, float *out, const float *inp, size_t n, tc_activation act) {
    activation_job j = {out, inp, n, act, tc_pool_tasks(pool, (long)n, 16384)};
    tc_pool_run(pool, j.n_tasks, activation_task, &j);
}
