// Scoring a predictions stream against gold labels (tc-eval): documents are
// matched by id, each scored as common/predict/metrics.h defines, in one
// streaming pass after a first pass that finds which tensors there are.
//
// What is scored, by what the stream holds:
//   ranking   from `scores` f32[N,C]; else from `topk_classes` +
//             `topk_scores` (gold classes beyond the top k count 0 in MRR);
//             else from predicted sets with `label_scores`, which rank their
//             own members (tc-refine annotate's core classes)
//   sets      classes scoring >= a threshold, when one is given; else the
//             sets the stream carries (`label_offsets` + `label_classes`)
#ifndef TC_EVALUATION_H
#define TC_EVALUATION_H

#include <stdint.h>
#include <stdio.h>

#include "common/cli/cli.h"
#include "common/predict/metrics.h"
#include "common/strindex.h"
#include "common/taxonomy/labels.h"
#include "common/taxonomy/taxonomy.h"

// What the predictions stream holds; predicted sets (small) are kept whole.
typedef struct {
    int scores, topk, sets;
    int rank_sets;            // no scores or top k: sets ranked by their label_scores
    uint64_t n_docs, k;
    int64_t *set_offsets;     // [n_docs + 1]
    int32_t *set_classes;
    float *set_scores;        // label_scores, or NULL
    uint64_t set_offsets_n, set_classes_n, set_scores_n;
} tc_prediction_layout;

typedef struct {
    int has_threshold;
    double threshold;
    const tc_cli *cli;        // its progress settings
} tc_evaluation_options;

typedef struct {
    tc_labels gold;
    tc_strindex gold_ids;
    tc_prediction_layout layout;
    tc_metrics metrics;
    uint64_t matched, unmatched, duplicates;
    uint8_t *is_gold;         // [C] scratch
    int32_t *pred;            // [C]
    int64_t *rank;            // [C]
    uint8_t *gold_used;
    int32_t *ranked_classes;  // [C] a predicted set ranked by its scores
    float *ranked_scores;     // [C]
} tc_evaluation;

// Reads the gold labels (doc2labels.txt or a label file); a document id
// may appear once, repeated classes within a set count once.
int tc_evaluation_load_gold(tc_evaluation *e, const char *gold_path, int n_classes);

// Scores the predictions at `path` ("-": stdin, spooled to a temporary file
// so that it can be read twice) into e->metrics.
int tc_evaluation_run(tc_evaluation *e, const tc_taxonomy *taxonomy, const char *path,
                      const tc_evaluation_options *o);

void tc_evaluation_free(tc_evaluation *e);

#endif
