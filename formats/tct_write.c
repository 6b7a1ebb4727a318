// Streaming writer of the tensor stream. Each record goes out as one zstd
// frame with its content size and checksum; chunk data is fed to zstd in
// place, never copied into the record.
#include "formats/tct.h"
#include "formats/tct_record.h"
#include "common/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

typedef struct {
    char *name;
    tct_dtype dtype;
    int rank;
    uint64_t dims[TCT_MAX_RANK];
    uint64_t row_elements;
    size_t row_bytes;           // numeric only
    int ended;
    unsigned char *buffer;      // buffered numeric rows, or string bytes
    size_t buffer_len, buffer_cap;
    uint32_t *lengths;          // string lengths of the buffered strings
    size_t n_lengths, lengths_cap;
    uint64_t buffered_rows;
    uint64_t total_rows, total_bytes, n_chunks;
} open_tensor;

struct tct_writer {
    FILE *f;
    char *where;
    ZSTD_CCtx *cctx;
    size_t chunk_bytes;
    open_tensor *tensors;
    size_t n_tensors, cap_tensors;
    int failed;
    char failure[256];          // why, repeated by every later call
    unsigned char *header;      // record header assembly
    size_t header_cap;
    unsigned char *out;         // compressed output buffer
    size_t out_cap;
};

static int writer_fail(tct_writer *w, const char *what) {
    w->failed = 1;
    snprintf(w->failure, sizeof w->failure, "%s", what);
    return tc_fail("%s: %s", w->where, what);
}

static int write_out(tct_writer *w, const void *p, size_t n) {
    errno = 0;
    if (n && fwrite(p, 1, n, w->f) != n) {
        char what[256];
        snprintf(what, sizeof what, "write failed: %s", errno ? strerror(errno) : "short write");
        return writer_fail(w, what);
    }
    return 0;
}

// Feeds one piece of a record to the frame being compressed.
static int compress_piece(tct_writer *w, const void *p, size_t n, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in = {p, n, 0};
    for (;;) {
        ZSTD_outBuffer out = {w->out, w->out_cap, 0};
        size_t left = ZSTD_compressStream2(w->cctx, &out, &in, mode);
        if (ZSTD_isError(left)) {
            char what[256];
            snprintf(what, sizeof what, "zstd: %s", ZSTD_getErrorName(left));
            return writer_fail(w, what);
        }
        if (write_out(w, w->out, out.pos)) return -1;
        if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) return 0;
    }
}

// Writes one record as one frame: header (header_size bytes, already padded),
// then data, then zero padding of the data to 64 bytes.
static int write_record(tct_writer *w, const unsigned char *header, size_t header_size,
                        const void *data, size_t data_size, const void *data2, size_t data2_size) {
    static const unsigned char zeros[TCT_RECORD_ALIGN];
    if (w->failed) return tc_fail("%s: %s", w->where, w->failure);
    size_t data_total = data_size + data2_size;
    size_t pad = (size_t)(tct_pad64(data_total) - data_total);
    size_t total = header_size + data_total + pad;
    ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only);
    ZSTD_CCtx_setPledgedSrcSize(w->cctx, total);
    if (compress_piece(w, header, header_size, ZSTD_e_continue)) return -1;
    if (data_size && compress_piece(w, data, data_size, ZSTD_e_continue)) return -1;
    if (data2_size && compress_piece(w, data2, data2_size, ZSTD_e_continue)) return -1;
    return compress_piece(w, zeros, pad, ZSTD_e_end);
}

// Makes room for a record header of `size` bytes, zeroed.
static unsigned char *header_buffer(tct_writer *w, size_t size) {
    size = (size_t)tct_pad64(size);
    if (size > w->header_cap) {
        unsigned char *p = tc_realloc(w->header, size);
        if (!p) return NULL;
        w->header = p;
        w->header_cap = size;
    }
    memset(w->header, 0, size);
    return w->header;
}

static size_t attrs_size(const tct_attr *attrs, size_t n) {
    size_t size = 0;
    for (size_t i = 0; i < n; i++) size += 8 + strlen(attrs[i].key) + strlen(attrs[i].value);
    return size;
}

