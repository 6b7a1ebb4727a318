// Multi-head self-attention of packed sequences, one task per (sequence,
// head): scores = q k^T / sqrt(HS) (L, L), a softmax per row, then
// out = probabilities . v. Only the sequence's own L rows take part, so the
// padding mask is implicit and no work is spent on padding. A relative
// position bias (MPNet), when given, is added to the scaled scores.
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/matmul_bf16.h"

// Without this, GCC keeps the clamps of the approximations as branches (a
// division might trap) and the loops stay scalar; nothing here reads the
// floating-point exception flags. (Clang does not trap by default.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include "kernels/cpu/fastmath.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

typedef struct {
    float *out, *att, *scratch;
    const float *qkv;
    const tc_seq_layout *layout;
    const tc_attn_bias *bias;
    tc_bf16 *bf16;
    int C, NH;
} attention_job;

size_t tc_cpu_attention_scratch_bytes(int threads, int T) {
    return (size_t)(threads < 1 ? 1 : threads) * (size_t)T * (size_t)T * sizeof(float);
}

// x (n) = softmax(x), in place.
static void softmax_row(float *x, int n) {
    float lane[8], m = x[0];
    for (int k = 0; k < 8; k++) lane[k] = x[0];
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) lane[k] = x[i + k] > lane[k] ? x[i + k] : lane[k];
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    for (int k = 0; k < 8; k++) m = lane[k] > m ? lane[k] : m;
    for (i = 0; i < n; i++) x[i] = tc_fast_expf(x[i] - m);
    float sum[8] = {0}, s = 0;
    for (i = 0; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) sum[k] += x[i + k];
    for (; i < n; i++) s += x[i];
    for (int k = 0; k < 8; k++) s += sum[k];
    float inv = 1.0f / s;
    for (i = 0; i < n; i++) x[i] *= inv;
}

// scores (L, L), row stride ld, += the bias of head h by distance.
static void add_bias(float *scores, int L, int ld, const tc_attn_bias *bias, int h, int NH) {
    const float *table = bias->table;
    for (int i = 0; i < L; i++) {
        const int32_t *bucket = bias->bucket + bias->span - 1 - i;  // bucket[j]: distance j - i
        float *row = scores + (size_t)i * ld;
        for (int j = 0; j < L; j++) row[j] += table[(size_t)bucket[j] * NH + h];
    }
}

static void attention_task(void *ctx, int task, int thread) {
    const attention_job *j = ctx;
    int b = task / j->NH, h = task % j->NH, C = j->C, HS = C / j->NH, T = j->layout->T;
    int off = j->layout->offsets[b], L = j->layout->offsets[b + 1] - off;
    const float *q = j->qkv + (size_t)off * 3 * C + (size_t)h * HS;  // (L, HS), row stride 3C
    const float *k = q + C;                                          // (L, HS), row stride 3C
    const float *v = q + 2 * C;                                      // (L, HS), row stride 3C
    float *scores;                                                   // (L, L), row stride ld
    int ld;
    if (j->att) {
        scores = j->att + ((size_t)b * j->NH + h) * T * T;
        ld = T;
        memset(scores, 0, (size_t)T * T * sizeof(float));
    } else {
        scores = j->scratch + (size_t)thread * T * T;
        ld = L > 0 ? L : 1;
    }
    if (L == 0) return;
    tc_cpu_gemm(j->bf16, thread, CblasNoTrans, CblasTrans, L, L, HS, 1.0f / sqrtf((float)HS), q, 3 * C, k, 3 * C,
                0.0f, scores, ld);
    if (j->bias) add_bias(scores, L, ld, j->bias, h, j->NH);
    for (int i = 0; i < L; i++) softmax_row(scores + (size_t)i * ld, L);
    float *o = j->out + (size_t)off * C + (size_t)h * HS;  // (L, HS), row stride C
    tc_cpu_gemm(j->bf16, thread, CblasNoTrans, CblasNoTrans, L, HS, L, 1.0f, scores, ld, v, 3 * C, 0.0f, o, C);
}

void tc_cpu_attention_forward_bf16(tc_pool *pool, tc_bf16 *bf16, float *out, float *att, float *scratch,
                                   const float *qkv, const tc_seq_layout *layout, int C, int NH,
                                   const tc_attn_bias *bias) {
    attention_job j = {out, att, scratch, qkv, layout, bias, bf16, C, NH};
    tc_pool_run(pool, layout->B * NH, attention_task, &j);
}

void tc_cpu_attention_forward(tc_pool *pool, float *out, float *att, float *scratch, const float *qkv,
                              const tc_seq_layout *layout, int C, int NH, const tc_attn_bias *bias) {
    tc_cpu_attention_forward_bf16(pool, NULL, out, att, scratch, qkv, layout, C, NH, bias);
}
