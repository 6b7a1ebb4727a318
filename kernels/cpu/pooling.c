// Sentence pooling over packed sequences: the mean of a sequence's token
// rows (sentence-transformers' mean pooling: padding never counts), or its
// first row, [CLS] (also the input of BERT's pooler dense + tanh).
#include "kernels/cpu/cpu_ops.h"

#include <string.h>

typedef struct {
    float *out;
    const float *x;
    const tc_seq_layout *layout;
    int C;
    tc_pooling mode;
} pool_job;

static void pool_task(void *ctx, int b, int thread) {
    const pool_job *j = ctx;
    size_t C = (size_t)j->C;
    int off = j->layout->offsets[b], L = j->layout->offsets[b + 1] - off;
    float *o = j->out + (size_t)b * C;              // (C)
    const float *rows = j->x + (size_t)off * C;     // (L, C)
    if (j->mode != TC_POOL_MEAN) {
        if (L > 0) memcpy(o, rows, C * sizeof(float));
        else memset(o, 0, C * sizeof(float));
        return;
    }
    memset(o, 0, C * sizeof(float));
    for (int t = 0; t < L; t++)
        for (size_t c = 0; c < C; c++) o[c] += rows[(size_t)t * C + c];
    float inv = 1.0f / (float)(L > 0 ? L : 1);
    for (size_t c = 0; c < C; c++) o[c] *= inv;
}

void tc_cpu_pool_forward(tc_pool *pool, float *out, const float *x, const tc_seq_layout *layout, int C,
                         tc_pooling mode) {
    pool_job j = {out, x, layout, C, mode};
    tc_pool_run(pool, layout->B, pool_task, &j);
}
