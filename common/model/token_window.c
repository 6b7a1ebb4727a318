#include "common/model/token_window.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

static int grow(void **p, size_t *cap, size_t need, size_t item) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 4096;
    while (c < need) c *= 2;
    void *q = tc_realloc(*p, c * item);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

int tc_token_window_alloc(tc_token_window *w, size_t capacity) {
    memset(w, 0, sizeof *w);
    w->capacity = capacity;
    w->id_at = tc_malloc_array(capacity ? capacity : 1, sizeof *w->id_at);
    w->lengths = tc_malloc_array(capacity ? capacity : 1, sizeof *w->lengths);
    w->rows = tc_malloc_array(capacity ? capacity : 1, sizeof *w->rows);
    return w->id_at && w->lengths && w->rows ? 0 : -1;
}

void tc_token_window_free(tc_token_window *w) {
    free(w->id_text), free(w->id_at), free(w->ids), free(w->lengths), free(w->rows);
    memset(w, 0, sizeof *w);
}

int tc_token_source_open(tc_token_source *s, tct_reader *reader, const tc_bert_model *model, const char *where,
                         int max_len, int truncate) {
    static const char *columns[3] = {"doc_ids", "input_ids", "lengths"};
    memset(s, 0, sizeof *s);
    s->reader = reader;
    s->model = model;
    s->where = where;
    s->max_len = max_len > 0 && max_len < tc_bert_max_len(&model->cfg) ? max_len : tc_bert_max_len(&model->cfg);
    s->truncate = truncate;
    return tct_table_open(&s->table, reader, columns, 3);
}

void tc_token_source_close(tc_token_source *s) {
    tct_table_close(s->table);
    s->table = NULL;
}

// Checks the three columns once their begin records are known.
static int check_columns(tc_token_source *s) {
    const tct_tensor_info *doc = tct_table_column(s->table, 0), *ids = tct_table_column(s->table, 1),
                          *len = tct_table_column(s->table, 2);
    const char *where = s->where;
    if (doc->dtype != TCT_STR || doc->rank != 1)
        return tc_fail("%s: doc_ids must be str[N], not %s of rank %d", where, tct_dtype_name(doc->dtype), doc->rank);
    if (ids->dtype != TCT_I32 || ids->rank != 2 || ids->dims[1] < 1)
        return tc_fail("%s: input_ids must be i32[N,L], not %s of rank %d", where, tct_dtype_name(ids->dtype), ids->rank);
    if (len->dtype != TCT_I32 || len->rank != 1)
        return tc_fail("%s: lengths must be i32[N], not %s of rank %d", where, tct_dtype_name(len->dtype), len->rank);
    s->width = (int)(ids->dims[1] < (uint64_t)s->max_len ? ids->dims[1] : (uint64_t)s->max_len);
    if (ids->dims[0] != TCT_ROWS_UNKNOWN) s->total = ids->dims[0];
    return tc_bert_check_tokens(s->model, where, ids->attrs, ids->n_attrs);
}

// Copies one row, checking its length and ids; `row` counts from the file's start.
static int add_row(tc_token_source *s, tc_token_window *w, const tct_column *cols, size_t k, uint64_t row) {
    const tc_bert_model *m = s->model;
    const char *where = s->where, *id = cols[0].strings[k];
    int32_t len = ((const int32_t *)cols[2].data)[k];
    uint64_t width = cols[1].tensor->dims[1];
    const int32_t *ids = (const int32_t *)cols[1].data + k * width;
    if (len < 1 || (uint64_t)len > width)
        return tc_fail("%s: row %llu ('%s'): length %d outside 1..%llu", where, (unsigned long long)row, id, len,
                       (unsigned long long)width);
    if (len > s->max_len && !s->truncate)
        return tc_fail("%s: row %llu ('%s'): %d tokens; the model takes at most %d (tokenize with --max-len %d)", where,
                       (unsigned long long)row, id, len, s->max_len, s->max_len);
    for (int t = 0; t < len; t++)
        if (ids[t] < 0 || ids[t] >= m->cfg.vocab_size)
            return tc_fail("%s: row %llu ('%s'): token %d is id %d, outside the vocabulary of %d", where,
                           (unsigned long long)row, id, t, ids[t], m->cfg.vocab_size);
    int keep = len > s->max_len ? s->max_len : len;
    size_t id_len = strlen(id) + 1;
    if (grow((void **)&w->id_text, &w->id_cap, w->id_len + id_len, 1) ||
        grow((void **)&w->ids, &w->ids_cap, w->ids_len + (size_t)keep, sizeof *w->ids))
        return -1;
    memcpy(w->id_text + w->id_len, id, id_len);
    w->id_at[w->n] = w->id_len;
    w->id_len += id_len;
    memcpy(w->ids + w->ids_len, ids, (size_t)keep * sizeof *ids);
    if (keep < len) w->ids[w->ids_len + (size_t)keep - 1] = ids[len - 1];  // the final [SEP] stays
    w->lengths[w->n] = keep;
    w->ids_len += (size_t)keep;
    w->n++;
    return 0;
}

int tc_token_source_read(tc_token_source *s, tc_token_window *w) {
    w->n = w->id_len = w->ids_len = 0;
    while (w->n < w->capacity) {
        tct_column cols[3];
        int64_t got = tct_table_next(s->table, (uint64_t)(w->capacity - w->n), cols);
        if (got < 0) return tc_fail_context("%s", s->where);
        if (got == 0) break;
        if (s->width == 0 && check_columns(s)) return -1;
        for (int64_t k = 0; k < got; k++)
            if (add_row(s, w, cols, (size_t)k, s->done + w->n)) return -1;
    }
    for (size_t i = 0, at = 0; i < w->n; at += (size_t)w->lengths[i], i++) w->rows[i] = w->ids + at;
    s->done += w->n;
    return 0;
}
