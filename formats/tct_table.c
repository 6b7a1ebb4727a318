// Aligned row batches over several tensors of a stream (tct_table), and whole
// streams in memory (tct_bundle).
#include "formats/tct.h"
#include "common/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    tct_tensor_info *tensor;     // NULL until its begin record is read
    unsigned char *data;         // numeric rows queued, from `start`
    size_t start, len, cap;      // bytes
    char *text;                  // string column: NUL-terminated strings back to back
    size_t text_start, text_len, text_cap;
    uint32_t *lengths;           // queued string lengths
    size_t lengths_start, lengths_len, lengths_cap;
    uint64_t rows_queued;
    const char **batch_strings;  // pointers handed out by the last batch
    size_t batch_cap;
} column_queue;

struct tct_table {
    tct_reader *reader;
    size_t n;
    column_queue *columns;
    uint64_t last_rows;          // rows handed out by the last call, dropped on the next
    int finished;
};

int tct_table_open(tct_table **table, tct_reader *reader, const char *const *names, size_t n_names) {
    *table = NULL;
    tct_table *t = tc_calloc(1, sizeof *t);
    if (!t) return -1;
    t->columns = tc_calloc(n_names, sizeof *t->columns);
    if (!t->columns) {
        free(t);
        return -1;
    }
    t->reader = reader;
    t->n = n_names;
    for (size_t i = 0; i < n_names; i++) {
        t->columns[i].name = names[i];
        // Tensors may have begun already (read by the caller).
        for (size_t k = 0; k < tct_reader_tensor_count(reader); k++)
            if (!strcmp(tct_reader_tensor(reader, k)->name, names[i]))
                t->columns[i].tensor = tct_reader_tensor(reader, k);
    }
    *table = t;
    return 0;
}

// Allocates even for need 0: a column of zero-width rows ([N,0]) then has a
// valid (empty) buffer to hand out, never NULL.
static int grow(void *pp, size_t *cap, size_t need, size_t item) {
    if (need <= *cap && *(void **)pp) return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    void *q = tc_realloc(*(void **)pp, c * item);
    if (!q) return -1;
    *(void **)pp = q;
    *cap = c;
    return 0;
}

// Drops the rows handed out last time, compacting queues that have drained a lot.
static void drop_rows(column_queue *c, uint64_t rows) {
    if (!rows) return;
    c->rows_queued -= rows;
    if (c->tensor->dtype != TCT_STR) {
        c->start += (size_t)(rows * c->tensor->row_elements * tct_dtype_size(c->tensor->dtype));
        if (c->start > c->len / 2) {
            memmove(c->data, c->data + c->start, c->len - c->start);
            c->len -= c->start;
            c->start = 0;
        }
        return;
    }
    size_t count = (size_t)(rows * c->tensor->row_elements);
    for (size_t i = 0; i < count; i++) c->text_start += c->lengths[c->lengths_start + i] + 1;
    c->lengths_start += count;
    if (c->lengths_start > c->lengths_len / 2) {
        memmove(c->lengths, c->lengths + c->lengths_start, (c->lengths_len - c->lengths_start) * sizeof *c->lengths);
        c->lengths_len -= c->lengths_start;
        c->lengths_start = 0;
        memmove(c->text, c->text + c->text_start, c->text_len - c->text_start);
        c->text_len -= c->text_start;
        c->text_start = 0;
    }
}

static int queue_chunk(column_queue *c, const tct_event *ev) {
    if (c->tensor->dtype != TCT_STR) {
        if (grow(&c->data, &c->cap, c->len + ev->data_bytes, 1)) return -1;
        memcpy(c->data + c->len, ev->data, ev->data_bytes);
        c->len += ev->data_bytes;
    } else {
        size_t count = (size_t)(ev->rows * c->tensor->row_elements), bytes = 0;
        for (size_t i = 0; i < count; i++) bytes += ev->string_lengths[i] + 1;
        if (grow(&c->lengths, &c->lengths_cap, c->lengths_len + count, sizeof *c->lengths)) return -1;
        if (grow(&c->text, &c->text_cap, c->text_len + bytes, 1)) return -1;
        const char *src = ev->string_bytes;
        for (size_t i = 0; i < count; i++) {
            uint32_t len = ev->string_lengths[i];
            memcpy(c->text + c->text_len, src, len);
            c->text[c->text_len + len] = 0;
            c->text_len += len + 1;
            c->lengths[c->lengths_len++] = len;
            src += len;
        }
    }
    c->rows_queued += ev->rows;
    return 0;
}

static int fill_batch_strings(column_queue *c, uint64_t rows) {
    size_t count = (size_t)(rows * c->tensor->row_elements);
    if (grow(&c->batch_strings, &c->batch_cap, count, sizeof *c->batch_strings)) return -1;
    size_t at = c->text_start;
    for (size_t i = 0; i < count; i++) {
        c->batch_strings[i] = c->text + at;
        at += c->lengths[c->lengths_start + i] + 1;
    }
    return 0;
}

