#include "common/refine_io.h"
#include "common/error.h"
#include "common/io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int tc_embedding_stream_open(tc_embedding_stream *s, const char *path) {
    memset(s, 0, sizeof *s);
    s->path = path && strcmp(path, "-") ? path : "(stdin)";
    if (!(s->f = tc_input_open(path))) return -1;
    const char *names[2] = {"doc_ids", "embeddings"};
    if (tct_reader_open(&s->reader, s->f, s->path) || tct_table_open(&s->table, s->reader, names, 2)) {
        tc_embedding_stream_close(s);
        return -1;
    }
    return 0;
}

// The columns are known once their first records are read: checked then.
static int check_columns(tc_embedding_stream *s, const tct_column *cols) {
    const tct_tensor_info *ids = cols[0].tensor, *e = cols[1].tensor;
    if (ids->dtype != TCT_STR || ids->rank != 1) return tc_fail("%s: doc_ids must be a str[N] tensor", s->path);
    if (e->rank != 2 || (e->dtype != TCT_F32 && e->dtype != TCT_F16 && e->dtype != TCT_BF16) || e->dims[1] == 0 ||
        e->dims[1] > (1u << 20))
        return tc_fail("%s: embeddings must be f32, f16 or bf16 [N,D], not %s of rank %d", s->path,
                       tct_dtype_name(e->dtype), e->rank);
    s->d = (int)e->dims[1];
    return 0;
}

// Returns 0, or 1 + the index of the first value that is not finite.
static int64_t to_f32(tct_dtype dtype, const void *data, size_t count, float *out) {
    if (dtype == TCT_F32) memcpy(out, data, count * sizeof *out);
    for (size_t i = 0; i < count; i++) {
        if (dtype == TCT_F16) out[i] = tct_f16_to_f32(((const uint16_t *)data)[i]);
        else if (dtype == TCT_BF16) out[i] = tct_bf16_to_f32(((const uint16_t *)data)[i]);
        if (!isfinite(out[i])) return (int64_t)i + 1;
    }
    return 0;
}

int64_t tc_embedding_stream_next(tc_embedding_stream *s, uint64_t max_rows, char *const **ids, const float **x) {
    tct_column cols[2];
    int64_t n = tct_table_next(s->table, max_rows, cols);
    if (n < 0) return strstr(tc_error(), s->path) ? -1 : tc_fail_context("%s", s->path);
    if (n == 0) return 0;
    if (s->d == 0 && check_columns(s, cols)) return -1;
    size_t count = (size_t)n * (size_t)s->d;
    if (count > s->cap) {
        float *p = tc_realloc(s->x, count * sizeof *p);
        if (!p) return -1;
        s->x = p, s->cap = count;
    }
    int64_t bad = to_f32(cols[1].tensor->dtype, cols[1].data, count, s->x);
    if (bad)
        return tc_fail("%s: embeddings row %llu holds a value that is not a finite number", s->path,
                       (unsigned long long)(s->row + (uint64_t)(bad - 1) / (uint64_t)s->d));
    if ((size_t)n > s->ids_cap) {
        char **p = tc_realloc(s->ids, (size_t)n * sizeof *p);
        if (!p) return -1;
        for (size_t i = s->ids_cap; i < (size_t)n; i++) p[i] = NULL;
        s->ids = p, s->ids_cap = (size_t)n;
    }
    for (int64_t i = 0; i < n; i++) {
        free(s->ids[i]);
        if (!(s->ids[i] = strdup(cols[0].strings[i]))) return tc_fail("out of memory");
    }
    s->row += (uint64_t)n;
    *ids = s->ids;
    *x = s->x;
    return n;
}

void tc_embedding_stream_close(tc_embedding_stream *s) {
    if (s->table) tct_table_close(s->table);
    if (s->reader) tct_reader_close(s->reader);
    tc_input_close(s->f);
    for (size_t i = 0; i < s->ids_cap; i++) free(s->ids[i]);
    free(s->ids);
    free(s->x);
    memset(s, 0, sizeof *s);
}

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
            int64_t nonfinite = bad ? 0 : to_f32(e->dtype, e->data, (size_t)t->m * (size_t)t->d, flat);
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
    long n = tc_read_line(r->f, &r->line, &r->cap);
    if (n == -2) return tc_fail_context("%s", r->path);
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
