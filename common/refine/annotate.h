// Core class annotation (TELEClass, section 3.3): a top-down search of the
// taxonomy for each document, then the choice of core classes among the
// classes the search kept.
//
// The search restates TELEClass's tree_search_bfs rule for rule:
//   - a class's similarity to the document is exp(max cosine over the
//     class's name and key terms);
//   - the walk starts at a root above the top-level classes (path score 1);
//     at level l every kept class scores its children, sets each child's path
//     score to its similarity times the best path score among its parents,
//     and passes on its l+3 most similar children;
//   - the classes passed on are ranked by path score and (l+2)^2 of them are
//     kept for the next level (level 0 keeps all it got);
//   - every class kept at some level is a candidate, in the order it was
//     first kept.
// In a DAG a class passed on by two kept parents is kept twice, as in the
// reference (it then takes two of the (l+2)^2 places).
#ifndef TC_ANNOTATE_H
#define TC_ANNOTATE_H

#include <stdint.h>

#include "common/taxonomy/taxonomy.h"

typedef struct {
    int n, cap;
    int32_t *classes;       // candidates in the order first kept
    float *cosine;          // max cosine of the class (not exp'd)
    double *path_score;     // product of exp'd similarities along the best path
} tc_candidates;

void tc_candidates_free(tc_candidates *c);

// A class's similarity to a document: the largest cosine over its name and
// key terms (OWN, as TELEClass), or over those of the class and all its
// descendants (SUBTREE): a class stands for its whole subtree, so a
// document about senators is about "agent" however abstract that name is.
typedef enum { TC_SIMILARITY_SUBTREE = 0, TC_SIMILARITY_OWN } tc_class_similarity;
int tc_class_similarity_parse(const char *name, tc_class_similarity *out);  // "subtree", "own"

// cosine [C] in place: each class's value becomes the largest over it and
// its descendants. bottom_up: tc_taxonomy_bottom_up's order.
void tc_subtree_max(const tc_taxonomy *taxonomy, const int32_t *bottom_up, float *cosine);

// Scratch for one document at a time (one per thread).
typedef struct tc_search tc_search;
int tc_search_create(tc_search **s, const tc_taxonomy *taxonomy);
void tc_search_free(tc_search *s);

// class_cosine [C]: the document's max cosine to every class.
int tc_search_run(tc_search *s, const float *class_cosine, tc_candidates *out);

// How core classes are chosen without an LLM (tc-refine(1) explains each):
//   GAP   sort the candidates by cosine, cut the first TC_CORE_GAP_TOP at
//         the largest drop between neighbours (the confidence rule of
//         refinement), keep those above the cut that have no descendant
//         above the cut (the leaf-most);
//   PATH  the candidate with the highest path score (exp'd similarities
//         multiplied from the top: it favours deep, consistent paths);
//   TOP   the single most similar candidate.
enum { TC_CORE_GAP_TOP = 4 };
typedef enum { TC_CORE_GAP, TC_CORE_PATH, TC_CORE_TOP } tc_core_rule;
int tc_core_rule_parse(const char *name, tc_core_rule *rule);

// Writes the chosen classes to core[] (room for cand->n); returns how many.
// mark: scratch of taxonomy->n_classes bytes, all zero on entry and on return.
int tc_core_select(const tc_taxonomy *taxonomy, const tc_candidates *cand, tc_core_rule rule, int32_t *core,
                   uint8_t *mark);

// The core classes followed by their ancestors (each class once; ancestors in
// increasing id). is_core[i] says which. out and is_core need room for
// n_classes entries; mark as above. Returns the count.
int tc_with_ancestors(const tc_taxonomy *taxonomy, const int32_t *core, int n_core, int32_t *out,
                      uint8_t *is_core, uint8_t *mark);

// ---------------------------------------------------------------- with an LLM

// The default instructions; {classes} becomes the candidates' names
// (underscores as spaces) joined by ", ", as TELEClass writes them.
const char *tc_annotate_prompt_template(const char *style);  // "generic", "review", "encyclopedia"; NULL if unknown

// The instruction for one document (malloc'd).
char *tc_annotate_prompt(const char *template_text, const tc_taxonomy *taxonomy, const tc_candidates *cand);

// Reads the model's answer leniently: names separated by commas, semicolons
// or new lines, with or without underscores, quotes, bullets or a final
// period, in any case. Only candidates count; others are counted in
// *n_not_candidates. Returns the number of distinct candidates named
// (written to core[], room for cand->n).
int tc_annotate_parse_reply(const char *reply, const tc_taxonomy *taxonomy, const tc_candidates *cand,
                            int32_t *core, int *n_not_candidates);

#endif
