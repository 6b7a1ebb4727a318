// Small training inputs for tests: a tokens file as tc-tokenize writes it
// (doc_ids, input_ids padded to a width, lengths, the vocabulary's
// fingerprint on input_ids) and a targets file as tc-taxo writes it.
#ifndef TC_TESTS_TRAIN_FIXTURES_H
#define TC_TESTS_TRAIN_FIXTURES_H

#include "common/taxonomy/labels.h"
#include "formats/tct.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// rows[i] holds lengths[i] ids; written padded with 0 to `width` columns.
// fingerprint may be NULL (no attribute).
static inline int fixture_write_tokens(const char *path, uint64_t n, const char *const *doc_ids,
                                       const int32_t *const *rows, const int32_t *lengths, int width,
                                       const char *fingerprint) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    tct_writer *w;
    if (tct_writer_open(&w, f, path, NULL, 0, NULL)) {
        fclose(f);
        return -1;
    }
    int32_t *ids = calloc(n * (size_t)width + 1, sizeof *ids);
    for (uint64_t i = 0; i < n; i++)  // a length past the width (for error tests) copies the width
        memcpy(ids + i * (size_t)width, rows[i], (size_t)(lengths[i] < width ? lengths[i] : width) * sizeof *ids);
    uint64_t dims[2] = {n, (uint64_t)width};
    tct_attr attr = {"vocab_fingerprint", fingerprint};
    int rc = tct_writer_string_tensor(w, "doc_ids", doc_ids, n, NULL, 0) ||
             tct_writer_tensor(w, "input_ids", TCT_I32, 2, dims, ids, &attr, fingerprint ? 1 : 0) ||
             tct_writer_tensor(w, "lengths", TCT_I32, 1, dims, lengths, NULL, 0);
    free(ids);
    if (rc) tct_writer_abort(w);
    else rc = tct_writer_close(w);
    return fclose(f) || rc ? -1 : 0;
}

static inline int fixture_write_labels(const char *path, const tc_labels *l) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    tct_writer *w;
    if (tct_writer_open(&w, f, path, NULL, 0, NULL)) {
        fclose(f);
        return -1;
    }
    int rc = tc_labels_write(l, w);
    if (rc) tct_writer_abort(w);
    else rc = tct_writer_close(w);
    return fclose(f) || rc ? -1 : 0;
}

#endif
