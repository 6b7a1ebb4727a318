// Training targets of TELEClass (prepare_training_data.py) from core classes:
//   positives  the core classes and all their ancestors
//   mask       descendants of core classes that are not positives: left out of
//              the loss (a document about "baseball" says nothing about its
//              subclasses); in a DAG a class that is both an ancestor of one
//              core class and a descendant of another stays positive
//   negatives  every other class
//   weight     1 for documents with core classes; documents from path-based
//              augmentation (labeled with whole paths: positives = their
//              classes and ancestors, nothing masked) weigh
//              |core documents| / |augmented documents|
// Documents with no class are left out (refinement found nothing for them).
#ifndef TC_TARGETS_H
#define TC_TARGETS_H

#include "common/taxonomy/labels.h"
#include "common/taxonomy/taxonomy.h"

typedef struct {
    uint64_t core_docs, augmented_docs;     // documents written from each input
    uint64_t core_empty, augmented_empty;   // documents left out for having no class
    float augmented_weight;
} tc_targets_summary;

// Builds targets (label_offsets/classes = positives in id order,
// mask_offsets/classes in id order, doc_weights): core documents first, then
// augmented ones. augmented may be NULL; its documents weigh
// augmented_weight, or |core documents| / |augmented documents| when it is
// negative. A document id present in both inputs is an error.
// Reduces each document's classes to its deepest ones: a class with a
// descendant in the same set is dropped (a gold label set that lists a
// whole path keeps its leaf). Returns the number dropped, or -1.
int64_t tc_labels_keep_deepest(tc_labels *labels, const tc_taxonomy *taxonomy);

int tc_targets_build(const tc_taxonomy *taxonomy, const tc_labels *core, const tc_labels *augmented,
                     double augmented_weight, tc_labels *targets, tc_targets_summary *summary);

#endif
