// From a document's class scores (logits, K of them) to what tc-predict
// writes: the top k classes, a thresholded class set, or the best
// root-to-leaf paths of the taxonomy.
//
// Order and ties, everywhere: higher score first; equal scores go to the
// lower class id (paths: to the path met first in the taxonomy's path order,
// tc_taxonomy_paths). A NaN score counts as the lowest.
//
// Path-consistent decoding. Every root-to-leaf path p = (c1, ..., cm) of the
// taxonomy (c1 a top-level class, cm a leaf, each the parent of the next) is
// scored from the log-probabilities of its classes,
//   log P(c) = log sigmoid(score(c))
//   sum rule:   S(p) = sum_i log P(ci)            (the path's probability,
//                                                  classes independent)
//   mean rule:  S(p) = (1/m) sum_i log P(ci)      (its geometric mean: paths of
//                                                  different lengths compare
//                                                  fairly; the default)
// and the n best paths are kept. The predicted set is the union of their
// classes, so it never holds a class without one of its parents. In a DAG a
// class with several parents lies on one path per parent chain, and each
// chain is scored on its own: a class's best path is its best chain. Both
// rules rank the same way when all leaves have the same depth.
#ifndef TC_CLASS_DECODE_H
#define TC_CLASS_DECODE_H

#include <stdint.h>

#include "common/taxonomy/taxonomy.h"

// sigmoid(score) in f32, as tc-predict writes probabilities.
float tc_sigmoid_f32(float score);

// The k best classes of scores (K) into classes (k) and top (k); k <= K.
// scratch: K int32 values.
void tc_topk(const float *scores, int K, int k, int32_t *classes, float *top, int32_t *scratch);

// The classes whose probability tc_sigmoid_f32(score) is >= p, best first,
// into set (K); returns their count. scratch: K int32 values.
int tc_threshold_set(const float *scores, int K, double p, int32_t *set, int32_t *scratch);

typedef enum { TC_PATH_MEAN = 0, TC_PATH_SUM } tc_path_rule;

const char *tc_path_rule_name(tc_path_rule rule);
int tc_path_rule_parse(const char *name, tc_path_rule *rule);  // "mean", "sum"

// Every root-to-leaf path of a taxonomy, walked once, and the scratch space
// to decode documents one at a time (not shared between threads).
typedef struct {
    int n_classes;
    int64_t n_paths;
    int64_t *offsets;      // (n_paths + 1) path i: nodes[offsets[i] .. offsets[i+1])
    int32_t *nodes;        // classes along the paths, top-level class first
    tc_path_rule rule;
    int n_best;            // paths kept per document
    double *log_p;         // (n_classes)
    int64_t *best;         // (n_best) path numbers, best first
    double *best_score;    // (n_best)
    uint8_t *in_set;       // (n_classes)
} tc_path_decoder;

// Refuses, before allocating, a taxonomy with more than TC_PATHS_MAX paths
// or more than max_nodes classes along them together (a DAG's paths
// multiply), naming the counts (tc_taxonomy_check_paths); max_nodes 0:
// TC_PATH_CLASSES_MAX, never more.
int tc_path_decoder_init(tc_path_decoder *d, const tc_taxonomy *taxonomy, tc_path_rule rule, int n_best,
                         int64_t max_nodes);
void tc_path_decoder_free(tc_path_decoder *d);

// Decodes one document's scores (n_classes): the union of the classes of
// its n_best best paths into set (n_classes at most), in path order (the
// best path root first, then what each next path adds); path_scores
// (n_best) receives the paths' scores S, best first (-inf past the number
// of paths). Returns the set's size.
int tc_path_decode(tc_path_decoder *d, const float *scores, int32_t *set, float *path_scores);

// The path numbers chosen by the last tc_path_decode, best first.
static inline const int64_t *tc_path_decoder_best(const tc_path_decoder *d) { return d->best; }

#endif
