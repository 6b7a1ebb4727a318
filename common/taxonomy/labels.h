// Per-document class sets in CSR form, the layout of every label file
// (DESIGN section 8): core classes, gold labels, training targets.
//   doc_ids        str[N]
//   label_offsets  i64[N+1]   classes of document i: label_classes[offsets[i] .. offsets[i+1])
//   label_classes  i32[nnz]
//   label_scores   f32[nnz]   optional (annotation similarities, confidences)
//   label_core     u8[nnz]    optional: 1 for a core class, 0 for a class added as
//                             an ancestor (tc-refine annotate, tc-augment)
// Training targets (tc-taxo targets) add:
//   mask_offsets   i64[N+1]   classes left out of the loss (descendants of core classes)
//   mask_classes   i32[nnz_mask]
//   doc_weights    f32[N]     per-document loss weight
#ifndef TC_LABELS_H
#define TC_LABELS_H

#include <stdint.h>

#include "formats/tct.h"

typedef struct {
    uint64_t n_docs;
    char **doc_ids;            // [n_docs]
    int64_t *offsets;          // [n_docs + 1]
    int32_t *classes;          // [offsets[n_docs]]
    float *scores;             // [offsets[n_docs]] or NULL
    uint8_t *core;             // [offsets[n_docs]] or NULL
    int64_t *mask_offsets;     // targets only, else NULL
    int32_t *mask_classes;
    float *doc_weights;        // targets only, else NULL
} tc_labels;

// Loads a label file ("-" is stdin); checks offsets and class ids
// (< n_classes when n_classes > 0).
int tc_labels_load(tc_labels *labels, const char *path, int n_classes);
// The same from a bundle already read; the arrays are moved out of it.
int tc_labels_from_bundle(tc_labels *labels, tct_bundle *bundle, const char *where, int n_classes);
// Reads TELEClass's doc2labels.txt: `id<TAB>c1,c2,...` with class ids
// (an empty list is a document without labels; repeats are dropped).
int tc_labels_read_text(tc_labels *labels, const char *path, int n_classes);
// Either of the two, told apart by the first bytes ("-" is stdin). An empty
// file is an error ("FILE: empty file, ..."), not a file of no documents.
int tc_labels_read_any(tc_labels *labels, const char *path, int n_classes);
// Writes the tensors above that are present.
int tc_labels_write(const tc_labels *labels, tct_writer *writer);
void tc_labels_free(tc_labels *labels);

// Keeps only the core classes where label_core says which they are (else
// changes nothing); returns how many non-core entries were dropped.
int64_t tc_labels_keep_core(tc_labels *labels);

#endif
