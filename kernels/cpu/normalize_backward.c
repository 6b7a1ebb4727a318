// Backward of y = x / max(||x||, 1e-12) per row: with n the norm,
// dx = (dy - y (y . dy)) / n, or dy / 1e-12 where the floor was taken (the
// map is then linear).
#include "kernels/cpu/train_ops.h"

#include <math.h>

typedef struct {
    float *dx;
    const float *dout, *x;
    int D;
} normalize_bw_job;

static void normalize_bw_task(void *ctx, int b, int thread) {
    const normalize_bw_job *j = ctx;
    size_t D = (size_t)j->D;
    const float *x = j->x + (size_t)b * D, *dy = j->dout + (size_t)b * D;  // (D)
    float *dx = j->dx + (size_t)b * D;
    double ss = 0, dot = 0;
    for (size_t d = 0; d < D; d++) ss += (double)x[d] * x[d], dot += (double)x[d] * dy[d];
    double norm = sqrt(ss);
    if (norm <= 1e-12) {
        for (size_t d = 0; d < D; d++) dx[d] = (float)(dy[d] / 1e-12);
        return;
    }
    double inv = 1.0 / norm, proj = dot * inv * inv;  // (y . dy) / n = (x . dy) / n^2
    for (size_t d = 0; d < D; d++) dx[d] = (float)((dy[d] - x[d] * proj) * inv);
}

void tc_cpu_normalize_backward(tc_pool *pool, float *dx, const float *dout, const float *x, int B, int D) {
    normalize_bw_job j = {dx, dout, x, D};
    tc_pool_run(pool, B, normalize_bw_task, &j);
}
