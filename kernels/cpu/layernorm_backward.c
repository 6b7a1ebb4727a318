// Backward of out = (x - mean) * rstd * w + b, x = inp + residual (the
// forward kept x, mean and rstd):
//   dx (N, C)  = rstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dout * w
//                (added to dx when accumulate; dx may be dout itself)
//   dw (C)    += sum over rows of dout * xhat,  db (C) += sum of dout
// dx goes by rows; dw and db by blocks of columns, each summing its rows in
// order, so the sums do not depend on the thread count.
#include "kernels/cpu/train_ops.h"

typedef struct {
    float *dx, *dw, *db;
    const float *dout, *x, *mean, *rstd, *w;
    int N, C, accumulate, n_tasks;
} layernorm_bw_job;

static void dx_task(void *ctx, int task, int thread) {
    const layernorm_bw_job *j = ctx;
    long begin, end;
    tc_pool_range(j->N, j->n_tasks, task, &begin, &end);
    size_t C = (size_t)j->C;
    for (long n = begin; n < end; n++) {
        const float *dout = j->dout + (size_t)n * C, *x = j->x + (size_t)n * C;  // (C)
        float *dx = j->dx + (size_t)n * C;
        float m = j->mean[n], s = j->rstd[n], g_mean = 0, gx_mean = 0;
        for (size_t c = 0; c < C; c++) {
            float g = dout[c] * j->w[c], xhat = (x[c] - m) * s;
            g_mean += g;
            gx_mean += g * xhat;
        }
        g_mean /= (float)C;
        gx_mean /= (float)C;
        for (size_t c = 0; c < C; c++) {
            float g = dout[c] * j->w[c], xhat = (x[c] - m) * s;
            float v = s * (g - g_mean - xhat * gx_mean);
            dx[c] = j->accumulate ? dx[c] + v : v;
        }
    }
}

static void dw_task(void *ctx, int task, int thread) {
    const layernorm_bw_job *j = ctx;
    long begin, end;
    tc_pool_range(j->C, j->n_tasks, task, &begin, &end);
    size_t C = (size_t)j->C;
    for (int n = 0; n < j->N; n++) {
        const float *dout = j->dout + (size_t)n * C, *x = j->x + (size_t)n * C;
        float m = j->mean[n], s = j->rstd[n];
        for (long c = begin; c < end; c++) {
            j->dw[c] += dout[c] * (x[c] - m) * s;
            j->db[c] += dout[c];
        }
    }
}

void tc_cpu_layernorm_backward(tc_pool *pool, float *dx, float *dw, float *db, const float *dout, const float *x,
                               const float *mean, const float *rstd, const float *w, int N, int C, int accumulate) {
    layernorm_bw_job j = {dx, dw, db, dout, x, mean, rstd, w, N, C, accumulate, 0};
    if (N == 0) return;
    // weights first: dx may overwrite dout
    j.n_tasks = tc_pool_tasks(pool, C, 32);
    tc_pool_run(pool, j.n_tasks, dw_task, &j);
    j.n_tasks = tc_pool_tasks(pool, N, 32);
    tc_pool_run(pool, j.n_tasks, dx_task, &j);
}
