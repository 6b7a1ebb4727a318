// Linear layers: out (N, OC) = act(inp (N, IC) . w (OC, IC)^T + bias). The
// rows are cut into blocks, one OpenBLAS sgemm (single-threaded) per block
// on the pool's threads, and each block's bias and activation are applied
// right after its product, while the block is still in cache.
#include "kernels/cpu/cpu_ops.h"

#include <cblas.h>
#include <string.h>

typedef struct {
    float *out, *pre;
    const float *inp, *w, *bias;
    int N, IC, OC, n_tasks;
    tc_activation act;
} matmul_job;

static void matmul_task(void *ctx, int task, int thread) {
    const matmul_job *j = ctx;
    long begin, end;
    tc_pool_range(j->N, j->n_tasks, task, &begin, &end);
    int rows = (int)(end - begin);
    if (rows == 0) return;
    size_t OC = (size_t)j->OC;
    float *out = j->out + (size_t)begin * OC;  // (rows, OC)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, j->OC, j->IC, 1.0f, j->inp + (size_t)begin * j->IC,
                j->IC, j->w, j->IC, 0.0f, out, j->OC);
    for (int r = 0; r < rows; r++) {
        float *o = out + (size_t)r * OC;
        if (j->bias)
            for (size_t c = 0; c < OC; c++) o[c] += j->bias[c];
        if (j->pre) memcpy(j->pre + ((size_t)begin + (size_t)r) * OC, o, OC * sizeof(float));
        tc_cpu_activation_inplace(o, OC, j->act);
    }
}

void tc_cpu_matmul_forward(tc_pool *pool, float *out, float *pre, const float *inp, const float *w,
                           const float *bias, int N, int IC, int OC, tc_activation act) {
    // blocks of >= 64 rows keep OpenBLAS's packing of w a small share of the work
    matmul_job j = {out, pre, inp, w, bias, N, IC, OC, tc_pool_tasks(pool, N, 64), act};
    tc_pool_run(pool, j.n_tasks, matmul_task, &j);
}
