// tc-train's other inputs: class vectors from an embeddings file
// (tc-encode of the class names), class-name tokens (tc-tokenize) that the
// model embeds itself, and the class names.
#ifndef TC_TRAIN_INPUTS_H
#define TC_TRAIN_INPUTS_H

#include <stdint.h>

#include "common/model/bert_model.h"

// An embeddings file: `embeddings` f32[K, D] (doc_ids str[K] optional).
// Rows must be finite; doc_ids that are all integers must be 0..K-1 in
// order (class ids, as labels.txt numbers them). *E (K, D) and *ids (K
// strings, or NULL without doc_ids) are allocated.
int tc_load_class_vectors(const char *path, int *K, int *D, float **E, char ***ids);

// Class-name token rows: rows[k] (lengths[k] ids) for class k, from a
// tokens file made with the model's vocabulary; doc_ids as above. All
// allocated; free with tc_free_class_tokens.
typedef struct {
    int K;
    int32_t **rows;
    int32_t *lengths;
    char **ids;
    int longest;
} tc_class_tokens;

int tc_load_class_tokens(const char *path, const tc_bert_model *model, int max_len, tc_class_tokens *out);
void tc_free_class_tokens(tc_class_tokens *t);

void tc_free_strings(char **s, int n);

#endif
