// A reference BERT forward pass for tests: one sequence at a time, plain
// loops in double precision, written from the Hugging Face BertModel code
// and independent of the runtime's kernels. It reads the loaded model's
// parameters (common/model/bert_model.h), so its agreement with the runtime checks
// the kernels and the forward wiring; the loader is checked by name against
// the safetensors file, and everything together against sentence-transformers.
#ifndef TC_TESTS_BERT_REFERENCE_H
#define TC_TESTS_BERT_REFERENCE_H

#include "common/model/bert_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline double ref_act(double x, tc_activation act) {
    switch (act) {
    case TC_ACT_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case TC_ACT_GELU_TANH: return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case TC_ACT_RELU: return x > 0 ? x : 0;
    case TC_ACT_TANH: return tanh(x);
    default: return x;
    }
}

// y (n, out) = act(x (n, in) . w (out, in)^T + b (out))
static inline void ref_linear(double *y, const double *x, const float *w, const float *b, int n, int in, int out,
                              tc_activation act) {
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            double s = b ? b[o] : 0;
            for (int k = 0; k < in; k++) s += x[(size_t)i * in + k] * w[(size_t)o * in + k];
            y[(size_t)i * out + o] = ref_act(s, act);
        }
}

// x (n, C) = layernorm(x + r) * w + b, in place
static inline void ref_layernorm(double *x, const double *r, const float *w, const float *b, int n, int C, double eps) {
    for (int i = 0; i < n; i++) {
        double *row = x + (size_t)i * C, m = 0, v = 0;
        for (int c = 0; c < C; c++) row[c] += r ? r[(size_t)i * C + c] : 0, m += row[c];
        m /= C;
        for (int c = 0; c < C; c++) v += (row[c] - m) * (row[c] - m);
        v /= C;
        for (int c = 0; c < C; c++) row[c] = (row[c] - m) / sqrt(v + eps) * w[c] + b[c];
    }
}

// y (n, C): softmax(q k^T / sqrt(HS)) v per head; qkv (n, 3C)
static inline void ref_attention(double *y, const double *qkv, int n, int C, int NH) {
    int HS = C / NH;
    double *p = malloc((size_t)n * sizeof *p);
    for (int h = 0; h < NH; h++)
        for (int i = 0; i < n; i++) {
            double mx = -INFINITY, sum = 0;
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int d = 0; d < HS; d++) s += qkv[(size_t)i * 3 * C + h * HS + d] * qkv[(size_t)j * 3 * C + C + h * HS + d];
                p[j] = s / sqrt((double)HS);
                if (p[j] > mx) mx = p[j];
            }
            for (int j = 0; j < n; j++) sum += p[j] = exp(p[j] - mx);
            for (int d = 0; d < HS; d++) {
                double s = 0;
                for (int j = 0; j < n; j++) s += p[j] / sum * qkv[(size_t)j * 3 * C + 2 * C + h * HS + d];
                y[(size_t)i * C + h * HS + d] = s;
            }
        }
    free(p);
}

// out (C): the embedding of one sequence of n tokens (types may be NULL).
static inline void ref_bert_encode(const tc_bert_model *m, const int32_t *ids, const int32_t *types, int n,
                                   tc_pooling pooling, int normalize, double *out) {
    const tc_bert_config *cfg = &m->cfg;
    const tc_bert_params *p = &m->params;
    int C = cfg->hidden, F = cfg->intermediate;
    double eps = cfg->ln_eps;
    double *h = calloc((size_t)n * C, sizeof *h), *qkv = calloc((size_t)n * 3 * C, sizeof *qkv);
    double *y = calloc((size_t)n * C, sizeof *y), *a = calloc((size_t)n * C, sizeof *a);
    double *f = calloc((size_t)n * F, sizeof *f);
    const float *wte = p->p[TC_BERT_WTE], *wpe = p->p[TC_BERT_WPE], *wtt = p->p[TC_BERT_WTT];
    for (int t = 0; t < n; t++)
        for (int c = 0; c < C; c++)
            h[(size_t)t * C + c] = (double)wte[(size_t)ids[t] * C + c] + wtt[(size_t)(types ? types[t] : 0) * C + c] +
                                   wpe[(size_t)t * C + c];
    ref_layernorm(h, NULL, p->p[TC_BERT_EMB_LN_W], p->p[TC_BERT_EMB_LN_B], n, C, eps);
#define LP(which) ((const float *)tc_bert_layer_param(p, which, l, sizeof(float), cfg))
    for (int l = 0; l < cfg->layers; l++) {
        ref_linear(qkv, h, LP(TC_BERT_QKV_W), LP(TC_BERT_QKV_B), n, C, 3 * C, TC_ACT_NONE);
        ref_attention(y, qkv, n, C, cfg->heads);
        ref_linear(a, y, LP(TC_BERT_ATTPROJ_W), LP(TC_BERT_ATTPROJ_B), n, C, C, TC_ACT_NONE);
        ref_layernorm(a, h, LP(TC_BERT_LN1_W), LP(TC_BERT_LN1_B), n, C, eps);      // a = attention block output
        ref_linear(f, a, LP(TC_BERT_FC_W), LP(TC_BERT_FC_B), n, C, F, cfg->act);
        ref_linear(h, f, LP(TC_BERT_FCPROJ_W), LP(TC_BERT_FCPROJ_B), n, F, C, TC_ACT_NONE);
        ref_layernorm(h, a, LP(TC_BERT_LN2_W), LP(TC_BERT_LN2_B), n, C, eps);      // h = layer output
    }
#undef LP
    if (pooling == TC_POOL_MEAN) {
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int t = 0; t < n; t++) s += h[(size_t)t * C + c];
            out[c] = s / n;
        }
    } else if (pooling == TC_POOL_CLS) {
        for (int c = 0; c < C; c++) out[c] = h[c];
    } else {
        ref_linear(out, h, p->p[TC_BERT_POOLER_W], p->p[TC_BERT_POOLER_B], 1, C, C, TC_ACT_TANH);
    }
    if (normalize) {
        double ss = 0;
        for (int c = 0; c < C; c++) ss += out[c] * out[c];
        double norm = sqrt(ss) > 1e-12 ? sqrt(ss) : 1e-12;
        for (int c = 0; c < C; c++) out[c] /= norm;
    }
    free(h), free(qkv), free(y), free(a), free(f);
}

#endif
