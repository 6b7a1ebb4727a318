// AdamW with decoupled weight decay, element for element as
// torch.optim.AdamW computes it (single-tensor path, f32):
//   g = grad * grad_scale               (clipping)
//   p = p * (1 - lr * weight_decay)
//   m = beta1 m + (1 - beta1) g         v = beta2 v + (1 - beta2) g^2
//   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
#include "kernels/cpu/train_ops.h"

#include <math.h>

typedef struct {
    float *p, *m, *v;
    const float *g;
    size_t n;
    int n_tasks;
    float decay, b1, b2, step_size, bc2_sqrt, eps, scale;
} adamw_job;

static void adamw_task(void *ctx, int task, int thread) {
    const adamw_job *j = ctx;
    long begin, end;
    tc_pool_range((long)j->n, j->n_tasks, task, &begin, &end);
    for (long i = begin; i < end; i++) {
        float g = j->g[i] * j->scale;
        float p = j->p[i] * j->decay;
        float m = j->b1 * j->m[i] + (1.0f - j->b1) * g;
        float v = j->b2 * j->v[i] + (1.0f - j->b2) * g * g;
        j->m[i] = m;
        j->v[i] = v;
        j->p[i] = p - j->step_size * (m / (sqrtf(v) / j->bc2_sqrt + j->eps));
    }
}

void tc_cpu_adamw_update(tc_pool *pool, float *params, const float *grads, float *m, float *v, size_t n,
                         const tc_adamw_args *a) {
    double bc1 = 1.0 - pow(a->beta1, (double)a->step), bc2 = 1.0 - pow(a->beta2, (double)a->step);
    adamw_job j = {params, m, v, grads, n, tc_pool_tasks(pool, (long)n, 16384), 1.0f - a->lr * a->weight_decay,
                   a->beta1, a->beta2, (float)(a->lr / bc1), (float)sqrt(bc2), a->eps, a->grad_scale};
    tc_pool_run(pool, j.n_tasks, adamw_task, &j);
}
