// Backward of sentence pooling: dx (N, C) is written whole. Mean pooling
// spreads dout[b] / L over the L rows of sequence b; [CLS] pooling gives
// dout[b] to the sequence's first row and zero to the others.
#include "kernels/cpu/train_ops.h"

#include <string.h>

typedef struct {
    float *dx;
    const float *dout;
    const tc_seq_layout *layout;
    int C;
    tc_pooling mode;
} pool_bw_job;

static void pool_bw_task(void *ctx, int b, int thread) {
    const pool_bw_job *j = ctx;
    size_t C = (size_t)j->C;
    int off = j->layout->offsets[b], L = j->layout->offsets[b + 1] - off;
    const float *d = j->dout + (size_t)b * C;  // (C)
    float *rows = j->dx + (size_t)off * C;     // (L, C)
    if (L == 0) return;
    if (j->mode != TC_POOL_MEAN) {
        memcpy(rows, d, C * sizeof(float));
        memset(rows + C, 0, (size_t)(L - 1) * C * sizeof(float));
        return;
    }
    float inv = 1.0f / (float)L;
    for (int t = 0; t < L; t++)
        for (size_t c = 0; c < C; c++) rows[(size_t)t * C + c] = d[c] * inv;
}

void tc_cpu_pool_backward(tc_pool *pool, float *dx, const float *dout, const tc_seq_layout *layout, int C,
                          tc_pooling mode) {
    pool_bw_job j = {dx, dout, layout, C, mode};
    tc_pool_run(pool, layout->B, pool_bw_task, &j);
}
