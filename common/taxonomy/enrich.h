// Corpus-based taxonomy enrichment (TELEClass section 3.2, after its
// taxonomy_enrichment.py). For every set of siblings (the children of one
// parent; the top-level classes form one set):
//   - the documents of sibling s are those whose core classes or their
//     ancestors include s;
//   - candidate terms: words (and phrases of a phrase list) of those
//     documents, not stop words, seen at least min_freq times in one
//     sibling's documents; with a phrase list, only terms on the list;
//   - per sibling s and term w, with tf, df, dl = counts in s's documents:
//       bm25(s,w)  = tf (k+1) / (tf + k (1 - b + b dl/avgdl)) * log2(1+df) / log2(1+maxdf)
//                    k = 1.2, b = 0.5, avgdl over the set, maxdf = largest df in s
//       dist(s,w)  = exp bm25(s,w) / (1 + sum over siblings exp bm25(., w))
//       pop(s,w)   = log2(1 + df)
//       sim(s,w)   = max(0, cos(embedding(w), embedding(name of s)))
//       score(s,w) = pop^0.2 * dist^0.8 * sim
//   - the top_k terms of each sibling by score (terms scoring 0 are not kept);
//     a term in the top k of several siblings stays with the highest score.
// A class in several sets (several parents) keeps the terms all its sets
// give it. Output: `name:term,term,...` per class that had documents, terms
// by decreasing score.
//
// Two runs: TC_ENRICH_CANDIDATES lists every candidate term and class name as
// `term<TAB>text` (text: underscores as spaces) for tc-tokenize/tc-encode;
// TC_ENRICH_SCORE reads their embeddings and writes the key terms.
#ifndef TC_ENRICH_H
#define TC_ENRICH_H

#include <stdio.h>

#include "common/cli/cli.h"
#include "common/taxonomy/labels.h"
#include "common/taxonomy/taxonomy.h"

typedef struct {
    const char *corpus;        // id<TAB>text lines ("-": stdin)
    const char *phrases;       // "score<TAB>phrase" lines (AutoPhrase), or NULL
    double min_phrase_score;   // phrases below are ignored
    int max_phrase_words;      // longest phrase matched
    int min_freq;              // a candidate's tf in at least one sibling
    const char *stopwords;     // one word a line; NULL: the built-in English list
    const char *embeddings;    // TC_ENRICH_SCORE: embeddings of the candidates
    int top_k;
} tc_enrich_options;

#define ENRICH_OPTIONS_HELP                                                                   \
    "  -t, --taxonomy FILE     the taxonomy\n"                                                \
    "      --core LABELS       core classes of the documents (label file or doc2labels.txt)\n" \
    "      --phrases FILE      quality phrases, score<TAB>phrase lines (AutoPhrase output)\n"  \
    "      --min-phrase-score X  phrases scoring below X are ignored (default 0.5)\n"          \
    "      --phrase-words N    longest phrase matched, in words (default 6)\n"                 \
    "      --min-freq N        a candidate occurs N times in one sibling's documents (default 5)\n" \
    "      --stopwords FILE    stop words, one a line (default: a built-in English list)\n"

enum { TC_ENRICH_CANDIDATES = 1, TC_ENRICH_SCORE = 2 };

void tc_enrich_defaults(tc_enrich_options *options);

// Runs one step and writes its text output to out.
int tc_enrich_run(const tc_taxonomy *taxonomy, const tc_labels *core, const tc_enrich_options *options,
                  const tc_cli *cli, int mode, FILE *out);

// ---------------------------------------------------------------- text, shared with tests

// The words of a text: lower-cased runs of letters, digits and apostrophes
// (non-ASCII characters count as letters), apostrophes at either end and a
// trailing 's dropped, at least 2 bytes and one letter, at most 48 bytes.
// Calls word(start, length, context) for each; the bytes are lower-cased in
// place. Returns the number of words.
long tc_enrich_words(char *text, void (*word)(const char *start, size_t length, void *context), void *context);

// 1 if the word is on the built-in stop-word list.
int tc_enrich_builtin_stopword(const char *word);

#endif