static unsigned char *put_attrs(unsigned char *p, const tct_attr *attrs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t klen = (uint32_t)strlen(attrs[i].key), vlen = (uint32_t)strlen(attrs[i].value);
        tct_put_u32(p, klen);
        memcpy(p + 4, attrs[i].key, klen);
        p += 4 + klen;
        tct_put_u32(p, vlen);
        memcpy(p + 4, attrs[i].value, vlen);
        p += 4 + vlen;
    }
    return p;
}

static int check_attrs(tct_writer *w, const tct_attr *attrs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (!attrs[i].key || !attrs[i].value || !attrs[i].key[0])
            return tc_fail("%s: attribute %zu has an empty key or no value", w->where, i);
        if (!tct_utf8_valid(attrs[i].key, strlen(attrs[i].key)) ||
            !tct_utf8_valid(attrs[i].value, strlen(attrs[i].value)))
            return tc_fail("%s: attribute '%s' is not valid UTF-8", w->where, attrs[i].key);
    }
    return 0;
}

int tct_writer_open(tct_writer **writer, FILE *f, const char *where, const tct_attr *provenance,
                    size_t n_provenance, const tct_writer_options *options) {
    *writer = NULL;
    tct_writer *w = tc_calloc(1, sizeof *w);
    if (!w) return -1;
    w->f = f;
    tct_enlarge_pipe(f);
    w->where = strdup(where ? where : "-");
    w->cctx = ZSTD_createCCtx();
    w->out_cap = ZSTD_CStreamOutSize();
    w->out = malloc(w->out_cap);
    int level = options && options->level ? options->level : TCT_DEFAULT_LEVEL;
    w->chunk_bytes = options && options->chunk_bytes ? options->chunk_bytes : TCT_DEFAULT_CHUNK_BYTES;
    if (!w->where || !w->cctx || !w->out) {
        tct_writer_abort(w);
        return tc_fail("out of memory starting a tensor stream");
    }
    if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
        int rc = tc_fail("%s: compression level %d is outside zstd's %d..%d", w->where, level,
                         ZSTD_minCLevel(), ZSTD_maxCLevel());
        tct_writer_abort(w);
        return rc;
    }
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1);
    if (check_attrs(w, provenance, n_provenance)) {
        tct_writer_abort(w);
        return -1;
    }
    size_t size = TCT_FIXED_HEADER + attrs_size(provenance, n_provenance);
    unsigned char *h = header_buffer(w, size);
    if (!h) {
        tct_writer_abort(w);
        return -1;
    }
    memcpy(h + TCT_OFF_TAG, TCT_TAG_FILE, 4);
    tct_put_u32(h + TCT_OFF_HEADER_SIZE, (uint32_t)tct_pad64(size));
    tct_put_u32(h + 16, TCT_VERSION_MAJOR);
    tct_put_u32(h + 20, TCT_VERSION_MINOR);
    tct_put_u32(h + 24, (uint32_t)n_provenance);
    put_attrs(h + TCT_FIXED_HEADER, provenance, n_provenance);
    if (write_record(w, h, (size_t)tct_pad64(size), NULL, 0, NULL, 0)) {
        tct_writer_abort(w);
        return -1;
    }
    *writer = w;
    return 0;
}

