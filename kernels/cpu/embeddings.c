// Token embeddings: out (N, C) = wte[ids] + wtt[types] + wpe[pos], in
// Hugging Face's order of additions.
#include "kernels/cpu/cpu_ops.h"

typedef struct {
    float *out;
    const int32_t *ids, *pos, *types;
    const float *wte, *wpe, *wtt;
    int N, C, n_tasks;
} embeddings_job;

static void embeddings_task(void *ctx, int task, int thread) {
    const embeddings_job *j = ctx;
    long begin, end;
    tc_pool_range(j->N, j->n_tasks, task, &begin, &end);
    size_t C = (size_t)j->C;
    for (long n = begin; n < end; n++) {
        const float *word = j->wte + (size_t)j->ids[n] * C;         // (C)
        const float *position = j->wpe + (size_t)j->pos[n] * C;
        float *o = j->out + (size_t)n * C;
        if (!j->wtt) {  // no token types (MPNet)
            for (size_t c = 0; c < C; c++) o[c] = word[c] + position[c];
            continue;
        }
        const float *type = j->wtt + (size_t)(j->types ? j->types[n] : 0) * C;
        for (size_t c = 0; c < C; c++) o[c] = (word[c] + type[c]) + position[c];
    }
}

void tc_cpu_embeddings_forward(tc_pool *pool, float *out, const int32_t *ids, const int32_t *pos,
                               const int32_t *types, const float *wte, const float *wpe, const float *wtt, int N,
                               int C) {
    embeddings_job j = {out, ids, pos, types, wte, wpe, wtt, N, C, tc_pool_tasks(pool, N, 64)};
    tc_pool_run(pool, j.n_tasks, embeddings_task, &j);
}
