// What tc-predict writes, window by window, in the input's row order: the
// predictions tensors (DESIGN section 8) or, for people, one text line per
// document.
//
// Tensors (N documents, K classes):
//   class_names   str[K]       the classes, so that ids can be read back
//   doc_ids       str[N]       always
//   scores        f32[N,K]     every class's score (--scores, the default)
//   topk_classes  i32[N,k]     the k best classes, best first (--top-k)
//   topk_scores   f32[N,k]     their scores
//   label_offsets i64[N+1]     predicted sets (--threshold or --paths), CSR:
//   label_classes i32[nnz]       document i's classes are
//   label_scores  f32[nnz]       label_classes[label_offsets[i] .. label_offsets[i+1])
//   path_scores   f32[N,P]     --paths: the P chosen paths' scores, best first
// Scores are logits (attribute score=logit), or with `sigmoid`
// probabilities (score=probability); path scores are log-probabilities.
// A set from paths lists the best path's classes root first, then the
// classes each next path adds; a thresholded set is ordered best first.
#ifndef TC_PREDICT_OUTPUT_H
#define TC_PREDICT_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

#include "common/predict/class_decode.h"
#include "common/taxonomy/taxonomy.h"
#include "formats/tct.h"

typedef struct {
    int scores;              // write scores f32[N,K]
    int top_k;               // k, 0: no top-k tensors (text: classes shown without sets)
    double threshold;        // > 0: sets of the classes with probability >= threshold
    int paths;               // > 0: sets of the classes on the best `paths` paths
    tc_path_rule path_rule;
    int sigmoid;             // probabilities instead of logits
} tc_prediction_format;

typedef struct {
    tc_prediction_format f;
    int K, k;                // classes; top-k columns (at most K)
    const char *const *class_names;
    tc_path_decoder decoder;
    tct_writer *writer;      // tensors, or
    FILE *text;              // text lines
    int t_ids, t_scores, t_topk_classes, t_topk_scores, t_offsets, t_classes, t_label_scores, t_path_scores;
    int64_t nnz;             // set members written so far
    size_t max_rows;
    float *values;           // (max_rows, K) the scores as written
    int32_t *topk_classes;   // (max_rows, k)
    float *topk_scores;
    int64_t *offsets;        // (max_rows)
    int32_t *set_classes;    // (max_rows, K)
    float *set_scores;
    float *path_scores;      // (max_rows, paths)
    int32_t *scratch;        // (K)
} tc_prediction_writer;

// Starts the output: tensors on `writer` (their attributes `attrs` go on
// scores and topk_scores) or, with `text`, lines there. `taxonomy` is
// needed for paths. Windows hold at most max_rows rows.
int tc_prediction_writer_begin(tc_prediction_writer *pw, const tc_prediction_format *f, int K,
                               const char *const *class_names, const tc_taxonomy *taxonomy, size_t max_rows,
                               tct_writer *writer, FILE *text, const tct_attr *attrs, size_t n_attrs);

// Writes n rows: ids (n) and their logits (n, K).
int tc_prediction_writer_append(tc_prediction_writer *pw, size_t n, const char *const *ids, const float *logits);

// Ends every tensor begun (the stream itself is closed by its owner).
int tc_prediction_writer_end(tc_prediction_writer *pw);
void tc_prediction_writer_free(tc_prediction_writer *pw);

#endif
