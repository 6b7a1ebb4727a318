// Layer norm over the last dimension, with the residual added first (BERT
// normalizes after each sublayer: LN(x + sublayer(x))). Two passes per row
// (mean, then the centered variance) as PyTorch does, for accuracy.
#include "kernels/cpu/cpu_ops.h"

#include <math.h>

typedef struct {
    float *out, *mean, *rstd, *sum;
    const float *inp, *residual, *w, *b;
    float eps;
    int N, C, n_tasks;
} layernorm_job;

// Sum of n floats in 8 independent lanes: one order of sums whatever the
// vector width, made a vector by `omp simd` (GCC does not see the lanes as
// one by itself).
static float sum8(const float *x, int n) {
    float lane[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
#pragma omp simd
        for (int k = 0; k < 8; k++) lane[k] += x[i + k];
    float s = 0;
    for (; i < n; i++) s += x[i];
    for (int k = 0; k < 8; k++) s += lane[k];
    return s;
}

static float centered_squares8(const float *x, float m, int n) {
    float lane[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
#pragma omp simd
        for (int k = 0; k < 8; k++) lane[k] += (x[i + k] - m) * (x[i + k] - m);
    float s = 0;
    for (; i < n; i++) s += (x[i] - m) * (x[i] - m);
    for (int k = 0; k < 8; k++) s += lane[k];
    return s;
}

// The row's x = inp + residual is built in the output row itself, which
// also makes out == inp or out == residual safe.
static void layernorm_row(const layernorm_job *j, long n) {
    size_t C = (size_t)j->C;
    const float *in = j->inp + (size_t)n * C;                             // (C)
    const float *res = j->residual ? j->residual + (size_t)n * C : NULL;  // (C)
    float *x = j->out + (size_t)n * C;                                    // (C)
    if (res)
        for (size_t c = 0; c < C; c++) x[c] = in[c] + res[c];
    else
        for (size_t c = 0; c < C; c++) x[c] = in[c];
    float m = sum8(x, j->C) / (float)C;
    float var = centered_squares8(x, m, j->C) / (float)C;
    float s = 1.0f / sqrtf(var + j->eps);
    if (j->sum)
        for (size_t c = 0; c < C; c++) j->sum[(size_t)n * C + c] = x[c];
    for (size_t c = 0; c < C; c++) x[c] = (x[c] - m) * s * j->w[c] + j->b[c];
    if (j->mean) j->mean[n] = m;
    if (j->rstd) j->rstd[n] = s;
}

static void layernorm_task(void *ctx, int task, int thread) {
    const layernorm_job *j = ctx;
    long begin, end;
    tc_pool_range(j->N, j->n_tasks, task, &begin, &end);
    for (long n = begin; n < end; n++) layernorm_row(j, n);
}

void tc_cpu_layernorm_rows(float *out, const float *inp, const float *residual, const float *w, const float *b,
                           float eps, int rows, int C) {
    layernorm_job j = {out, NULL, NULL, NULL, inp, residual, w, b, eps, rows, C, 1};
    for (long n = 0; n < rows; n++) layernorm_row(&j, n);
}

void tc_cpu_layernorm_forward(tc_pool *pool, float *out, float *mean, float *rstd, float *sum, const float *inp,
                              const float *residual, const float *w, const float *b, float eps, int N, int C) {
    layernorm_job j = {out, mean, rstd, sum, inp, residual, w, b, eps, N, C, tc_pool_tasks(pool, N, 32)};
    tc_pool_run(pool, j.n_tasks, layernorm_task, &j);
}
