// Backward of the embeddings out[n] = wte[ids[n]] + wtt[types[n]] +
// wpe[pos[n]]: each token's gradient is added to the three rows it read.
// Tokens share rows, so the work is split by blocks of columns (each task
// visits every token in order), which keeps the sums independent of the
// thread count.
#include "kernels/cpu/train_ops.h"

typedef struct {
    float *dwte, *dwpe, *dwtt;
    const float *dout;
    const int32_t *ids, *pos, *types;
    int N, C, n_tasks;
} embeddings_bw_job;

static void add_rows(float *dst, const float *src, long begin, long end) {
    for (long c = begin; c < end; c++) dst[c] += src[c];
}

static void embeddings_bw_task(void *ctx, int task, int thread) {
    const embeddings_bw_job *j = ctx;
    long begin, end;
    tc_pool_range(j->C, j->n_tasks, task, &begin, &end);
    size_t C = (size_t)j->C;
    for (int n = 0; n < j->N; n++) {
        const float *d = j->dout + (size_t)n * C;  // (C)
        if (j->dwte) add_rows(j->dwte + (size_t)j->ids[n] * C, d, begin, end);
        if (j->dwtt) add_rows(j->dwtt + (size_t)(j->types ? j->types[n] : 0) * C, d, begin, end);
        if (j->dwpe) add_rows(j->dwpe + (size_t)j->pos[n] * C, d, begin, end);
    }
}

void tc_cpu_embeddings_backward(tc_pool *pool, float *dwte, float *dwpe, float *dwtt, const float *dout,
                                const int32_t *ids, const int32_t *pos, const int32_t *types, int N, int C) {
    embeddings_bw_job j = {dwte, dwpe, dwtt, dout, ids, pos, types, N, C, tc_pool_tasks(pool, C, 32)};
    tc_pool_run(pool, j.n_tasks, embeddings_bw_task, &j);
}
