// Key terms of classes: the `name:term,term,...` files of TELEClass
// (llm_enrichment.txt, enrichment.txt), merged into a taxonomy's `terms` /
// `term_class` tensors, exported back as text, listed as strings to embed,
// and their embeddings gathered per class.
//
// A term is stored as written with its spaces turned into underscores
// ("space shuttle" and "space_shuttle" are the same term), the way TELEClass
// files write phrases; the text that is embedded has spaces instead.
#ifndef TC_KEYTERMS_H
#define TC_KEYTERMS_H

#include <stdio.h>

#include "common/strindex.h"
#include "common/taxonomy/taxonomy.h"

typedef struct {
    int n, cap;
    char **terms;
    int32_t *classes;
    tc_strindex seen;  // "class<TAB>term" of terms kept, to drop repeats
} tc_keyterms;

// Starts a merge from the terms the taxonomy has (none if replace).
int tc_keyterms_begin(tc_keyterms *k, const tc_taxonomy *taxonomy, int replace);
// Adds one term of class c (canonical form; repeats and empty terms are dropped;
// a control character is an error, as in class names). Returns 1 if added,
// 0 if dropped, -1 on failure.
int tc_keyterms_add(tc_keyterms *k, int c, const char *term);
// Reads a key-term file: one class a line, `name:term,term,...`; blank lines
// skipped; a class name matches exactly or, failing that, ignoring case and
// treating spaces, hyphens and underscores alike. Unknown or ambiguous
// names are errors naming the line. *added counts terms new to the merge.
int tc_keyterms_read(tc_keyterms *k, const tc_taxonomy *taxonomy, const char *path, int *added);
// Sets the taxonomy's terms to the merge, grouped by class in id order
// (within a class: the order they were added), and frees the merge.
int tc_keyterms_finish(tc_keyterms *k, tc_taxonomy *taxonomy);
void tc_keyterms_free(tc_keyterms *k);

// The class named `name` as tc_keyterms_read matches it; -1 if none, -2 if
// several classes match loosely.
int tc_keyterms_find_class(const tc_taxonomy *taxonomy, const char *name);

// Writes `name:term,term,...` for every class (an empty list for classes
// without terms). Returns -1 on a write error.
int tc_keyterms_write_text(const tc_taxonomy *taxonomy, FILE *f);

// The strings to embed as `id<TAB>text` lines: for each class in id order,
// `c<ID><TAB>name` and then `t<INDEX><TAB>term` for each of its terms
// (INDEX into the taxonomy's terms), underscores turned into spaces;
// names_only: the `c` lines alone (one row per class, for class vectors).
int tc_keyterms_write_texts(const tc_taxonomy *taxonomy, FILE *f, int names_only);

// Copies s with underscores as spaces (malloc'd).
char *tc_keyterms_display(const char *s);

// Gathers the rows of an embeddings file (doc_ids + embeddings, as
// tc_keyterms_write_texts named them) into per-class sets, written as
//   class_of_row  i32[M]     the class of each row; rows grouped by class in id order
//   row_offsets   i64[C+1]   rows of class c: row_offsets[c] .. row_offsets[c+1]
//   row_texts     str[M]     what was embedded
//   embeddings    f32[M,D]   the class name's row first, then its terms'
// Every class and term must have its row (an error names a missing one).
// Rows of other ids are ignored.
int tc_keyterms_gather_embeddings(const tc_taxonomy *taxonomy, const char *embeddings_path, tct_writer *writer,
                                  int64_t *rows_written);

#endif
