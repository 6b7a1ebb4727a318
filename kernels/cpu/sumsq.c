// The sum of squares of a long vector (the gradient's squared global norm),
// in double: the vector is cut into chunks of a fixed size whatever the
// thread count, each summed in order, and the chunk sums added in order,
// so that the result is the same bit for bit on any number of threads.
#include "kernels/cpu/train_ops.h"

#include <math.h>
#include <stdlib.h>

enum { SUMSQ_CHUNK = 1 << 16 };

typedef struct {
    const float *x;
    size_t n;
    double *partial;
} sumsq_job;

static void sumsq_task(void *ctx, int chunk, int thread) {
    const sumsq_job *j = ctx;
    size_t begin = (size_t)chunk * SUMSQ_CHUNK, end = begin + SUMSQ_CHUNK < j->n ? begin + SUMSQ_CHUNK : j->n;
    double lane[8] = {0};
    size_t i = begin;
    for (; i + 8 <= end; i += 8)
        for (int k = 0; k < 8; k++) lane[k] += (double)j->x[i + k] * j->x[i + k];
    double s = 0;
    for (; i < end; i++) s += (double)j->x[i] * j->x[i];
    for (int k = 0; k < 8; k++) s += lane[k];
    j->partial[chunk] = s;
}

double tc_cpu_sumsq(tc_pool *pool, const float *x, size_t n) {
    size_t chunks = (n + SUMSQ_CHUNK - 1) / SUMSQ_CHUNK;
    enum { ON_STACK = 1024 };
    double stack[ON_STACK], *partial = chunks <= ON_STACK ? stack : malloc(chunks * sizeof *partial);
    if (!partial) return NAN;
    sumsq_job j = {x, n, partial};
    tc_pool_run(pool, (int)chunks, sumsq_task, &j);
    double s = 0;
    for (size_t c = 0; c < chunks; c++) s += partial[c];
    if (partial != stack) free(partial);
    return s;
}