// Reads one more event into the queues; 1 if the stream goes on, 0 at its end.
static int pump(tct_table *t) {
    tct_event ev;
    int rc = tct_reader_next(t->reader, &ev);
    if (rc < 0) return -1;
    if (rc == 0 || ev.kind == TCT_EVENT_FINISH) {
        t->finished = 1;
        return 0;
    }
    for (size_t i = 0; i < t->n; i++) {
        column_queue *c = &t->columns[i];
        if (ev.kind == TCT_EVENT_BEGIN && !strcmp(ev.tensor->name, c->name)) c->tensor = ev.tensor;
        if (ev.kind == TCT_EVENT_CHUNK && ev.tensor == c->tensor && queue_chunk(c, &ev)) return -1;
    }
    return 1;
}

// Reads the rest of the stream once the wanted tensors have ended: the
// reader checks its end record and that nothing follows, so a stream cut
// short or two streams concatenated do not pass as a complete one.
static int read_to_end(tct_table *t) {
    while (!t->finished)
        if (pump(t) < 0) return -1;
    return 0;
}

int64_t tct_table_next(tct_table *t, uint64_t max_rows, tct_column *out) {
    const char *where = tct_reader_where(t->reader);
    if (max_rows == 0) return tc_fail("tct_table_next: max_rows is 0");
    for (size_t i = 0; i < t->n; i++)
        if (t->columns[i].tensor) drop_rows(&t->columns[i], t->last_rows);
    t->last_rows = 0;
    for (;;) {
        uint64_t ready = UINT64_MAX;
        int all_ended = 1;
        for (size_t i = 0; i < t->n; i++) {
            column_queue *c = &t->columns[i];
            if (!c->tensor) {
                ready = 0;
                all_ended = 0;
                continue;
            }
            if (c->rows_queued < ready) ready = c->rows_queued;
            if (!c->tensor->ended) all_ended = 0;
        }
        if (t->n == 0) return 0;
        if (ready >= max_rows || (all_ended && ready > 0)) break;
        if (all_ended) {
            for (size_t i = 0; i < t->n; i++)
                if (t->columns[i].rows_queued)
                    return tc_fail("%s: tensors '%s' and '%s' have different row counts", where, t->columns[0].name,
                                   t->columns[i].name);
            return read_to_end(t);
        }
        int rc = t->finished ? 0 : pump(t);
        if (rc < 0) return -1;
        if (rc == 0) {
            for (size_t i = 0; i < t->n; i++)
                if (!t->columns[i].tensor) return tc_fail("%s: no tensor '%s'", where, t->columns[i].name);
            return tc_fail("%s: the stream ended inside tensor '%s'", where, t->columns[0].name);
        }
    }
    uint64_t rows = UINT64_MAX;
    for (size_t i = 0; i < t->n; i++)
        if (t->columns[i].rows_queued < rows) rows = t->columns[i].rows_queued;
    if (rows > max_rows) rows = max_rows;
    for (size_t i = 0; i < t->n; i++) {
        column_queue *c = &t->columns[i];
        memset(&out[i], 0, sizeof out[i]);
        out[i].tensor = c->tensor;
        if (c->tensor->dtype == TCT_STR) {
            if (fill_batch_strings(c, rows)) return -1;
            out[i].strings = c->batch_strings;
            out[i].string_lengths = c->lengths + c->lengths_start;
        } else {
            out[i].data = c->data + c->start;
        }
    }
    t->last_rows = rows;
    return (int64_t)rows;
}

const tct_tensor_info *tct_table_column(const tct_table *t, size_t index) {
    return index < t->n ? t->columns[index].tensor : NULL;
}

void tct_table_close(tct_table *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->columns[i].data);
        free(t->columns[i].text);
        free(t->columns[i].lengths);
        free(t->columns[i].batch_strings);
    }
    free(t->columns);
    free(t);
}

// ---------------------------------------------------------------- bundle

static int copy_attrs(tct_attr **out, const tct_attr *in, size_t n) {
    *out = tc_calloc(n ? n : 1, sizeof **out);
    if (!*out) return -1;
    for (size_t i = 0; i < n; i++) {
        (*out)[i].key = strdup(in[i].key);
        (*out)[i].value = strdup(in[i].value);
        if (!(*out)[i].key || !(*out)[i].value) return tc_fail("out of memory");
    }
    return 0;
}

static int bundle_chunk(tct_bundle_tensor *b, const tct_event *ev, uint64_t *have) {
    uint64_t count = ev->rows * ev->tensor->row_elements;
    if (b->dtype == TCT_STR) {
        char **strings = tc_realloc(b->data, (size_t)(*have + count + 1) * sizeof *strings);
        if (!strings) return -1;
        b->data = strings;
        const char *src = ev->string_bytes;
        for (uint64_t i = 0; i < count; i++) {
            uint32_t len = ev->string_lengths[i];
            char *s = tc_malloc((size_t)len + 1);
            if (!s) return -1;
            memcpy(s, src, len);
            s[len] = 0;
            strings[*have + i] = s;
            b->count = *have + i + 1;  // what tct_bundle_free releases after an error
            src += len;
        }
    } else {
        size_t size = tct_dtype_size(b->dtype);
        unsigned char *p = tc_realloc(b->data, (size_t)((*have + count) * size));
        if (!p) return -1;
        b->data = p;
        memcpy(p + *have * size, ev->data, ev->data_bytes);
    }
    *have += count;
    b->count = *have;
    return 0;
}

