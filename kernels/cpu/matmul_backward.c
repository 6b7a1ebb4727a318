// Backward of the linear layer out (N, OC) = act(inp (N, IC) . w (OC, IC)^T
// + bias): first dout becomes dz, the gradient before the activation (in
// place); then
//   dinp (N, IC)  = dz . w            (added to dinp when accumulate)
//   dw (OC, IC)  += dz^T . inp
//   dbias (OC)   += the column sums of dz
// dinp is split by rows and dw, dbias by output features, one OpenBLAS
// sgemm per block on the pool's threads; no sum is ever split between
// threads, so a run repeats bit for bit on the same thread count.
#include "kernels/cpu/train_ops.h"
#include "kernels/cpu/matmul_bf16.h"

#include <cblas.h>

typedef struct {
    float *dinp, *dw, *dbias, *dout;
    const float *inp, *w, *pre;
    tc_bf16 *bf16;
    int N, IC, OC, accumulate, n_tasks;
    tc_activation act;
} matmul_bw_job;

static void activation_task(void *ctx, int task, int thread) {
    const matmul_bw_job *j = ctx;
    long begin, end;
    tc_pool_range(j->N, j->n_tasks, task, &begin, &end);
    size_t OC = (size_t)j->OC;
    tc_cpu_activation_backward_inplace(j->dout + (size_t)begin * OC, j->pre + (size_t)begin * OC,
                                       (size_t)(end - begin) * OC, j->act);
}

static void dinp_task(void *ctx, int task, int thread) {
    const matmul_bw_job *j = ctx;
    long begin, end;
    tc_pool_range(j->N, j->n_tasks, task, &begin, &end);
    if (end == begin) return;
    tc_cpu_gemm(j->bf16, thread, CblasNoTrans, CblasNoTrans, (int)(end - begin), j->IC, j->OC, 1.0f,
                j->dout + (size_t)begin * j->OC, j->OC, j->w, j->IC, j->accumulate ? 1.0f : 0.0f,
                j->dinp + (size_t)begin * j->IC, j->IC);
}

// Output features [begin, end): their weight rows and biases.
static void dw_task(void *ctx, int task, int thread) {
    const matmul_bw_job *j = ctx;
    long begin, end;
    tc_pool_range(j->OC, j->n_tasks, task, &begin, &end);
    int rows = (int)(end - begin);
    if (rows == 0) return;
    tc_cpu_gemm(j->bf16, thread, CblasTrans, CblasNoTrans, rows, j->IC, j->N, 1.0f, j->dout + begin, j->OC, j->inp,
                j->IC, 1.0f, j->dw + (size_t)begin * j->IC, j->IC);
    if (!j->dbias) return;
    // rows in order, each adding its contiguous run of the block's columns
    float *db = j->dbias + begin;
    for (int n = 0; n < j->N; n++) {
        const float *d = j->dout + (size_t)n * j->OC + begin;
        for (int o = 0; o < rows; o++) db[o] += d[o];
    }
}

void tc_cpu_matmul_backward(tc_pool *pool, float *dinp, float *dw, float *dbias, float *dout, const float *inp,
                            const float *w, const float *pre, int N, int IC, int OC, tc_activation act,
                            int accumulate) {
    tc_cpu_matmul_backward_bf16(pool, NULL, dinp, dw, dbias, dout, inp, w, pre, N, IC, OC, act, accumulate);
}

void tc_cpu_matmul_backward_bf16(tc_pool *pool, tc_bf16 *bf16, float *dinp, float *dw, float *dbias, float *dout,
                                 const float *inp, const float *w, const float *pre, int N, int IC, int OC,
                                 tc_activation act, int accumulate) {
    matmul_bw_job j = {dinp, dw, dbias, dout, inp, w, pre, bf16, N, IC, OC, accumulate, 0, act};
    if (N == 0) return;
    if (act != TC_ACT_NONE) {
        j.n_tasks = tc_pool_tasks(pool, N, 64);
        tc_pool_run(pool, j.n_tasks, activation_task, &j);
    }
    // two blocks a thread: each sgemm packs a whole operand again, so blocks
    // stay large, and a second one per thread evens out a slow thread
    int blocks = 2 * tc_pool_size(pool);
    if (dinp) {
        j.n_tasks = tc_pool_tasks(pool, N, (N + blocks - 1) / blocks > 64 ? (N + blocks - 1) / blocks : 64);
        tc_pool_run(pool, j.n_tasks, dinp_task, &j);
    }
    j.n_tasks = tc_pool_tasks(pool, OC, (OC + blocks - 1) / blocks > 16 ? (OC + blocks - 1) / blocks : 16);
    tc_pool_run(pool, j.n_tasks, dw_task, &j);
}
