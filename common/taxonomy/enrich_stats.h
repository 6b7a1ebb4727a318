// Term statistics per class for enrichment, from one pass over the corpus:
// for every class c and word w, tf (occurrences in c's documents) and df
// (c's documents containing w); per class the total length dl, the largest
// df and the document count. A document counts for its core classes and
// their ancestors. Also the embeddings of candidate terms and class names.
#ifndef TC_ENRICH_STATS_H
#define TC_ENRICH_STATS_H

#include "common/taxonomy/enrich.h"
#include "common/strindex.h"

typedef struct {
    tc_strindex vocab;          // words and phrases (phrase words joined by '_')
    int64_t n_words;
    uint8_t *eligible;          // [n_words] not a stop word; on the phrase list when one is given
    int64_t *class_offsets;     // [C+1] entries of class c, sorted by word
    int32_t *words;             // [entries]
    int64_t *tf, *df;           // [entries]
    int64_t *dl, *maxdf, *docs; // [C]
    int64_t corpus_docs;        // documents of the corpus with core classes
} enrich_stats;

int enrich_stats_collect(enrich_stats *stats, const tc_taxonomy *taxonomy, const tc_labels *core,
                         const tc_enrich_options *options, const tc_cli *cli);
// tf and df of word w in class c (0 when absent).
void enrich_stats_lookup(const enrich_stats *stats, int c, int32_t w, int64_t *tf, int64_t *df);
const char *enrich_stats_word(const enrich_stats *stats, int32_t w);
void enrich_stats_free(enrich_stats *stats);

typedef struct {
    float *rows;          // unit-length rows [n, dim] (zero rows stay zero)
    int64_t *word_row;    // per word: its row, -1 if not a candidate
    int64_t *class_row;   // per class: the row of its name
    uint64_t dim;
} enrich_embeddings;

// Reads the rows of the used candidates and of the class names (by doc id =
// the term or the name) from an embeddings file; a missing one is an error.
int enrich_embeddings_load(enrich_embeddings *e, const tc_taxonomy *taxonomy, const enrich_stats *stats,
                           const uint8_t *used, const char *path);
void enrich_embeddings_free(enrich_embeddings *e);

#endif