int tct_writer_begin(tct_writer *w, const char *name, tct_dtype dtype, int rank,
                     const uint64_t *dims, const tct_attr *attrs, size_t n_attrs) {
    if (!name || !name[0] || !tct_utf8_valid(name, strlen(name)))
        return tc_fail("%s: a tensor needs a non-empty UTF-8 name", w->where);
    if (!strcmp(tct_dtype_name(dtype), "?"))
        return tc_fail("%s: tensor '%s': unknown dtype %d", w->where, name, (int)dtype);
    if (rank < 0 || rank > TCT_MAX_RANK)
        return tc_fail("%s: tensor '%s': rank %d is outside 0..%d", w->where, name, rank, TCT_MAX_RANK);
    for (size_t i = 0; i < w->n_tensors; i++)
        if (!strcmp(w->tensors[i].name, name))
            return tc_fail("%s: tensor '%s' written twice", w->where, name);
    if (check_attrs(w, attrs, n_attrs)) return -1;
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? 2 * w->cap_tensors : 8;
        open_tensor *t = tc_realloc(w->tensors, cap * sizeof *t);
        if (!t) return -1;
        w->tensors = t;
        w->cap_tensors = cap;
    }
    open_tensor *t = &w->tensors[w->n_tensors];
    memset(t, 0, sizeof *t);
    t->dtype = dtype;
    t->rank = rank;
    t->row_elements = 1;
    for (int i = 0; i < rank; i++) {
        t->dims[i] = dims[i];
        if (i > 0) {
            if (dims[i] == TCT_ROWS_UNKNOWN)
                return tc_fail("%s: tensor '%s': only the first dimension may be unknown", w->where, name);
            if (dims[i] && t->row_elements > UINT64_MAX / 2 / dims[i])
                return tc_fail("%s: tensor '%s': shape overflows", w->where, name);
            t->row_elements *= dims[i];
        }
    }
    t->row_bytes = (size_t)(t->row_elements * tct_dtype_size(dtype));
    t->name = strdup(name);
    if (!t->name) return tc_fail("out of memory");

    size_t name_len = strlen(name);
    size_t size = TCT_FIXED_HEADER + 8 * (size_t)rank + name_len + attrs_size(attrs, n_attrs);
    unsigned char *h = header_buffer(w, size);
    if (!h) return -1;
    memcpy(h + TCT_OFF_TAG, TCT_TAG_BEGIN, 4);
    tct_put_u32(h + TCT_OFF_HEADER_SIZE, (uint32_t)tct_pad64(size));
    tct_put_u32(h + 16, (uint32_t)w->n_tensors);
    h[20] = (unsigned char)dtype;
    h[21] = (unsigned char)rank;
    tct_put_u32(h + 24, (uint32_t)name_len);
    tct_put_u32(h + 28, (uint32_t)n_attrs);
    unsigned char *p = h + TCT_FIXED_HEADER;
    for (int i = 0; i < rank; i++, p += 8) tct_put_u64(p, dims[i]);
    memcpy(p, name, name_len);
    put_attrs(p + name_len, attrs, n_attrs);
    if (write_record(w, h, (size_t)tct_pad64(size), NULL, 0, NULL, 0)) {
        free(t->name);
        return -1;
    }
    return (int)w->n_tensors++;
}

static open_tensor *writable(tct_writer *w, int id) {
    if (id < 0 || (size_t)id >= w->n_tensors) {
        tc_fail("%s: no tensor with id %d", w->where, id);
        return NULL;
    }
    open_tensor *t = &w->tensors[id];
    if (t->ended) {
        tc_fail("%s: tensor '%s' has already ended", w->where, t->name);
        return NULL;
    }
    return t;
}

static int flush_tensor(tct_writer *w, open_tensor *t) {
    if (t->buffered_rows == 0) return 0;
    unsigned char *h = header_buffer(w, TCT_FIXED_HEADER);
    if (!h) return -1;
    size_t lengths_bytes = t->dtype == TCT_STR ? 4 * t->n_lengths : 0;
    uint64_t data_size = lengths_bytes + t->buffer_len;
    memcpy(h + TCT_OFF_TAG, TCT_TAG_CHUNK, 4);
    tct_put_u32(h + TCT_OFF_HEADER_SIZE, TCT_FIXED_HEADER);
    tct_put_u64(h + TCT_OFF_DATA_SIZE, data_size);
    tct_put_u32(h + 16, (uint32_t)(t - w->tensors));
    tct_put_u64(h + 24, t->buffered_rows);
    if (write_record(w, h, TCT_FIXED_HEADER, t->lengths, lengths_bytes, t->buffer, t->buffer_len))
        return -1;
    t->total_rows += t->buffered_rows;
    t->total_bytes += data_size;
    t->n_chunks++;
    t->buffered_rows = 0;
    t->buffer_len = 0;
    t->n_lengths = 0;
    return 0;
}