int tct_bundle_read(tct_bundle *bundle, FILE *f, const char *where) {
    memset(bundle, 0, sizeof *bundle);
    tct_reader *r;
    if (tct_reader_open(&r, f, where)) return -1;
    size_t n_prov;
    const tct_attr *prov = tct_reader_provenance(r, &n_prov);
    int rc = copy_attrs(&bundle->provenance, prov, n_prov);
    bundle->n_provenance = n_prov;
    uint64_t *have = NULL;
    tct_event ev;
    while (rc == 0 && (rc = tct_reader_next(r, &ev)) == 1) {
        rc = 0;
        if (ev.kind == TCT_EVENT_BEGIN) {
            size_t n = bundle->n_tensors + 1;
            tct_bundle_tensor *t = tc_realloc(bundle->tensors, n * sizeof *t);
            uint64_t *h = tc_realloc(have, n * sizeof *h);
            if (!t || !h) {
                if (t) bundle->tensors = t;
                if (h) have = h;
                rc = -1;
                break;
            }
            bundle->tensors = t;
            have = h;
            tct_bundle_tensor *b = &t[n - 1];
            memset(b, 0, sizeof *b);
            have[n - 1] = 0;
            bundle->n_tensors = n;
            b->name = strdup(ev.tensor->name);
            b->dtype = ev.tensor->dtype;
            b->rank = ev.tensor->rank;
            b->n_attrs = ev.tensor->n_attrs;
            rc = b->name ? copy_attrs(&b->attrs, ev.tensor->attrs, ev.tensor->n_attrs) : tc_fail("out of memory");
        } else if (ev.kind == TCT_EVENT_CHUNK) {
            rc = bundle_chunk(&bundle->tensors[ev.tensor->id], &ev, &have[ev.tensor->id]);
        } else if (ev.kind == TCT_EVENT_END) {
            tct_bundle_tensor *b = &bundle->tensors[ev.tensor->id];
            memcpy(b->dims, ev.tensor->dims, sizeof b->dims);
            b->count = have[ev.tensor->id];
        }
    }
    free(have);
    tct_reader_close(r);
    if (rc < 0) {
        tct_bundle_free(bundle);
        return -1;
    }
    return 0;
}

int tct_bundle_load(tct_bundle *bundle, const char *path) {
    int use_stdin = !strcmp(path, "-");
    FILE *f = use_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        memset(bundle, 0, sizeof *bundle);
        return tc_fail("%s: cannot open: %s", path, strerror(errno));
    }
    int rc = tct_bundle_read(bundle, f, path);
    if (!use_stdin) fclose(f);
    return rc;
}

const tct_bundle_tensor *tct_bundle_find(const tct_bundle *bundle, const char *name) {
    for (size_t i = 0; i < bundle->n_tensors; i++)
        if (!strcmp(bundle->tensors[i].name, name)) return &bundle->tensors[i];
    return NULL;
}

const tct_bundle_tensor *tct_bundle_expect(const tct_bundle *bundle, const char *where, const char *name,
                                           tct_dtype dtype, int rank) {
    const tct_bundle_tensor *t = tct_bundle_find(bundle, name);
    if (!t) tc_fail("%s: no tensor '%s'", where, name);
    else if (t->dtype != dtype || t->rank != rank) {
        tc_fail("%s: tensor '%s' is %s of rank %d, expected %s of rank %d", where, name,
                tct_dtype_name(t->dtype), t->rank, tct_dtype_name(dtype), rank);
        t = NULL;
    }
    return t;
}

void tct_bundle_free(tct_bundle *bundle) {
    for (size_t i = 0; i < bundle->n_tensors; i++) {
        tct_bundle_tensor *t = &bundle->tensors[i];
        if (t->dtype == TCT_STR && t->data)
            for (uint64_t k = 0; k < t->count; k++) free(((char **)t->data)[k]);
        free(t->data);
        free(t->name);
        for (size_t k = 0; k < t->n_attrs && t->attrs; k++) {
            free((char *)t->attrs[k].key);
            free((char *)t->attrs[k].value);
        }
        free(t->attrs);
    }
    free(bundle->tensors);
    for (size_t k = 0; k < bundle->n_provenance && bundle->provenance; k++) {
        free((char *)bundle->provenance[k].key);
        free((char *)bundle->provenance[k].value);
    }
    free(bundle->provenance);
    memset(bundle, 0, sizeof *bundle);
}
