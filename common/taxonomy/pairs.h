// Training pairs for a sentence encoder from the pipeline's own outputs
// (tc-taxo pairs, for tc-train --objective contrastive): each confident
// document of tc-refine refine with the text of each of its core classes,
// the class's name and key terms as TELEClass's enriched taxonomy defines
// them, so that the encoder can be tuned on the corpus before annotation.
//
// One line per (document, core class):
//   DOCID#K <TAB> NAME: TERM, TERM, ... <TAB> the document's text
// (K the class's rank in the document's row, from 0; underscores of names
// and terms as spaces; the name alone when the class has no key terms).
// `cut -f1,2` and `cut -f1,3` make tc-tokenize's two inputs.
#ifndef TC_PAIRS_H
#define TC_PAIRS_H

#include <stdint.h>
#include <stdio.h>

#include "common/taxonomy/labels.h"
#include "common/taxonomy/taxonomy.h"

// labels: the confident documents and their core classes (entries whose
// label_core is 0, the ancestors, already dropped), in the corpus's order;
// corpus: id<TAB>text lines, read once, line by line. A labels document
// missing from the corpus (or out of its order) is an error naming both
// files. *pairs receives the lines written.
int tc_pairs_write(const tc_taxonomy *taxonomy, const tc_labels *labels, const char *labels_path, FILE *corpus,
                   const char *corpus_path, FILE *out, uint64_t *pairs);

#endif
