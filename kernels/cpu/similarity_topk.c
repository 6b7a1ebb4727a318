#include "kernels/cpu/similarity_topk.h"

#include <cblas.h>
#include <math.h>

void tc_cpu_normalize_rows(float *x, int64_t n, int d) {
    for (int64_t i = 0; i < n; i++) {
        float *row = x + i * d;
        double sum = 0;
        for (int k = 0; k < d; k++) sum += (double)row[k] * row[k];
        if (sum <= 0) continue;
        float scale = (float)(1.0 / sqrt(sum));
        for (int k = 0; k < d; k++) row[k] *= scale;
    }
}

void tc_cpu_similarity(const float *x, int64_t n, const float *t, int64_t m, int d, float *s) {
    if (n == 0 || m == 0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)m, d, 1.0f, x, d, t, d, 0.0f, s, (int)m);
}

void tc_cpu_group_max(const float *s, int64_t n, int64_t m, const int32_t *offsets, int g, float *out) {
    for (int64_t i = 0; i < n; i++) {
        const float *row = s + i * m;
        for (int c = 0; c < g; c++) {
            float best = -INFINITY;
            for (int32_t j = offsets[c]; j < offsets[c + 1]; j++)
                if (row[j] > best) best = row[j];
            out[i * g + c] = best;
        }
    }
}

void tc_cpu_topk_rows(const float *s, int64_t n, int64_t m, int k, int32_t *idx, float *val) {
    for (int64_t i = 0; i < n; i++) {
        const float *row = s + i * m;
        int32_t *ri = idx + i * k;
        float *rv = val + i * k;
        for (int q = 0; q < k; q++) ri[q] = -1, rv[q] = -INFINITY;
        for (int32_t j = 0; j < m; j++) {
            if (!tc_topk_better(row[j], j, rv[k - 1], ri[k - 1])) continue;
            int q = k - 1;  // insertion into the sorted list
            while (q > 0 && tc_topk_better(row[j], j, rv[q - 1], ri[q - 1])) {
                rv[q] = rv[q - 1], ri[q] = ri[q - 1];
                q--;
            }
            rv[q] = row[j], ri[q] = j;
        }
    }
}
