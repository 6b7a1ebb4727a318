#include "common/predict/class_decode.h"
#include "common/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

float tc_sigmoid_f32(float score) { return (float)(1.0 / (1.0 + exp(-(double)score))); }

static inline float rank_key(float s) { return isnan(s) ? -INFINITY : s; }

// 1 if class a ranks before class b.
static inline int before(const float *scores, int32_t a, int32_t b) {
    float sa = rank_key(scores[a]), sb = rank_key(scores[b]);
    return sa > sb || (sa == sb && a < b);
}

static int compare_classes(const void *x, const void *y, void *ctx) {
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return a == b ? 0 : before(ctx, a, b) ? -1 : 1;
}

// The best k of the classes in ids (n), in place at its front, ordered.
static void select_best(const float *scores, int32_t *ids, int n, int k) {
    if (k >= n / 8) {  // a large share: sort all
        qsort_r(ids, (size_t)n, sizeof *ids, compare_classes, (void *)scores);
        return;
    }
    // a few: insertion into the sorted front
    int kept = 0;
    for (int i = 0; i < n; i++) {
        int32_t c = ids[i];
        if (kept == k && !before(scores, c, ids[k - 1])) continue;
        int at = kept < k ? kept++ : k - 1;
        while (at > 0 && before(scores, c, ids[at - 1])) {
            ids[at] = ids[at - 1];
            at--;
        }
        ids[at] = c;
    }
}

void tc_topk(const float *scores, int K, int k, int32_t *classes, float *top, int32_t *scratch) {
    if (k > K) k = K;
    for (int c = 0; c < K; c++) scratch[c] = c;
    if (k > 0) select_best(scores, scratch, K, k);
    for (int j = 0; j < k; j++) {
        classes[j] = scratch[j];
        top[j] = scores[scratch[j]];
    }
}

int tc_threshold_set(const float *scores, int K, double p, int32_t *set, int32_t *scratch) {
    int n = 0;
    for (int c = 0; c < K; c++)
        if ((double)tc_sigmoid_f32(scores[c]) >= p) scratch[n++] = c;
    if (n > 1) qsort_r(scratch, (size_t)n, sizeof *scratch, compare_classes, (void *)scores);
    memcpy(set, scratch, (size_t)n * sizeof *set);
    return n;
}

// ---------------------------------------------------------------- paths

const char *tc_path_rule_name(tc_path_rule rule) { return rule == TC_PATH_SUM ? "sum" : "mean"; }

int tc_path_rule_parse(const char *name, tc_path_rule *rule) {
    if (!strcmp(name, "mean")) *rule = TC_PATH_MEAN;
    else if (!strcmp(name, "sum")) *rule = TC_PATH_SUM;
    else return tc_fail("'%s' is not mean or sum", name);
    return 0;
}

typedef struct {
    tc_path_decoder *d;
    tc_path_totals room;  // counted before the walk
    int failed;
} path_walk;

static int keep_path(const int32_t *path, int length, void *ctx) {
    path_walk *w = ctx;
    tc_path_decoder *d = w->d;
    int64_t at = d->offsets[d->n_paths], need = at + length;
    if (d->n_paths >= w->room.paths || need > w->room.classes) {  // a guard: the walk agrees with the count
        tc_fail("the taxonomy has more root-to-leaf paths than counted");
        return w->failed = 1;
    }
    memcpy(d->nodes + at, path, (size_t)length * sizeof *path);
    d->offsets[++d->n_paths] = need;
    return 0;
}

int tc_path_decoder_init(tc_path_decoder *d, const tc_taxonomy *taxonomy, tc_path_rule rule, int n_best,
                         int64_t max_nodes) {
    memset(d, 0, sizeof *d);
    if (n_best < 1) return tc_fail("the number of paths must be positive, not %d", n_best);
    if (max_nodes <= 0 || max_nodes > TC_PATH_CLASSES_MAX) max_nodes = TC_PATH_CLASSES_MAX;
    // the counts size the arrays: checked (saturated, never wrapped) before anything is allocated
    path_walk w = {.d = d};
    if (tc_taxonomy_check_paths(taxonomy, "decoding paths", TC_PATHS_MAX, max_nodes) ||
        tc_taxonomy_path_totals(taxonomy, &w.room))
        return -1;
    d->n_classes = taxonomy->n_classes;
    d->rule = rule;
    d->n_best = n_best;
    d->offsets = tc_calloc((size_t)w.room.paths + 1, sizeof *d->offsets);
    d->nodes = tc_malloc_array((size_t)w.room.classes, sizeof *d->nodes);
    d->log_p = tc_malloc_array((size_t)d->n_classes, sizeof *d->log_p);
    d->best = tc_malloc_array((size_t)n_best, sizeof *d->best);
    d->best_score = tc_malloc_array((size_t)n_best, sizeof *d->best_score);
    d->in_set = tc_calloc((size_t)d->n_classes, 1);
    if (!d->offsets || !d->nodes || !d->log_p || !d->best || !d->best_score || !d->in_set) {
        tc_path_decoder_free(d);
        return -1;
    }
    if (tc_taxonomy_paths(taxonomy, keep_path, &w) < 0 || w.failed) {
        tc_path_decoder_free(d);
        return -1;
    }
    return 0;
}

void tc_path_decoder_free(tc_path_decoder *d) {
    free(d->offsets), free(d->nodes), free(d->log_p), free(d->best), free(d->best_score), free(d->in_set);
    memset(d, 0, sizeof *d);
}

// log sigmoid(x), without overflow for large |x|; NaN counts as the lowest.
static double log_sigmoid(double x) {
    if (isnan(x)) return -INFINITY;
    return x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x));
}

// Keeps path p among the n_best best so far (a later path must score
// strictly higher to pass an earlier one).
static void offer(tc_path_decoder *d, int64_t p, double score, int *kept) {
    if (*kept == d->n_best && !(score > d->best_score[d->n_best - 1])) return;
    int at = *kept < d->n_best ? (*kept)++ : d->n_best - 1;
    while (at > 0 && score > d->best_score[at - 1]) {
        d->best[at] = d->best[at - 1];
        d->best_score[at] = d->best_score[at - 1];
        at--;
    }
    d->best[at] = p;
    d->best_score[at] = score;
}

int tc_path_decode(tc_path_decoder *d, const float *scores, int32_t *set, float *path_scores) {
    for (int c = 0; c < d->n_classes; c++) d->log_p[c] = log_sigmoid((double)scores[c]);
    int kept = 0;
    for (int64_t p = 0; p < d->n_paths; p++) {
        double s = 0;
        for (int64_t i = d->offsets[p]; i < d->offsets[p + 1]; i++) s += d->log_p[d->nodes[i]];
        if (d->rule == TC_PATH_MEAN) s /= (double)(d->offsets[p + 1] - d->offsets[p]);
        if (isnan(s)) s = -INFINITY;
        offer(d, p, s, &kept);
    }
    int n = 0;
    for (int j = 0; j < kept; j++)
        for (int64_t i = d->offsets[d->best[j]]; i < d->offsets[d->best[j] + 1]; i++) {
            int32_t c = d->nodes[i];
            if (!d->in_set[c]) d->in_set[c] = 1, set[n++] = c;
        }
    for (int i = 0; i < n; i++) d->in_set[set[i]] = 0;
    for (int j = 0; j < d->n_best; j++) {
        if (j >= kept) d->best[j] = -1;
        path_scores[j] = j < kept ? (float)d->best_score[j] : -INFINITY;
    }
    return n;
}
