// Core class refinement (TELEClass, section 3.4; core_class_refinement.py):
// the pieces tc-refine's streaming passes are made of.
//   1. A class's embedding is the mean embedding of the documents annotated
//      with it (core classes and their ancestors) whose text contains one of
//      its key terms, matched as whole words (tc_term_matcher).
//   2. Each document's similarities to the class embeddings, sorted; its
//      confidence is the widest of the gaps between the top four, and it
//      keeps the classes above that gap (tc_refine_confidence).
//   3. Documents whose confidence is under a percentile of all confidences
//      are dropped (tc_percentile, numpy's default linear interpolation).
#ifndef TC_REFINE_H
#define TC_REFINE_H

#include <stddef.h>
#include <stdint.h>

#include "common/taxonomy/taxonomy.h"

// How a key term is found in a document:
//   WORD   case-insensitive (Unicode case folding), any run of white space
//          in the text counts as one space, and the characters around the
//          match are not letters or digits;
//   EXACT  the reference's test: " term " inside " text " (case-sensitive,
//          bounded by single spaces only).
// Underscores in terms stand for spaces in both.
typedef enum { TC_MATCH_WORD, TC_MATCH_EXACT } tc_match_mode;
int tc_match_mode_parse(const char *name, tc_match_mode *mode);

typedef struct tc_term_matcher tc_term_matcher;

// Key terms from the taxonomy's terms/term_class; names_as_terms adds each
// class's own name as a term.
int tc_term_matcher_create(tc_term_matcher **m, const tc_taxonomy *taxonomy, tc_match_mode mode,
                           int names_as_terms);
void tc_term_matcher_free(tc_term_matcher *m);
int tc_term_matcher_count(const tc_term_matcher *m, int c);  // terms of class c

// Prepares a document's text for the queries that follow.
int tc_term_matcher_set_text(tc_term_matcher *m, const char *text);
// 1 if the current text contains one of class c's terms.
int tc_term_matcher_has(const tc_term_matcher *m, int c);

// top (k values, largest first): returns the confidence (the widest gap
// between neighbours; the first if several are equally wide) and sets
// *n_keep to the number of values above it. With k = 1 the confidence is 0
// and the one class is kept.
float tc_refine_confidence(const float *top, int k, int *n_keep);

// The q-th percentile (0..100) of values, linear interpolation between the
// order statistics as numpy.percentile does by default on a float32 array,
// bit for bit. Sorts values.
double tc_percentile(float *values, size_t n, double q);

#endif
