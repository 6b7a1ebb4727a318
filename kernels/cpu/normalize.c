// L2 normalization of rows, as torch.nn.functional.normalize: x / max(||x||, 1e-12).
#include "kernels/cpu/cpu_ops.h"

#include <math.h>

typedef struct {
    float *out;
    const float *x;
    int D;
} normalize_job;

static void normalize_task(void *ctx, int b, int thread) {
    const normalize_job *j = ctx;
    size_t D = (size_t)j->D;
    const float *x = j->x + (size_t)b * D;  // (D)
    float *o = j->out + (size_t)b * D;      // (D)
    double ss = 0;
    for (size_t d = 0; d < D; d++) ss += (double)x[d] * x[d];
    double norm = sqrt(ss);
    float inv = (float)(1.0 / (norm > 1e-12 ? norm : 1e-12));
    for (size_t d = 0; d < D; d++) o[d] = x[d] * inv;
}

void tc_cpu_normalize_forward(tc_pool *pool, float *out, const float *x, int B, int D) {
    normalize_job j = {out, x, D};
    tc_pool_run(pool, B, normalize_task, &j);
}
