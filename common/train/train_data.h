// Training data for tc-train: the token ids of a tokens file joined with
// their targets (common/taxonomy/labels.h) by document id, each epoch's shuffled
// order, and each rank's share of every step.
//
// The ids are kept in memory, packed (each document's ids back to back,
// without padding), because every epoch visits the documents in a new
// order: the memory is the size of the tokens file's ids, not more.
// Sequences longer than max_len are cut to their first max_len - 1 tokens
// plus their last one ([SEP]), as tokenizers truncate.
//
// A step of the run takes the next E = batch x ranks x accumulate documents
// of the epoch's order (fewer at the epoch's end). Its documents are cut
// into ranks x accumulate consecutive micro-batches; micro-batch a of rank r
// is number a x ranks + r. So one rank with batch 8, two ranks with batch 4
// and one rank accumulating 2 x 4 see the same documents in every step.
#ifndef TC_TRAIN_DATA_H
#define TC_TRAIN_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "formats/tct.h"

typedef struct {
    uint64_t n_docs;
    char **doc_ids;             // [n_docs]
    int64_t *tok_offsets;       // [n_docs + 1] ids of document i: tokens[tok_offsets[i] ..)
    int32_t *tokens;
    int64_t *pos_offsets;       // [n_docs + 1] positive classes (CSR)
    int32_t *pos_classes;
    int64_t *mask_offsets;      // [n_docs + 1] classes left out of the loss (CSR)
    int32_t *mask_classes;
    float *weights;             // [n_docs] document weights (1 without doc_weights)
    int longest;                // longest sequence after truncation
    tct_attr *token_attrs;      // attributes of the tokens file's input_ids (vocab_fingerprint, ...)
    size_t n_token_attrs;
    uint64_t n_without_targets; // tokens rows left out: no targets for their id
    uint64_t n_targets_unused;  // target rows whose id is not in the tokens file
    uint64_t fingerprint;       // of ids, tokens and targets: ranks and resumed runs check it
} tc_train_set;

typedef struct {
    int max_len;     // truncation length (>= 2)
    int vocab_size;  // token ids must be below it
    int n_classes;   // target class ids must be below it
} tc_train_load_options;

// Loads tokens (doc_ids, input_ids, lengths) and targets (a labels .tct with
// the optional mask and weights of `tc-taxo targets`, or a doc2labels.txt),
// joined by document id in the tokens file's order. Errors are one line
// naming the file: a missing tensor, a row length out of range, an id
// outside the vocabulary, a class outside 0..n_classes-1, a document id
// twice in the targets, no document with targets (an empty training set).
int tc_train_set_load(tc_train_set *set, const char *tokens_path, const char *targets_path,
                      const tc_train_load_options *options);
void tc_train_set_free(tc_train_set *set);

// Loads every row of a tokens file without targets (no positives, weight 1):
// one side of tc-train --objective contrastive's pairs.
int tc_train_set_load_tokens(tc_train_set *set, const char *tokens_path, const tc_train_load_options *options);

// Pairs are joined by row: the two files must have the same rows with the
// same document ids in the same order (a message names the first row that
// differs). The anchors' fingerprint then covers both sides.
int tc_train_pairs_check(tc_train_set *anchors, const tc_train_set *positives, const char *anchors_path,
                         const char *positives_path);

static inline int tc_train_set_length(const tc_train_set *s, uint64_t i) {
    return (int)(s->tok_offsets[i + 1] - s->tok_offsets[i]);
}

// Dense targets of the documents docs[0..B): y (B, K) is 1 for positives,
// w (B, K) the document's weight, 0 for its masked classes.
void tc_train_set_targets(const tc_train_set *set, const uint32_t *docs, int B, int K, float *y, float *w);

// Splits 0..n-1 into validation (round(fraction x n) documents, drawn with
// the seed) and training indices, each in increasing order. *val and
// *train are allocated.
int tc_split_indices(uint64_t n, double fraction, uint64_t seed, uint32_t **train, uint64_t *n_train,
                     uint32_t **val, uint64_t *n_val);

// The share of n training documents held out for validation when none is
// given (tc-train --val-split auto): TC_VAL_SHARE of them, at most
// TC_VAL_MAX_DOCS, and none below TC_VAL_MIN_TRAIN documents.
enum { TC_VAL_MAX_DOCS = 500, TC_VAL_MIN_TRAIN = 50 };
#define TC_VAL_SHARE 0.1
static inline double tc_val_split_auto(uint64_t n) {
    if (n < TC_VAL_MIN_TRAIN) return 0;
    return (double)n * TC_VAL_SHARE > TC_VAL_MAX_DOCS ? (double)TC_VAL_MAX_DOCS / (double)n : TC_VAL_SHARE;
}

// order (n) = idx (n) shuffled for this epoch: depends on seed and epoch only.
void tc_epoch_order(uint32_t *order, const uint32_t *idx, uint64_t n, uint64_t seed, uint64_t epoch);

// Steps in an epoch of n documents with E documents a step.
static inline uint64_t tc_steps_per_epoch(uint64_t n, uint64_t E) { return (n + E - 1) / E; }

// Where micro-batch `micro` (0..accumulate-1) of rank `rank` lies among the
// step_docs documents of a step: [*begin, *end), possibly empty.
void tc_micro_batch_range(uint64_t step_docs, int ranks, int accumulate, int rank, int micro, uint64_t *begin,
                          uint64_t *end);

#endif
