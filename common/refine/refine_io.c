#include "common/refine/refine_io.h"
#include "common/error.h"
#include "common/cli/io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------- class term embeddings

int tc_class_targets_load(tc_class_targets *t, const char *path, const tc_taxonomy *taxonomy) {
    memset(t, 0, sizeof *t);
    tct_bundle b;
    if (tct_bundle_load(&b, path)) return -1;
    const tct_bundle_tensor *cls = tct_bundle_find(&b, "class_of_row");
    if (!cls) cls = tct_bundle_find(&b, "term_class");
    const tct_bundle_tensor *e = tct_bundle_find(&b, "embeddings");
    int rc = -1;
    if (!cls || cls->dtype != TCT_I32 || cls->rank != 1) {
        tc_fail("%s: needs class_of_row i32[M] (the class of each embedded name or term)", path);
    } else if (!e || e->rank != 2 || (e->dtype != TCT_F32 && e->dtype != TCT_F16 && e->dtype != TCT_BF16)) {
        tc_fail("%s: needs embeddings f32[M,D]", path);
    } else if (e->dims[0] != cls->dims[0]) {
        tc_fail("%s: %llu embeddings but %llu class_of_row entries", path, (unsigned long long)e->dims[0],
                (unsigned long long)cls->dims[0]);
    } else {
        const int32_t *of = cls->data;
        int C = taxonomy->n_classes;
        t->n_classes = C, t->m = (int64_t)e->dims[0], t->d = (int)e->dims[1];
        t->offsets = tc_calloc((size_t)C + 1, sizeof *t->offsets);
        t->rows = tc_malloc_array((size_t)t->m * (size_t)t->d + 1, sizeof(float));
        float *flat = tc_malloc_array((size_t)t->m * (size_t)t->d + 1, sizeof(float));
        int32_t *fill = tc_calloc((size_t)C + 1, sizeof *fill);
        int bad = 0;
        if (t->offsets && t->rows && flat && fill) {
            for (int64_t r = 0; r < t->m && !bad; r++)
                if (of[r] < 0 || of[r] >= C) bad = 1, tc_fail("%s: class_of_row[%lld] = %d is not a class (0..%d)", path, (long long)r, of[r], C - 1);
            int64_t nonfinite = bad ? 0 : tc_embeddings_to_f32(e->dtype, e->data, (size_t)t->m * (size_t)t->d, flat);
            if (nonfinite)
                bad = 1, tc_fail("%s: embeddings row %lld is not finite", path, (long long)((nonfinite - 1) / t->d));
            for (int64_t r = 0; r < t->m && !bad; r++) t->offsets[of[r] + 1]++;
            for (int c = 0; c < C && !bad; c++) {
                if (t->offsets[c + 1] == 0) bad = 1, tc_fail("%s: class %d (%s) has no embedded name or term", path, c, taxonomy->names[c]);
                t->offsets[c + 1] += t->offsets[c];
            }
            for (int64_t r = 0; r < t->m && !bad; r++) {
                int32_t at = t->offsets[of[r]] + fill[of[r]]++;
                memcpy(t->rows + (size_t)at * t->d, flat + (size_t)r * t->d, (size_t)t->d * sizeof(float));
            }
            rc = bad ? -1 : 0;
        }
        free(flat), free(fill);
    }
    tct_bundle_free(&b);
    if (rc) tc_class_targets_free(t);
    return rc;
}

void tc_class_targets_free(tc_class_targets *t) {
    free(t->rows), free(t->offsets);
    memset(t, 0, sizeof *t);
}

// ---------------------------------------------------------------- corpus

int tc_corpus_open(tc_corpus_reader *r, const char *path) {
    memset(r, 0, sizeof *r);
    r->path = path;
    r->f = tc_input_open(path);
    return r->f ? 0 : -1;
}

int tc_corpus_next(tc_corpus_reader *r, const char *expected_id, const char **id, const char **text) {
    int cut;  // the document's first TC_LINE_MAX bytes, as tc-tokenize keeps them
    long n = tc_read_document_line(r->f, &r->line, &r->cap, &cut);
    if (n == -2) return tc_fail_context("%s: line %llu", r->path, (unsigned long long)r->line_no + 1);
    if (n == -1) {
        if (expected_id) return tc_fail("%s: ends after %llu lines, before document '%s'", r->path, (unsigned long long)r->line_no, expected_id);
        return 1;
    }
    r->line_no++;
    char *tab = strchr(r->line, '\t');
    if (!tab) return tc_fail("%s: line %llu: expected id<TAB>text", r->path, (unsigned long long)r->line_no);
    *tab = 0;
    if (expected_id && strcmp(r->line, expected_id))
        return tc_fail("%s: line %llu holds document '%s' where the embeddings have '%s' (the corpus and the "
                       "embeddings must list the same documents in the same order)",
                       r->path, (unsigned long long)r->line_no, r->line, expected_id);
    if (id) *id = r->line;
    *text = tab + 1;
    return 0;
}

void tc_corpus_close(tc_corpus_reader *r) {
    tc_input_close(r->f);
    free(r->line);
    memset(r, 0, sizeof *r);
}
