// Evaluation metrics of hierarchical classification, accumulated one
// document at a time.
//
// Ranking metrics, as TELEClass's eval_classifier.py computes them:
//   top       the 3 best-scoring classes (ties: the lower class id first)
//   P@k       |top[:k] & gold| / k, averaged over documents (k = 1, 2, 3)
//   Example-F1  2 |top & gold| / (|top| + |gold|), averaged over documents
//   MRR       1 / rank of each gold class, rank = 1 + the number of non-gold
//             classes scoring at least as high; averaged over all
//             (document, gold class) pairs
// Set metrics, for a predicted set per document (a threshold on the scores,
// or sets the predictions carry):
//   micro precision, recall, F1 over all (document, class) pairs
//   macro F1: per-class F1 = 2 tp / (2 tp + fp + fn), averaged over the
//             classes that occur in the gold sets or the predictions
//   the same per level (classes of depth l)
#ifndef TC_METRICS_H
#define TC_METRICS_H

#include <stdint.h>

#include "common/taxonomy/taxonomy.h"

typedef struct {
    double precision, recall, f1, macro_f1;
    int64_t gold, predicted, correct;   // (document, class) pairs
    int classes;                         // classes of the level (or all)
} tc_set_scores;

typedef struct {
    int n_classes, max_depth;
    const int32_t *depth;
    uint64_t docs, docs_without_gold;
    double sum_p[3], sum_example_f1, sum_reciprocal_rank;
    uint64_t gold_pairs, gold_pairs_unranked;   // unranked: beyond the top k given
    int with_sets;
    int64_t *tp, *fp, *fn;   // [n_classes]
    uint8_t *mark;           // [n_classes] scratch
} tc_metrics;

int tc_metrics_init(tc_metrics *m, const tc_taxonomy *taxonomy, int with_sets);
void tc_metrics_free(tc_metrics *m);

// One document. top: its best classes, best first (the first 3 are used);
// rank: per gold class its rank (0: unknown, beyond the top k); pred: its
// predicted set (with_sets only).
void tc_metrics_add(tc_metrics *m, const int32_t *gold, int n_gold, const int32_t *top, int n_top,
                    const int64_t *rank, const int32_t *pred, int n_pred);

typedef struct {
    double example_f1, p_at[3], mrr;   // mrr is NaN without gold classes
    tc_set_scores all;                 // with_sets
    tc_set_scores *levels;             // [max_depth], level l at l-1; caller frees
} tc_metrics_result;

int tc_metrics_finish(const tc_metrics *m, tc_metrics_result *result);

// The 3 (or fewer, if n < 3) best classes of a score row, ties to the lower
// id, NaN last. Returns how many.
int tc_metrics_top3(const float *scores, int n, int32_t top[3]);

// Rank of class c among a score row: 1 + the non-gold classes scoring >= it.
int64_t tc_metrics_rank(const float *scores, int n, int c, const uint8_t *is_gold);

#endif
