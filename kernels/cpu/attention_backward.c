// Backward of multi-head self-attention over packed sequences, one task per
// (sequence, head), from the probabilities P the forward kept:
//   dV = P^T dO        dP = dO V^T
//   dS = P * (dP - rowsum(dP * P))          (softmax backward, per row)
//   dQ = dS K / sqrt(HS)     dK = dS^T Q / sqrt(HS)
// Each task writes its own rows and head columns of dqkv, so the tasks
// never touch the same output and need no reduction.
#include "kernels/cpu/train_ops.h"

#include <cblas.h>
#include <math.h>

typedef struct {
    float *dqkv, *scratch;
    const float *datty, *att, *qkv;
    const tc_seq_layout *layout;
    int C, NH;
} attention_bw_job;

size_t tc_cpu_attention_backward_scratch_bytes(int threads, int T) {
    return (size_t)(threads < 1 ? 1 : threads) * (size_t)T * (size_t)T * sizeof(float);
}

static void softmax_backward_rows(float *ds, const float *p, int L, int ld_p) {
    for (int i = 0; i < L; i++) {
        float *d = ds + (size_t)i * L;
        const float *pr = p + (size_t)i * ld_p;
        float dot = 0;
        for (int k = 0; k < L; k++) dot += d[k] * pr[k];
        for (int k = 0; k < L; k++) d[k] = pr[k] * (d[k] - dot);
    }
}

static void attention_bw_task(void *ctx, int task, int thread) {
    const attention_bw_job *j = ctx;
    int b = task / j->NH, h = task % j->NH, C = j->C, HS = C / j->NH, T = j->layout->T;
    int off = j->layout->offsets[b], L = j->layout->offsets[b + 1] - off;
    if (L == 0) return;
    size_t row0 = (size_t)off * 3 * C + (size_t)h * HS;
    const float *q = j->qkv + row0, *k = q + C, *v = q + 2 * C;   // (L, HS), row stride 3C
    float *dq = j->dqkv + row0, *dk = dq + C, *dv = dq + 2 * C;    // (L, HS), row stride 3C
    const float *dout = j->datty + (size_t)off * C + (size_t)h * HS;  // (L, HS), row stride C
    const float *p = j->att + ((size_t)b * j->NH + h) * T * T;     // (L, L), row stride T
    float *ds = j->scratch + (size_t)thread * T * T;               // (L, L), row stride L
    float scale = 1.0f / sqrtf((float)HS);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L, HS, L, 1.0f, p, T, dout, C, 0.0f, dv, 3 * C);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, L, L, HS, 1.0f, dout, C, v, 3 * C, 0.0f, ds, L);
    softmax_backward_rows(ds, p, L, T);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, L, HS, L, scale, ds, L, k, 3 * C, 0.0f, dq, 3 * C);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L, HS, L, scale, ds, L, q, 3 * C, 0.0f, dk, 3 * C);
}

void tc_cpu_attention_backward(tc_pool *pool, float *dqkv, float *scratch, const float *datty, const float *att,
                               const float *qkv, const tc_seq_layout *layout, int C, int NH) {
    attention_bw_job j = {dqkv, scratch, datty, att, qkv, layout, C, NH};
    tc_pool_run(pool, layout->B * NH, attention_bw_task, &j);
}
