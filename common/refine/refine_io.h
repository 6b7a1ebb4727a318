// Inputs of tc-refine and tc-augment, read the same way everywhere:
//   embeddings   as common/embeddings/embedding_stream.h reads them;
//   class term embeddings  class_of_row (or term_class) i32[M] + embeddings
//                [M,D]: for each class, its name and key terms embedded
//                (tc-taxo), gathered class by class;
//   corpus       `id<TAB>text` lines, read in step with the embeddings and
//                checked to be the same documents in the same order.
#ifndef TC_REFINE_IO_H
#define TC_REFINE_IO_H

#include <stdint.h>
#include <stdio.h>

#include "common/embeddings/embedding_stream.h"
#include "common/taxonomy/taxonomy.h"
#include "formats/tct.h"


typedef struct {
    int n_classes;
    int64_t m;              // rows
    int d;
    float *rows;            // (M, D), class by class
    int32_t *offsets;       // (C+1)
} tc_class_targets;

// Every class of the taxonomy must have at least one row.
int tc_class_targets_load(tc_class_targets *t, const char *path, const tc_taxonomy *taxonomy);
void tc_class_targets_free(tc_class_targets *t);

typedef struct {
    const char *path;
    FILE *f;
    char *line;
    size_t cap;
    uint64_t line_no;
} tc_corpus_reader;

int tc_corpus_open(tc_corpus_reader *r, const char *path);
// The next document's text; its id must equal expected_id (when not NULL).
// The text stays valid until the next call. Returns 0, 1 at the end, -1.
int tc_corpus_next(tc_corpus_reader *r, const char *expected_id, const char **id, const char **text);
void tc_corpus_close(tc_corpus_reader *r);

#endif
