// Path-based augmentation (TELEClass, section 3.5): pseudo-documents for
// every root-to-leaf path of the taxonomy, each labeled with the whole path.
// Three sources share what is here: the paths, the documents collected, and
// the two outputs (a corpus file `id<TAB>text` and its label tensors).
#ifndef TC_AUGMENT_H
#define TC_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/cli/cli.h"
#include "common/taxonomy/taxonomy.h"

enum { TC_AUG_MAX_PER_PATH = 64 };  // documents per path at most

// The root-to-leaf paths in tc_taxonomy_paths order.
typedef struct {
    int n;
    int32_t *offsets;   // [n + 1] into classes
    int32_t *classes;   // each path's classes, top-level class first
} tc_paths;

// Refuses, before allocating, more than TC_PATHS_MAX paths or
// TC_PATH_CLASSES_MAX classes along them (tc_taxonomy_check_paths).
int tc_paths_collect(tc_paths *paths, const tc_taxonomy *taxonomy);
void tc_paths_free(tc_paths *paths);
// "sports > hockey": names with underscores as spaces, joined by " > " (malloc'd).
char *tc_path_text(const tc_taxonomy *taxonomy, const tc_paths *paths, int p);

// One pseudo-document and its labels (a path; for imported documents the
// classes their file gives).
typedef struct {
    char *id;
    char *text;
    int32_t *classes;
    int n_classes;
    int32_t core;       // the leaf: marked in label_core
} tc_aug_doc;

typedef struct {
    tc_aug_doc *docs;
    size_t n, cap;
} tc_aug_set;

int tc_aug_set_add(tc_aug_set *set, const char *id, const char *text, const int32_t *classes, int n_classes,
                   int32_t core);
void tc_aug_set_free(tc_aug_set *set);

// Writes docs_out (id<TAB>text, atomically) and the label tensors to the
// program's output (-o or stdout): doc_ids, label_offsets, label_classes,
// label_core; attribute source on label_classes. Both or neither.
int tc_aug_write(const tc_cli *cli, const char *docs_out, const tc_aug_set *set, const char *source);

// Fails when a document of the real corpus has an id starting with prefix
// (the pseudo-documents' ids would then be able to collide with it).
int tc_aug_check_prefix(const char *corpus, const char *prefix);

// Text as one line: tabs, newlines and runs of white space become one
// space; trimmed (malloc'd).
char *tc_aug_clean_text(const char *text);
int tc_aug_word_count(const char *text);

#endif
