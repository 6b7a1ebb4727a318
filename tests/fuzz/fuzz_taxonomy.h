// What the fuzz targets do with a taxonomy a parser accepted: what
// tc-taxo build does next (write it out) and what every later program does
// (load it back), plus the walks the stages use. A taxonomy the builder
// accepts must survive the round trip unchanged.
#ifndef TC_FUZZ_TAXONOMY_H
#define TC_FUZZ_TAXONOMY_H

#include "common/taxonomy/taxonomy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void fuzz_taxonomy_round_trip(const tc_taxonomy *t) {
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buf, &size);
    if (!out) return;
    tct_writer *w;
    int rc = tct_writer_open(&w, out, "fuzz", NULL, 0, NULL);
    if (rc == 0) {
        rc = tc_taxonomy_write(t, w);
        if (rc) tct_writer_abort(w);
        else rc = tct_writer_close(w);
    }
    fclose(out);
    if (rc) abort();  // an accepted taxonomy is always written
    FILE *in = fmemopen(buf, size, "rb");
    tct_bundle b;
    if (!in || tct_bundle_read(&b, in, "fuzz")) abort();
    fclose(in);
    tc_taxonomy back;
    if (tc_taxonomy_from_bundle(&back, &b, "fuzz")) abort();  // ... and read back
    if (back.n_classes != t->n_classes || back.n_edges != t->n_edges || back.n_terms != t->n_terms) abort();
    for (int c = 0; c < t->n_classes; c++)
        if (strcmp(back.names[c], t->names[c])) abort();
    tc_taxonomy_free(&back);
    tct_bundle_free(&b);
    free(buf);
}

static inline void fuzz_taxonomy_walks(const tc_taxonomy *t) {
    int32_t *order = malloc((size_t)t->n_classes * sizeof *order);
    uint8_t *mark = calloc((size_t)t->n_classes, 1);
    if (order && mark && tc_taxonomy_bottom_up(t, order) == 0) {
        tc_taxonomy_mark_ancestors(t, order[0], mark);
        tc_taxonomy_mark_descendants(t, order[t->n_classes - 1], mark);
    }
    for (int c = 0; c < t->n_classes; c++)
        if (tc_taxonomy_find(t, t->names[c]) != c) abort();  // names are unique
    if (tc_taxonomy_path_count(t) < 1) abort();
    free(order);
    free(mark);
}

static inline void fuzz_taxonomy_use(tc_taxonomy *t) {
    fuzz_taxonomy_walks(t);
    fuzz_taxonomy_round_trip(t);
}

#endif
