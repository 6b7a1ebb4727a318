// Linear layers: out (N, OC) = act(inp (N, IC) . w (OC, IC)^T + bias). The
// rows are cut into one block per thread, one OpenBLAS sgemm
// (single-threaded) per block: fewer, larger calls repack the weights
// less. The output starts as the bias and the product is added to it
// (beta = 1), which spares OpenBLAS its pass zeroing the output and us a
// pass adding the bias; the activation follows, block by block.
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/matmul_bf16.h"

#include <cblas.h>
#include <string.h>

typedef struct {
    float *out, *pre;
    const float *inp, *w, *bias;
    tc_bf16 *bf16;
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
    if (j->bias)
        for (int r = 0; r < rows; r++) memcpy(out + (size_t)r * OC, j->bias, OC * sizeof(float));
    tc_cpu_gemm(j->bf16, thread, CblasNoTrans, CblasTrans, rows, j->OC, j->IC, 1.0f, j->inp + (size_t)begin * j->IC,
                j->IC, j->w, j->IC, j->bias ? 1.0f : 0.0f, out, j->OC);
    if (j->pre) memcpy(j->pre + (size_t)begin * OC, out, (size_t)rows * OC * sizeof(float));
    if (j->act != TC_ACT_NONE) tc_cpu_activation_inplace(out, (size_t)rows * OC, j->act);
}

void tc_cpu_matmul_forward_bf16(tc_pool *pool, tc_bf16 *bf16, float *out, float *pre, const float *inp,
                                const float *w, const float *bias, int N, int IC, int OC, tc_activation act) {
    // one block per thread, of 64 rows at least
    int tasks = (N + 63) / 64, threads = tc_pool_size(pool);
    matmul_job j = {out, pre, inp, w, bias, bf16, N, IC, OC, tasks < threads ? tasks : threads, act};
    tc_pool_run(pool, j.n_tasks, matmul_task, &j);
}

void tc_cpu_matmul_forward(tc_pool *pool, float *out, float *pre, const float *inp, const float *w,
                           const float *bias, int N, int IC, int OC, tc_activation act) {
    tc_cpu_matmul_forward_bf16(pool, NULL, out, pre, inp, w, bias, N, IC, OC, act);
}
