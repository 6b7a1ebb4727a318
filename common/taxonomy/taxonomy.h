// A label taxonomy: a DAG of classes, loaded from the taxonomy tensors that
// `tc-taxo build` writes (DESIGN section 8):
//   class_names str[C]    class i's name (ids as in labels.txt)
//   edges       i32[E,2]  (parent, child)
//   depth       i32[C]    1 for top-level classes, else 1 + the smallest parent depth
//   roots       i32[R]    the top-level classes; attribute virtual_root=yes when R > 1
//                         (the virtual root joins them; it is not a class and has no id)
//   terms       str[T]    key terms (optional), with
//   term_class  i32[T]    the class of each term
#ifndef TC_TAXONOMY_H
#define TC_TAXONOMY_H

#include <stdint.h>

#include "formats/tct.h"

typedef struct {
    int n_classes;
    char **names;              // [n_classes]
    int n_edges;
    int32_t *edges;            // [n_edges * 2] parent, child
    int32_t *depth;            // [n_classes]
    int max_depth;
    int n_roots;
    int32_t *roots;            // [n_roots]
    // adjacency in CSR form, built on load
    int32_t *parent_offsets;   // [n_classes + 1]
    int32_t *parents;          // [n_edges]
    int32_t *child_offsets;    // [n_classes + 1]
    int32_t *children;         // [n_edges]
    // key terms
    int n_terms;
    char **terms;              // [n_terms]
    int32_t *term_class;       // [n_terms]
} tc_taxonomy;

// Builds a taxonomy from class names and (parent, child) edges, copying
// them, and checks it; each problem has its own message: no classes, an
// empty name, a name with a control character (tc_unprintable: names are
// printed as they are; the message shows it escaped), a name used twice, an edge
// naming an unknown id, a self-loop, an edge given twice, a class no
// top-level class reaches (it is on or below a cycle, which is named), a
// cycle (named: "a > b > c > a"). Depth, roots and adjacency are computed. No key terms.
int tc_taxonomy_init(tc_taxonomy *taxonomy, int n_classes, const char *const *names, int n_edges,
                     const int32_t *edges);
// Replaces the key terms with copies of these (term_class ids are checked).
int tc_taxonomy_set_terms(tc_taxonomy *taxonomy, int n_terms, const char *const *terms,
                          const int32_t *term_class);
// Root-to-leaf paths multiply in a DAG (each level's classes all parents of
// the next level's: 132 classes, 2^66 paths), so they are counted without
// walking them, and the counts saturate at TC_PATHS_SATURATED: a count
// equal to it means "at least that many".
#define TC_PATHS_SATURATED INT64_MAX
typedef struct {
    int64_t paths;     // root-to-leaf paths
    int64_t classes;   // classes along them all together (a class once per path it is on)
} tc_path_totals;
int tc_taxonomy_path_totals(const tc_taxonomy *taxonomy, tc_path_totals *totals);
// The number of paths, saturated; -1 out of memory.
int64_t tc_taxonomy_path_count(const tc_taxonomy *taxonomy);
// "123", or ">= 9223372036854775807" for a saturated count; text has room for 32.
const char *tc_path_count_text(int64_t count, char *text);

// Every program that lists or holds the paths (tc-taxo paths, tc-predict
// --paths, tc-augment) takes at most this many, with at most
// TC_PATH_CLASSES_MAX classes along them together, and checks before it
// allocates or walks anything (man pages: tc-taxo(1) LIMITS).
#define TC_PATHS_MAX ((int64_t)1 << 24)
#define TC_PATH_CLASSES_MAX ((int64_t)1 << 26)
// Refuses a taxonomy with more than max_paths paths or max_classes classes
// along them: "the taxonomy has N root-to-leaf paths (M classes along
// them); WHO takes at most P paths and C classes along them" (the caller
// adds the file name).
int tc_taxonomy_check_paths(const tc_taxonomy *taxonomy, const char *who, int64_t max_paths, int64_t max_classes);

// Loads and checks a taxonomy file ("-" is stdin).
int tc_taxonomy_load(tc_taxonomy *taxonomy, const char *path);
// The same from a bundle already read.
int tc_taxonomy_from_bundle(tc_taxonomy *taxonomy, const tct_bundle *bundle, const char *where);
void tc_taxonomy_free(tc_taxonomy *taxonomy);

// Writes the taxonomy tensors (and terms, if any) to a stream.
int tc_taxonomy_write(const tc_taxonomy *taxonomy, tct_writer *writer);

// Class id of a name, or -1.
int tc_taxonomy_find(const tc_taxonomy *taxonomy, const char *name);
int tc_taxonomy_is_leaf(const tc_taxonomy *taxonomy, int c);

// Every class once, each after all its descendants (leaves first; Kahn's
// order on the reversed edges): order has room for n_classes.
int tc_taxonomy_bottom_up(const tc_taxonomy *taxonomy, int32_t *order);

// Sets mark[a] = 1 for every ancestor a of c (not c itself).
void tc_taxonomy_mark_ancestors(const tc_taxonomy *taxonomy, int c, uint8_t *mark);
// Sets mark[d] = 1 for every descendant d of c (not c itself).
void tc_taxonomy_mark_descendants(const tc_taxonomy *taxonomy, int c, uint8_t *mark);

// Root-to-leaf paths: calls visit(path, length, context) for each, in a
// fixed order (roots in order, children in edge order). A DAG class with
// several parents appears on several paths. Returns the number of paths, or
// -1 if visit returns non-zero (which stops the walk) or, before any visit,
// if there are more than TC_PATHS_MAX paths or TC_PATH_CLASSES_MAX classes
// along them (tc_taxonomy_check_paths).
int64_t tc_taxonomy_paths(const tc_taxonomy *taxonomy,
                          int (*visit)(const int32_t *path, int length, void *context), void *context);

#endif
