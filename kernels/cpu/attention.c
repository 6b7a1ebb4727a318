// Multi-head self-attention of packed sequences, one task per (sequence,
// head): scores = q k^T / sqrt(HS) (L, L), a softmax per row, then
// out = probabilities . v. Only the sequence's own L rows take part, so the
// padding mask is implicit and no work is spent on padding. A relative
// position bias (MPNet), when given, is added to the scaled scores.
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/matmul_bf16.h"
#include "kernels/cpu/round_bf16.h"

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
    const uint16_t *qkv16;  // or q, k, v already in bf16 (N, 3C), rounded as this file would
    const tc_seq_layout *layout;
    const tc_attn_bias *bias;
    tc_bf16 *bf16;
    int C, NH;
} attention_job;

size_t tc_cpu_attention_scratch_bytes(int threads, int T) {
    return (size_t)(threads < 1 ? 1 : threads) * (size_t)T * (size_t)T * sizeof(float);
}

// The largest of x (n), in lanes of 8 as layernorm.c's sums.
static float row_max(const float *x, int n) {
    float lane[8], m = x[0];
    for (int k = 0; k < 8; k++) lane[k] = x[0];
    int i = 0;
    for (; i + 8 <= n; i += 8)
#pragma omp simd
        for (int k = 0; k < 8; k++) lane[k] = x[i + k] > lane[k] ? x[i + k] : lane[k];
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    for (int k = 0; k < 8; k++) m = lane[k] > m ? lane[k] : m;
    return m;
}

// x (n) = exp(scale (x - max x)), in place (scale > 0); returns their sum.
// fused: exp's multiply-adds fused (tc_fast_expf_as), for bf16 attention.
static inline float softmax_exp_row_as(float *x, int n, float scale, int fused) {
    float m = row_max(x, n);
    for (int i = 0; i < n; i++) x[i] = tc_fast_expf_as((x[i] - m) * scale, fused);
    float sum[8] = {0}, s = 0;
    int i = 0;
    for (; i + 8 <= n; i += 8)
#pragma omp simd
        for (int k = 0; k < 8; k++) sum[k] += x[i + k];
    for (; i < n; i++) s += x[i];
    for (int k = 0; k < 8; k++) s += sum[k];
    return s;
}

