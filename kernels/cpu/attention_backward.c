// Backward of multi-head self-attention over packed sequences, one task per
// (sequence, head), from the probabilities P the forward kept:
//   dV = P^T dO        dP = dO V^T
//   dS = P * (dP - rowsum(dP * P))          (softmax backward, per row)
//   dQ = dS K / sqrt(HS)     dK = dS^T Q / sqrt(HS)
// Each task writes its own rows and head columns of dqkv, so the tasks
// never touch the same output and need no reduction. With a relative
// position bias, the table's gradient is dS summed by bucket: then one
// task per head walks the sequences in order, so that each head's column
// of the table has one writer and the sums do not depend on the threads.
#include "kernels/cpu/train_ops.h"
#include "kernels/cpu/matmul_bf16.h"

#include <cblas.h>
#include <math.h>

typedef struct {
    float *dqkv, *scratch;
    const float *datty, *att, *qkv;
    const tc_seq_layout *layout;
    const tc_attn_bias *bias;
    tc_bf16 *bf16;
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

// dtable (NB, NH) column h += ds (L, L) summed by the bucket of j - i.
static void bias_backward(const tc_attn_bias *bias, const float *ds, int L, int h, int NH) {
    for (int i = 0; i < L; i++) {
        const int32_t *bucket = bias->bucket + bias->span - 1 - i;  // bucket[j]: distance j - i
        const float *row = ds + (size_t)i * L;
        for (int jj = 0; jj < L; jj++) bias->dtable[(size_t)bucket[jj] * NH + h] += row[jj];
    }
}

static void sequence_head_backward(const attention_bw_job *j, int b, int h, int thread) {
    int C = j->C, HS = C / j->NH, T = j->layout->T;
    int off = j->layout->offsets[b], L = j->layout->offsets[b + 1] - off;
    if (L == 0) return;
    size_t row0 = (size_t)off * 3 * C + (size_t)h * HS;
    const float *q = j->qkv + row0, *k = q + C, *v = q + 2 * C;   // (L, HS), row stride 3C
    float *dq = j->dqkv + row0, *dk = dq + C, *dv = dq + 2 * C;    // (L, HS), row stride 3C
    const float *dout = j->datty + (size_t)off * C + (size_t)h * HS;  // (L, HS), row stride C
    const float *p = j->att + ((size_t)b * j->NH + h) * T * T;     // (L, L), row stride T
    float *ds = j->scratch + (size_t)thread * T * T;               // (L, L), row stride L
    float scale = 1.0f / sqrtf((float)HS);
    tc_cpu_gemm(j->bf16, thread, CblasTrans, CblasNoTrans, L, HS, L, 1.0f, p, T, dout, C, 0.0f, dv, 3 * C);
    tc_cpu_gemm(j->bf16, thread, CblasNoTrans, CblasTrans, L, L, HS, 1.0f, dout, C, v, 3 * C, 0.0f, ds, L);
    softmax_backward_rows(ds, p, L, T);
    if (j->bias) bias_backward(j->bias, ds, L, h, j->NH);
    tc_cpu_gemm(j->bf16, thread, CblasNoTrans, CblasNoTrans, L, HS, L, scale, ds, L, k, 3 * C, 0.0f, dq, 3 * C);
    tc_cpu_gemm(j->bf16, thread, CblasTrans, CblasNoTrans, L, HS, L, scale, ds, L, q, 3 * C, 0.0f, dk, 3 * C);
}

static void attention_bw_task(void *ctx, int task, int thread) {
    const attention_bw_job *j = ctx;
    sequence_head_backward(j, task / j->NH, task % j->NH, thread);
}

static void attention_bw_head_task(void *ctx, int h, int thread) {
    const attention_bw_job *j = ctx;
    for (int b = 0; b < j->layout->B; b++) sequence_head_backward(j, b, h, thread);
}

void tc_cpu_attention_backward(tc_pool *pool, float *dqkv, float *scratch, const float *datty, const float *att,
                               const float *qkv, const tc_seq_layout *layout, int C, int NH,
                               const tc_attn_bias *bias) {
    tc_cpu_attention_backward_bf16(pool, NULL, dqkv, scratch, datty, att, qkv, layout, C, NH, bias);
}

void tc_cpu_attention_backward_bf16(tc_pool *pool, tc_bf16 *bf16, float *dqkv, float *scratch, const float *datty,
                                    const float *att, const float *qkv, const tc_seq_layout *layout, int C, int NH,
                                    const tc_attn_bias *bias) {
    attention_bw_job j = {dqkv, scratch, datty, att, qkv, layout, bias, bf16, C, NH};
    if (bias) tc_pool_run(pool, NH, attention_bw_head_task, &j);
    else tc_pool_run(pool, layout->B * NH, attention_bw_task, &j);
}
