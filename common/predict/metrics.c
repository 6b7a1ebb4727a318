#include "common/predict/metrics.h"
#include "common/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int tc_metrics_init(tc_metrics *m, const tc_taxonomy *t, int with_sets) {
    memset(m, 0, sizeof *m);
    m->n_classes = t->n_classes;
    m->max_depth = t->max_depth;
    m->depth = t->depth;
    m->with_sets = with_sets;
    m->tp = tc_calloc((size_t)t->n_classes, sizeof *m->tp);
    m->fp = tc_calloc((size_t)t->n_classes, sizeof *m->fp);
    m->fn = tc_calloc((size_t)t->n_classes, sizeof *m->fn);
    m->mark = tc_calloc((size_t)t->n_classes, 1);
    if (!m->tp || !m->fp || !m->fn || !m->mark) {
        tc_metrics_free(m);
        return -1;
    }
    return 0;
}

void tc_metrics_free(tc_metrics *m) {
    free(m->tp);
    free(m->fp);
    free(m->fn);
    free(m->mark);
    memset(m, 0, sizeof *m);
}

void tc_metrics_add(tc_metrics *m, const int32_t *gold, int n_gold, const int32_t *top, int n_top,
                    const int64_t *rank, const int32_t *pred, int n_pred) {
    m->docs++;
    if (!n_gold) m->docs_without_gold++;
    for (int i = 0; i < n_gold; i++) m->mark[gold[i]] = 1;
    if (n_top > 3) n_top = 3;
    int hits = 0;
    for (int k = 0; k < 3; k++) {
        if (k < n_top) hits += m->mark[top[k]];
        m->sum_p[k] += (double)hits / (k + 1);
    }
    m->sum_example_f1 += 2.0 * hits / (double)(n_gold + n_top);
    for (int i = 0; i < n_gold; i++) {
        m->gold_pairs++;
        if (rank[i] > 0) m->sum_reciprocal_rank += 1.0 / (double)rank[i];
        else m->gold_pairs_unranked++;
    }
    if (m->with_sets) {
        for (int i = 0; i < n_pred; i++) {
            int c = pred[i];
            if (m->mark[c] == 1) {
                m->tp[c]++;
                m->mark[c] = 2;  // matched
            } else if (!m->mark[c]) {
                m->fp[c]++;
                m->mark[c] = 3;  // a repeat in pred is counted once
            }
        }
        for (int i = 0; i < n_gold; i++)
            if (m->mark[gold[i]] == 1) m->fn[gold[i]]++;
        for (int i = 0; i < n_pred; i++) m->mark[pred[i]] = 0;
    }
    for (int i = 0; i < n_gold; i++) m->mark[gold[i]] = 0;
}

static double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

// Set scores over the classes of one level (level 0: all classes).
static void set_scores(const tc_metrics *m, int level, tc_set_scores *s) {
    memset(s, 0, sizeof *s);
    double macro = 0;
    int macro_n = 0;
    for (int c = 0; c < m->n_classes; c++) {
        if (level && m->depth[c] != level) continue;
        s->classes++;
        s->correct += m->tp[c];
        s->predicted += m->tp[c] + m->fp[c];
        s->gold += m->tp[c] + m->fn[c];
        if (m->tp[c] + m->fp[c] + m->fn[c] > 0) {
            macro += 2.0 * (double)m->tp[c] / (double)(2 * m->tp[c] + m->fp[c] + m->fn[c]);
            macro_n++;
        }
    }
    s->precision = ratio((double)s->correct, (double)s->predicted);
    s->recall = ratio((double)s->correct, (double)s->gold);
    s->f1 = ratio(2 * s->precision * s->recall, s->precision + s->recall);
    s->macro_f1 = ratio(macro, macro_n);
}

int tc_metrics_finish(const tc_metrics *m, tc_metrics_result *r) {
    memset(r, 0, sizeof *r);
    double n = (double)m->docs;
    r->example_f1 = ratio(m->sum_example_f1, n);
    for (int k = 0; k < 3; k++) r->p_at[k] = ratio(m->sum_p[k], n);
    r->mrr = m->gold_pairs ? m->sum_reciprocal_rank / (double)m->gold_pairs : NAN;
    if (!m->with_sets) return 0;
    set_scores(m, 0, &r->all);
    r->levels = tc_calloc((size_t)(m->max_depth ? m->max_depth : 1), sizeof *r->levels);
    if (!r->levels) return -1;
    for (int l = 1; l <= m->max_depth; l++) set_scores(m, l, &r->levels[l - 1]);
    return 0;
}

// a ranks before b: higher score, then lower id; NaN after every number.
static int better(float a, int ia, float b, int ib) {
    if (isnan(a) || isnan(b)) return isnan(b) && (!isnan(a) || ia < ib);
    return a > b || (a == b && ia < ib);
}

int tc_metrics_top3(const float *s, int n, int32_t top[3]) {
    int k = 0;
    for (int c = 0; c < n; c++) {
        int at = k < 3 ? k : 3;
        while (at > 0 && better(s[c], c, s[top[at - 1]], top[at - 1])) at--;
        if (at >= 3) continue;
        int last = k < 3 ? k : 2;
        for (int j = last; j > at; j--) top[j] = top[j - 1];
        top[at] = c;
        if (k < 3) k++;
    }
    return k;
}

int64_t tc_metrics_rank(const float *s, int n, int c, const uint8_t *is_gold) {
    int64_t rank = 1;
    for (int j = 0; j < n; j++) rank += !is_gold[j] && s[j] >= s[c];
    return rank;
}