// x (n) = softmax(x), in place.
static void softmax_row(float *x, int n) {
    float inv = 1.0f / softmax_exp_row_as(x, n, 1.0f, 0);
    for (int i = 0; i < n; i++) x[i] *= inv;
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

// ------------------------------------------------ bf16 inference, by group

// At inference in bf16 a task takes a group of G heads of one sequence: it
// rounds their q, k and v to bf16 once, in runs of G HS contiguous values
// per row (rounding one head's 32 values a row at a time, strided across
// the whole qkv, was most of attention's rounding time), multiplies all G
// heads in one batched product each way rather than two calls per head, and
// writes the probabilities straight to bf16. G depends on the model only,
// never on the thread count, so that results do not either.
enum { GROUP_RUN = 256, PAD = 16 };

static int heads_per_group(int NH, int HS) {
    int G = 1;
    for (int g = 1; g <= NH; g++)
        if (NH % g == 0 && g * HS <= GROUP_RUN) G = g;
    return G;
}

// The group's heads' probabilities, unnormalized (bf16 keeps the same
// relative precision at any scale), into probs (G, Lp, Lp), zeros beyond L;
// the rows' 1 / sums into inverse (G, L). Lp: L padded to PAD.
static void group_softmax(const attention_job *j, int G, int h0, int L, int Lp, float *scores, uint16_t *probs,
                          float *inverse) {
    int HS = j->C / j->NH;
    for (int g = 0; g < G; g++) {
        float *head = scores + (size_t)g * Lp * Lp, scale = 1.0f / sqrtf((float)HS);
        uint16_t *p = probs + (size_t)g * Lp * Lp;
        if (j->bias) {
            for (int i = 0; i < L; i++)
                for (int c = 0; c < L; c++) head[(size_t)i * Lp + c] *= scale;
            add_bias(head, L, Lp, j->bias, h0 + g, j->NH);
            scale = 1.0f;
        }
        for (int i = 0; i < L; i++) {
            float *row = head + (size_t)i * Lp;
            inverse[(size_t)g * L + i] = 1.0f / softmax_exp_row_as(row, L, scale, 1);
            tc_cpu_round_bf16(p + (size_t)i * Lp, row, (size_t)L);
            memset(p + (size_t)i * Lp + L, 0, (size_t)(Lp - L) * 2);
        }
        memset(p + (size_t)L * Lp, 0, (size_t)(Lp - L) * Lp * 2);
    }
}

static void attention_group_bf16_task(void *ctx, int task, int thread) {
    const attention_job *j = ctx;
    int C = j->C, HS = C / j->NH, G = heads_per_group(j->NH, HS), groups = j->NH / G;
    int b = task / groups, h0 = task % groups * G;
    int off = j->layout->offsets[b], L = j->layout->offsets[b + 1] - off, Lp = (L + PAD - 1) / PAD * PAD;
    if (L == 0) return;
    int run = G * HS, ld = 3 * run;
    size_t square = (size_t)G * Lp * Lp;
    uint16_t *x = tc_bf16_buffer(j->bf16, thread, 0, (size_t)Lp * ld * 2);  // (Lp, [q k v] of G heads)
    float *scores = tc_bf16_buffer(j->bf16, thread, 1, square * 4);         // (G, Lp, Lp)
    uint16_t *probs = tc_bf16_buffer(j->bf16, thread, 2, square * 2);       // (G, Lp, Lp)
    float *context = tc_bf16_buffer(j->bf16, thread, 3, ((size_t)Lp * HS + L) * G * 4);  // (G, Lp, HS), (G, L)
    if (!x || !scores || !probs || !context) return;
    for (int i = 0; i < L; i++) {
        size_t at = (size_t)(off + i) * 3 * C + (size_t)h0 * HS;
        for (int part = 0; part < 3; part++) {  // q, k, v
            uint16_t *to = x + (size_t)i * ld + (size_t)part * run;
            if (j->qkv16) memcpy(to, j->qkv16 + at + (size_t)part * C, (size_t)run * 2);
            else tc_cpu_round_bf16(to, j->qkv + at + (size_t)part * C, (size_t)run);
        }
    }
    memset(x + (size_t)L * ld, 0, (size_t)(Lp - L) * ld * 2);
    // one product for all the group's heads, each a step of HS along the rows
    tc_bf16_gemm_stored(j->bf16, thread, 1, G, Lp, Lp, HS, x, ld, HS, x + run, ld, HS, scores);
    float *inverse = context + (size_t)G * Lp * HS;
    group_softmax(j, G, h0, L, Lp, scores, probs, inverse);
    tc_bf16_gemm_stored(j->bf16, thread, 0, G, Lp, HS, Lp, probs, Lp, Lp * Lp, x + 2 * run, ld, HS, context);
    for (int g = 0; g < G; g++)
        for (int i = 0; i < L; i++) {
            float *o = j->out + (size_t)(off + i) * C + (size_t)(h0 + g) * HS, inv = inverse[(size_t)g * L + i];
            const float *c = context + ((size_t)g * Lp + i) * HS;
            for (int d = 0; d < HS; d++) o[d] = c[d] * inv;
        }
}

// Inference in bf16: a task per group of heads of each sequence.
static void run_head_groups(tc_pool *pool, attention_job *j) {
    int groups = j->NH / heads_per_group(j->NH, j->C / j->NH);
    tc_pool_run(pool, j->layout->B * groups, attention_group_bf16_task, j);
}

void tc_cpu_attention_forward_bf16(tc_pool *pool, tc_bf16 *bf16, float *out, float *att, float *scratch,
                                   const float *qkv, const tc_seq_layout *layout, int C, int NH,
                                   const tc_attn_bias *bias) {
    attention_job j = {out, att, scratch, qkv, NULL, layout, bias, bf16, C, NH};
    if (!att && tc_bf16_takes_bf16(bf16)) {  // inference: nothing kept for a backward pass
        run_head_groups(pool, &j);
        return;
    }
    tc_pool_run(pool, layout->B * NH, attention_task, &j);
}

void tc_cpu_attention_forward_from_bf16(tc_pool *pool, tc_bf16 *bf16, float *out, const uint16_t *qkv,
                                        const tc_seq_layout *layout, int C, int NH, const tc_attn_bias *bias) {
    attention_job j = {out, NULL, NULL, NULL, qkv, layout, bias, bf16, C, NH};
    run_head_groups(pool, &j);
}

void tc_cpu_attention_forward(tc_pool *pool, float *out, float *att, float *scratch, const float *qkv,
                              const tc_seq_layout *layout, int C, int NH, const tc_attn_bias *bias) {
    tc_cpu_attention_forward_bf16(pool, NULL, out, att, scratch, qkv, layout, C, NH, bias);
}