int tct_writer_flush(tct_writer *w) {
    for (size_t i = 0; i < w->n_tensors; i++)
        if (!w->tensors[i].ended && flush_tensor(w, &w->tensors[i])) return -1;
    return 0;
}

static int reserve(unsigned char **p, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 4096;
    while (c < need) c *= 2;
    unsigned char *q = tc_realloc(*p, c);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

// Rows beyond a known first dimension would make the stream unreadable.
static int check_row_budget(tct_writer *w, open_tensor *t, uint64_t n_rows) {
    uint64_t expected = t->rank == 0 ? 1 : t->dims[0];
    uint64_t have = t->total_rows + t->buffered_rows;
    if (expected != TCT_ROWS_UNKNOWN && n_rows > expected - have)
        return tc_fail("%s: tensor '%s': %llu rows appended beyond its declared %llu", w->where,
                       t->name, (unsigned long long)(have + n_rows), (unsigned long long)expected);
    return 0;
}

// A full buffer flushes every open tensor, which keeps tensors that are
// appended in lockstep aligned chunk by chunk.
static int flush_if_full(tct_writer *w, open_tensor *t) {
    return t->buffer_len + 4 * t->n_lengths >= w->chunk_bytes ? tct_writer_flush(w) : 0;
}

int tct_writer_append(tct_writer *w, int id, const void *rows, uint64_t n_rows) {
    open_tensor *t = writable(w, id);
    if (!t) return -1;
    if (t->dtype == TCT_STR)
        return tc_fail("%s: tensor '%s' holds strings: use tct_writer_append_strings", w->where, t->name);
    if (check_row_budget(w, t, n_rows)) return -1;
    const unsigned char *src = rows;
    while (n_rows > 0) {
        uint64_t fit = t->row_bytes ? (w->chunk_bytes + t->row_bytes - 1) / t->row_bytes : n_rows;
        uint64_t take = n_rows < fit ? n_rows : fit;
        size_t bytes = (size_t)(take * t->row_bytes);
        if (reserve(&t->buffer, &t->buffer_cap, t->buffer_len + bytes)) return -1;
        if (bytes) memcpy(t->buffer + t->buffer_len, src, bytes);
        t->buffer_len += bytes;
        t->buffered_rows += take;
        src += bytes;
        n_rows -= take;
        if (flush_if_full(w, t)) return -1;
    }
    return 0;
}

int tct_writer_append_strings(tct_writer *w, int id, const char *const *strings,
                              const uint32_t *lengths, uint64_t n_rows) {
    open_tensor *t = writable(w, id);
    if (!t) return -1;
    if (t->dtype != TCT_STR)
        return tc_fail("%s: tensor '%s' is %s, not strings", w->where, t->name, tct_dtype_name(t->dtype));
    if (check_row_budget(w, t, n_rows)) return -1;
    uint64_t k = 0;
    for (uint64_t row = 0; row < n_rows; row++) {
        for (uint64_t e = 0; e < t->row_elements; e++, k++) {
            size_t len = lengths ? lengths[k] : strlen(strings[k]);
            if (len > UINT32_MAX)
                return tc_fail("%s: tensor '%s': a string of %zu bytes is too long", w->where, t->name, len);
            if (!tct_utf8_valid(strings[k], len) || memchr(strings[k], 0, len))
                return tc_fail("%s: tensor '%s': string %llu is not valid UTF-8 without NUL bytes", w->where, t->name,
                               (unsigned long long)(t->total_rows + t->buffered_rows) * t->row_elements + e);
            if (reserve(&t->buffer, &t->buffer_cap, t->buffer_len + len)) return -1;
            if (t->n_lengths == t->lengths_cap) {
                size_t cap = t->lengths_cap ? 2 * t->lengths_cap : 1024;
                uint32_t *l = tc_realloc(t->lengths, cap * sizeof *l);
                if (!l) return -1;
                t->lengths = l;
                t->lengths_cap = cap;
            }
            if (len) memcpy(t->buffer + t->buffer_len, strings[k], len);
            t->buffer_len += len;
            t->lengths[t->n_lengths++] = (uint32_t)len;
        }
        t->buffered_rows++;
        if (flush_if_full(w, t)) return -1;
    }
    return 0;
}

int tct_writer_end(tct_writer *w, int id) {
    open_tensor *t = writable(w, id);
    if (!t) return -1;
    if (flush_tensor(w, t)) return -1;
    uint64_t expected = t->rank == 0 ? 1 : t->dims[0];
    if (expected != TCT_ROWS_UNKNOWN && t->total_rows != expected)
        return writer_fail(w, "a tensor ended with fewer rows than its declared first dimension");
    unsigned char *h = header_buffer(w, TCT_FIXED_HEADER);
    if (!h) return -1;
    memcpy(h + TCT_OFF_TAG, TCT_TAG_END, 4);
    tct_put_u32(h + TCT_OFF_HEADER_SIZE, TCT_FIXED_HEADER);
    tct_put_u32(h + 16, (uint32_t)id);
    tct_put_u64(h + 24, t->total_rows);
    tct_put_u64(h + 32, t->total_bytes);
    tct_put_u64(h + 40, t->n_chunks);
    if (write_record(w, h, TCT_FIXED_HEADER, NULL, 0, NULL, 0)) return -1;
    t->ended = 1;
    free(t->buffer);
    free(t->lengths);
    t->buffer = NULL;
    t->lengths = NULL;
    t->buffer_cap = t->lengths_cap = 0;
    return 0;
}

int tct_writer_tensor(tct_writer *w, const char *name, tct_dtype dtype, int rank,
                      const uint64_t *dims, const void *data, const tct_attr *attrs, size_t n_attrs) {
    int id = tct_writer_begin(w, name, dtype, rank, dims, attrs, n_attrs);
    if (id < 0) return -1;
    uint64_t rows = rank == 0 ? 1 : dims[0];
    if (rows == TCT_ROWS_UNKNOWN) return tc_fail("%s: tensor '%s': a whole tensor needs its shape", w->where, name);
    int rc = dtype == TCT_STR ? tct_writer_append_strings(w, id, data, NULL, rows)
                              : tct_writer_append(w, id, data, rows);
    return rc ? -1 : tct_writer_end(w, id);
}

int tct_writer_string_tensor(tct_writer *w, const char *name, const char *const *strings,
                             uint64_t count, const tct_attr *attrs, size_t n_attrs) {
    uint64_t dims[1] = {count};
    return tct_writer_tensor(w, name, TCT_STR, 1, dims, strings, attrs, n_attrs);
}

static void free_writer(tct_writer *w) {
    for (size_t i = 0; i < w->n_tensors; i++) {
        free(w->tensors[i].name);
        free(w->tensors[i].buffer);
        free(w->tensors[i].lengths);
    }
    free(w->tensors);
    ZSTD_freeCCtx(w->cctx);
    free(w->header);
    free(w->out);
    free(w->where);
    free(w);
}

int tct_writer_close(tct_writer *w) {
    int rc = w->failed ? tc_fail("%s: %s", w->where, w->failure) : 0;
    for (size_t i = 0; rc == 0 && i < w->n_tensors; i++)
        if (!w->tensors[i].ended)
            rc = tc_fail("%s: tensor '%s' was never ended", w->where, w->tensors[i].name);
    if (rc == 0) {
        unsigned char *h = header_buffer(w, TCT_FIXED_HEADER);
        if (!h) rc = -1;
        else {
            memcpy(h + TCT_OFF_TAG, TCT_TAG_FINISH, 4);
            tct_put_u32(h + TCT_OFF_HEADER_SIZE, TCT_FIXED_HEADER);
            tct_put_u64(h + 16, w->n_tensors);
            rc = write_record(w, h, TCT_FIXED_HEADER, NULL, 0, NULL, 0);
        }
    }
    errno = 0;
    if (rc == 0 && fflush(w->f) != 0)
        rc = tc_fail("%s: write failed: %s", w->where, strerror(errno ? errno : EIO));
    free_writer(w);
    return rc;
}

void tct_writer_abort(tct_writer *w) {
    if (w) free_writer(w);
}
