// Streaming reader of the tensor stream: one record (one zstd frame, or one
// raw record in a decompressed stream) at a time, every field checked before
// it is trusted.
#include "formats/tct.h"
#include "formats/tct_record.h"
#include "common/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_d_stableOutBuffer: decode straight into the record
#include <zstd.h>

// zstd frame headers are at most 18 bytes. The input buffer holds a frame's
// first block whole (peek_fixed_header). Records up to PEEK_ABOVE bytes get
// their memory without a peek: it costs no more than the frame could.
enum { INPUT_BUFFER = 1 << 18, FRAME_HEADER_MAX = 18, PEEK_ABOVE = 1 << 20 };
static const unsigned char zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};

struct tct_reader {
    FILE *f;
    char *where;
    int compressed;
    ZSTD_DCtx *dctx;
    ZSTD_DCtx *peek;                // decodes a large frame's first block before memory is reserved
    unsigned char *scratch;         // that block (ZSTD_BLOCKSIZE_MAX + 64 bytes)
    unsigned char *in;              // input bytes [in_pos, in_len) not yet consumed
    size_t in_pos, in_len;
    int eof;
    uint64_t offset;                // stream bytes consumed
    uint64_t max_record;
    unsigned char *record;
    size_t record_len, record_cap;
    uint64_t record_offset;         // where the current record started
    uint64_t record_stream_bytes;   // its size in the stream
    tct_tensor_info **tensors;      // each allocated alone: events and tables keep pointers to them
    size_t n_tensors, cap_tensors;
    tct_attr *provenance;
    size_t n_provenance;
    int version_minor;
    int opened;                     // 1 once the FILE record was read
    int finished;                   // 1 after FINISH was returned
};

static int read_fail(tct_reader *r, uint64_t offset, const char *fmt, const char *detail) {
    char what[512];
    snprintf(what, sizeof what, fmt, detail);
    return tc_fail("%s: byte %llu: %s", r->where, (unsigned long long)offset, what);
}

// Ensures at least `need` unconsumed input bytes unless the input ends.
static int fill(tct_reader *r, size_t need) {
    if (r->in_len - r->in_pos >= need || r->eof) return 0;
    memmove(r->in, r->in + r->in_pos, r->in_len - r->in_pos);
    r->in_len -= r->in_pos;
    r->in_pos = 0;
    while (r->in_len < need && !r->eof) {
        size_t got = fread(r->in + r->in_len, 1, INPUT_BUFFER - r->in_len, r->f);
        r->in_len += got;
        if (got == 0) {
            if (ferror(r->f))
                return tc_fail("%s: read failed: %s", r->where, strerror(errno));
            r->eof = 1;
        }
    }
    return 0;
}

static size_t available(const tct_reader *r) { return r->in_len - r->in_pos; }

static void consume(tct_reader *r, size_t n) {
    r->in_pos += n;
    r->offset += n;
}

static int reserve_record(tct_reader *r, uint64_t size) {
    if (size > r->max_record)
        return read_fail(r, r->offset, "%s", "record larger than the reader's limit (corrupted?)");
    if (size > r->record_cap) {
        free(r->record);  // nothing in it is needed any more: no copy
        r->record_cap = 0;
        r->record = malloc((size_t)size);
        if (!r->record) return tc_fail("%s: out of memory for a record of %llu bytes", r->where, (unsigned long long)size);
        r->record_cap = (size_t)size;
    }
    r->record_len = (size_t)size;
    return 0;
}

static tct_tensor_info *open_tensor_of(tct_reader *r, uint32_t id) {
    if (id >= r->n_tensors) {
        read_fail(r, r->record_offset, "%s", "record for a tensor that has not begun (corrupted?)");
        return NULL;
    }
    tct_tensor_info *t = r->tensors[id];
    if (t->ended) {
        read_fail(r, r->record_offset, "record for tensor '%s' after its end (corrupted?)", t->name);
        return NULL;
    }
    return t;
}

// A chunk's rows and data size, from its fixed header: the rows must fit the
// tensor and the data must be what they take (numeric), or at least their
// string lengths (strings).
static int check_chunk_header(tct_reader *r, const unsigned char *h) {
    tct_tensor_info *t = open_tensor_of(r, tct_get_u32(h + 16));
    if (!t) return -1;
    uint64_t rows = tct_get_u64(h + 24), data_size = tct_get_u64(h + TCT_OFF_DATA_SIZE);
    uint64_t limit = t->rank == 0 ? 1 : t->dims[0];
    if (rows == 0 || (limit != TCT_ROWS_UNKNOWN && rows > limit - t->rows_seen))
        return read_fail(r, r->record_offset, "chunk of tensor '%s' has a wrong row count", t->name);
    uint64_t element = t->dtype == TCT_STR ? 4 : tct_dtype_size(t->dtype);
    if (t->row_elements && rows > UINT64_MAX / element / t->row_elements)
        return read_fail(r, r->record_offset, "chunk of tensor '%s' is corrupted", t->name);
    uint64_t need = rows * t->row_elements * element;
    if (t->dtype == TCT_STR ? data_size < need : data_size != need)
        return read_fail(r, r->record_offset, "chunk of tensor '%s' has the wrong size", t->name);
    return 0;
}

// Checks a record's fixed header (its first 64 bytes) against the record's
// size in the stream and what the stream allows there, before the rest is
// read or decompressed: a small frame declaring a huge record costs no more
// than its first block.
static int check_fixed_header(tct_reader *r, const unsigned char *h, uint64_t size) {
    if (!r->opened && memcmp(h, TCT_TAG_FILE, 4) != 0)
        return read_fail(r, 0, "%s", "not a tensor stream (zstd data, but no TCTF header record)");
    uint64_t header_size = tct_get_u32(h + TCT_OFF_HEADER_SIZE), data_size = tct_get_u64(h + TCT_OFF_DATA_SIZE);
    if (header_size < TCT_FIXED_HEADER || header_size % TCT_RECORD_ALIGN || header_size > size ||
        data_size > size || header_size + tct_pad64(data_size) != size)
        return read_fail(r, r->record_offset, "%s", "record sizes do not add up (corrupted?)");
    if (!memcmp(h, TCT_TAG_CHUNK, 4)) return check_chunk_header(r, h);
    if (!memcmp(h, TCT_TAG_FILE, 4) && r->opened)
        return read_fail(r, r->record_offset, "%s", "a second stream header inside the stream (corrupted?)");
    if (memcmp(h, TCT_TAG_FILE, 4) && memcmp(h, TCT_TAG_BEGIN, 4) && memcmp(h, TCT_TAG_END, 4) &&
        memcmp(h, TCT_TAG_FINISH, 4))
        return read_fail(r, r->record_offset, "%s", "unknown record type (corrupted?)");
    if (data_size != 0) return read_fail(r, r->record_offset, "%s", "data in a record that has none (corrupted?)");
    return 0;
}

// Decompresses the first 64 bytes of the frame at the front of the input
// into h, consuming nothing, with a second decoder and a one-block scratch
// buffer: a record larger than any so far is checked before memory is
// reserved for it. 0: h holds them; 1: no peek (the frame's first blocks are
// too short or too large for it); -1: an error.
static int peek_fixed_header(tct_reader *r, uint64_t start, unsigned char *h) {
    enum { SCRATCH = ZSTD_BLOCKSIZE_MAX + TCT_FIXED_HEADER };
    if (!r->peek) r->peek = ZSTD_createDCtx();
    if (!r->scratch) r->scratch = malloc(SCRATCH);
    if (!r->peek || !r->scratch) return tc_fail("%s: out of memory", r->where);
    size_t rc = ZSTD_decompressBegin(r->peek), pos = 0, produced = 0;
    while (!ZSTD_isError(rc) && produced < TCT_FIXED_HEADER) {
        size_t need = ZSTD_nextSrcSizeToDecompress(r->peek);
        if (need == 0 || pos + need > INPUT_BUFFER) return 1;
        if (fill(r, pos + need)) return -1;
        if (available(r) < pos + need) return read_fail(r, start, "%s", "truncated inside a record");
        rc = ZSTD_decompressContinue(r->peek, r->scratch + produced, SCRATCH - produced, r->in + r->in_pos + pos, need);
        if (!ZSTD_isError(rc)) pos += need, produced += rc;
    }
    if (ZSTD_isError(rc)) return read_fail(r, start, "corrupted record (zstd: %s)", ZSTD_getErrorName(rc));
    memcpy(h, r->scratch, TCT_FIXED_HEADER);
    return 0;
}

// Reads one zstd frame, which must decompress to exactly its declared size.
// Until the record's fixed header is out and checked, zstd gets only the
// input it asks for next (its hint: up to one block), so no more than a block
// or two is decompressed before the sizes are known to agree.
static int read_frame(tct_reader *r) {
    uint64_t start = r->offset;
    r->record_offset = start;
    if (fill(r, FRAME_HEADER_MAX)) return -1;
    if (available(r) < 4 || memcmp(r->in + r->in_pos, zstd_magic, 4) != 0)
        return read_fail(r, start, "%s", available(r) < 4 ? "truncated inside a record" : "not a zstd frame (corrupted?)");
    unsigned long long size = ZSTD_getFrameContentSize(r->in + r->in_pos, available(r));
    if (size == ZSTD_CONTENTSIZE_ERROR)
        return read_fail(r, start, "%s", available(r) < FRAME_HEADER_MAX ? "truncated inside a record" : "corrupted frame header");
    if (size == ZSTD_CONTENTSIZE_UNKNOWN) return read_fail(r, start, "%s", "frame without a content size (not written by tct)");
    if (size > r->max_record) return read_fail(r, start, "%s", "record larger than the reader's limit (corrupted?)");
    if (size > r->record_cap && size > PEEK_ABOVE) {
        unsigned char h[TCT_FIXED_HEADER];
        int peeked = peek_fixed_header(r, start, h);
        if (peeked < 0 || (peeked == 0 && check_fixed_header(r, h, size))) return -1;
    }
    if (reserve_record(r, size)) return -1;
    ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
    ZSTD_outBuffer out = {r->record, (size_t)size, 0};
    size_t wanted = FRAME_HEADER_MAX;
    int checked = 0;
    for (;;) {
        if (fill(r, 1)) return -1;
        if (available(r) == 0) return read_fail(r, start, "%s", "truncated inside a record");
        ZSTD_inBuffer in = {r->in + r->in_pos, !checked && available(r) > wanted ? wanted : available(r), 0};
        size_t produced = out.pos;
        size_t left = ZSTD_decompressStream(r->dctx, &out, &in);
        consume(r, in.pos);
        if (ZSTD_isError(left)) return read_fail(r, start, "corrupted record (zstd: %s)", ZSTD_getErrorName(left));
        if (!checked && out.pos >= TCT_FIXED_HEADER) {
            if (check_fixed_header(r, r->record, size)) return -1;
            checked = 1;
        }
        if (left == 0) break;
        wanted = left;
        // No progress with a full output: the frame holds more than it declared.
        if (in.pos == 0 && out.pos == produced)
            return read_fail(r, start, "%s", "record longer than its frame header says (corrupted?)");
    }
    if (out.pos != size) return read_fail(r, start, "%s", "record shorter than its frame header says");
    if (!checked)
        return r->opened ? read_fail(r, start, "%s", "record too short")
                         : read_fail(r, 0, "%s", "not a tensor stream (zstd data, but no TCTF header record)");
    r->record_stream_bytes = r->offset - start;
    return 0;
}

// Reads one record of a decompressed stream.
static int read_raw(tct_reader *r) {
    uint64_t start = r->offset;
    r->record_offset = start;
    if (fill(r, TCT_FIXED_HEADER)) return -1;
    if (available(r) < TCT_FIXED_HEADER) return read_fail(r, start, "%s", "truncated inside a record");
    const unsigned char *h = r->in + r->in_pos;
    uint64_t header_size = tct_get_u32(h + TCT_OFF_HEADER_SIZE), data_size = tct_get_u64(h + TCT_OFF_DATA_SIZE);
    if (header_size < TCT_FIXED_HEADER || header_size % TCT_RECORD_ALIGN || data_size > r->max_record)
        return read_fail(r, start, "%s", "corrupted record header");
    uint64_t size = header_size + tct_pad64(data_size);
    if (check_fixed_header(r, h, size) || reserve_record(r, size)) return -1;
    size_t done = 0;
    while (done < size) {
        if (fill(r, 1)) return -1;
        if (available(r) == 0) return read_fail(r, start, "%s", "truncated inside a record");
        size_t n = available(r) < size - done ? available(r) : (size_t)(size - done);
        memcpy(r->record + done, r->in + r->in_pos, n);
        consume(r, n);
        done += n;
    }
    r->record_stream_bytes = size;
    return 0;
}

// Reads the next record; 0 on success, 1 at a clean end of input.
static int next_record(tct_reader *r) {
    if (fill(r, 1)) return -1;
    if (available(r) == 0) return 1;
    return r->compressed ? read_frame(r) : read_raw(r);
}

// Parses `n` attributes from p (bounded by end); strings are NUL-terminated copies.
static int parse_attrs(tct_reader *r, const unsigned char **pp, const unsigned char *end, size_t n,
                       tct_attr **out) {
    const unsigned char *p = *pp;
    if (n > (size_t)(end - p) / 8) return read_fail(r, r->record_offset, "%s", "corrupted attribute count");
    tct_attr *attrs = tc_calloc(n ? n : 1, sizeof *attrs);
    if (!attrs) return -1;
    *out = attrs;
    // Strings go into the array as soon as they exist: after an error the
    // caller frees all n entries (unset ones are NULL).
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 2; k++) {
            if (end - p < 4) return read_fail(r, r->record_offset, "%s", "corrupted attributes");
            uint32_t len = tct_get_u32(p);
            p += 4;
            if (len > (size_t)(end - p) || !tct_utf8_valid((const char *)p, len))
                return read_fail(r, r->record_offset, "%s", "corrupted attributes");
            char *text = tc_malloc((size_t)len + 1);
            if (!text) return -1;
            memcpy(text, p, len);
            text[len] = 0;
            p += len;
            if (k == 0) attrs[i].key = text;
            else attrs[i].value = text;
        }
    }
    *pp = p;
    return 0;
}

static void free_attrs(tct_attr *attrs, size_t n) {
    if (!attrs) return;
    for (size_t i = 0; i < n; i++) {
        free((char *)attrs[i].key);
        free((char *)attrs[i].value);
    }
    free(attrs);
}

// The FILE record (its fixed header was checked as it was read).
static int parse_file_header(tct_reader *r) {
    const unsigned char *h = r->record;
    uint32_t major = tct_get_u32(h + 16), minor = tct_get_u32(h + 20);
    if (major != TCT_VERSION_MAJOR) {
        char v[64];
        snprintf(v, sizeof v, "%u.%u", major, minor);
        return read_fail(r, 0, "format version %s is not supported (this reader reads version 1.x)", v);
    }
    r->version_minor = (int)minor;
    const unsigned char *p = h + TCT_FIXED_HEADER, *end = h + tct_get_u32(h + TCT_OFF_HEADER_SIZE);
    r->n_provenance = tct_get_u32(h + 24);
    return parse_attrs(r, &p, end, r->n_provenance, &r->provenance);
}

int tct_reader_open(tct_reader **reader, FILE *f, const char *where) {
    *reader = NULL;
    tct_reader *r = tc_calloc(1, sizeof *r);
    if (!r) return -1;
    r->f = f;
    tct_enlarge_pipe(f);
    r->where = strdup(where ? where : "-");
    r->dctx = ZSTD_createDCtx();
    // The record buffer holds the whole frame and stays put while a frame is
    // decoded, so zstd may write into it directly instead of through its own
    // window buffer (one copy less per record).
    if (r->dctx) ZSTD_DCtx_setParameter(r->dctx, ZSTD_d_stableOutBuffer, 1);
    r->in = malloc(INPUT_BUFFER);
    r->max_record = (uint64_t)1 << 30;
    if (!r->where || !r->dctx || !r->in) {
        tct_reader_close(r);
        return tc_fail("out of memory opening a tensor stream");
    }
    int rc = fill(r, 4);
    if (rc == 0 && available(r) == 0) rc = tc_fail("%s: empty file, not a tensor stream", r->where);
    if (rc == 0) {
        const unsigned char *p = r->in + r->in_pos;
        size_t n = available(r) < 4 ? available(r) : 4;
        if (n < 4 && (!memcmp(p, zstd_magic, n) || !memcmp(p, TCT_TAG_FILE, n)))
            rc = tc_fail("%s: byte 0: truncated inside the header", r->where);
        else if (n == 4 && memcmp(p, zstd_magic, 4) == 0) r->compressed = 1;
        else if (n == 4 && memcmp(p, TCT_TAG_FILE, 4) == 0) r->compressed = 0;
        else
            rc = tc_fail("%s: not a tensor stream (bad magic %02x %02x %02x %02x)", r->where, p[0],
                         available(r) > 1 ? p[1] : 0, available(r) > 2 ? p[2] : 0, available(r) > 3 ? p[3] : 0);
    }
    if (rc == 0) {
        rc = next_record(r);
        if (rc == 1) rc = read_fail(r, 0, "%s", "truncated inside a record");
    }
    if (rc == 0) rc = parse_file_header(r);
    r->opened = 1;
    if (rc != 0) {
        tct_reader_close(r);
        return -1;
    }
    *reader = r;
    return 0;
}

static int parse_begin(tct_reader *r, tct_event *ev) {
    const unsigned char *h = r->record;
    const unsigned char *end = h + tct_get_u32(h + TCT_OFF_HEADER_SIZE);
    uint32_t id = tct_get_u32(h + 16), name_len = tct_get_u32(h + 24), n_attrs = tct_get_u32(h + 28);
    int dtype = h[20], rank = h[21];
    if (id != r->n_tensors) return read_fail(r, r->record_offset, "%s", "tensor ids out of order (corrupted?)");
    if (tct_dtype_name((tct_dtype)dtype)[0] == '?') return read_fail(r, r->record_offset, "%s", "unknown dtype");
    if (rank > TCT_MAX_RANK) return read_fail(r, r->record_offset, "%s", "rank too large");
    const unsigned char *p = h + TCT_FIXED_HEADER;
    if ((size_t)(end - p) < 8u * (size_t)rank + name_len || name_len == 0)
        return read_fail(r, r->record_offset, "%s", "corrupted tensor header");
    if (r->n_tensors == r->cap_tensors) {
        size_t cap = r->cap_tensors ? 2 * r->cap_tensors : 8;
        tct_tensor_info **grown = tc_realloc(r->tensors, cap * sizeof *grown);
        if (!grown) return -1;
        r->tensors = grown;
        r->cap_tensors = cap;
    }
    tct_tensor_info *t = tc_calloc(1, sizeof *t);
    if (!t) return -1;
    r->tensors[r->n_tensors] = t;
    t->id = (int)id;
    t->dtype = (tct_dtype)dtype;
    t->rank = rank;
    t->row_elements = 1;
    for (int i = 0; i < rank; i++, p += 8) {
        t->dims[i] = tct_get_u64(p);
        if (i > 0) {
            if (t->dims[i] == TCT_ROWS_UNKNOWN || (t->dims[i] && t->row_elements > (UINT64_MAX >> 8) / t->dims[i])) {
                free(t);  // not owned by the reader until counted below
                return read_fail(r, r->record_offset, "%s", "corrupted shape");
            }
            t->row_elements *= t->dims[i];
        }
    }
    if (!tct_utf8_valid((const char *)p, name_len)) {
        free(t);
        return read_fail(r, r->record_offset, "%s", "tensor name is not UTF-8");
    }
    t->name = tc_malloc((size_t)name_len + 1);
    if (!t->name) {
        free(t);
        return -1;
    }
    memcpy(t->name, p, name_len);
    t->name[name_len] = 0;
    p += name_len;
    r->n_tensors++;  // owned from here on, freed by close
    for (size_t i = 0; i + 1 < r->n_tensors; i++)
        if (!strcmp(r->tensors[i]->name, t->name)) return read_fail(r, r->record_offset, "tensor '%s' appears twice", t->name);
    t->n_attrs = n_attrs;
    if (parse_attrs(r, &p, end, n_attrs, &t->attrs)) {
        if (!t->attrs) t->n_attrs = 0;
        return -1;
    }
    t->compressed_bytes = r->record_stream_bytes;
    ev->kind = TCT_EVENT_BEGIN;
    ev->tensor = t;
    return 0;
}

static int parse_chunk(tct_reader *r, tct_event *ev) {
    const unsigned char *h = r->record;
    // Tensor, rows and sizes were checked with the fixed header (check_chunk_header).
    tct_tensor_info *t = r->tensors[tct_get_u32(h + 16)];
    uint64_t rows = tct_get_u64(h + 24), data_size = tct_get_u64(h + TCT_OFF_DATA_SIZE);
    const unsigned char *data = h + tct_get_u32(h + TCT_OFF_HEADER_SIZE);
    memset(ev, 0, sizeof *ev);
    if (t->dtype == TCT_STR) {
        uint64_t count = rows * t->row_elements;
        const unsigned char *bytes = data + 4 * count;
        uint64_t total = 0, room = data_size - 4 * count;
        for (uint64_t i = 0; i < count; i++) {
            uint32_t len = tct_get_u32(data + 4 * i);
            if (len > room - total) return read_fail(r, r->record_offset, "string lengths of tensor '%s' are corrupted", t->name);
            if (!tct_utf8_valid((const char *)bytes + total, len))
                return read_fail(r, r->record_offset, "a string of tensor '%s' is not valid UTF-8", t->name);
            // readers hand strings out NUL-terminated: a NUL inside would cut one short unseen
            if (memchr(bytes + total, 0, len))
                return read_fail(r, r->record_offset, "a string of tensor '%s' holds a NUL byte", t->name);
            total += len;
        }
        if (total != room) return read_fail(r, r->record_offset, "string lengths of tensor '%s' are corrupted", t->name);
        ev->string_lengths = (const uint32_t *)data;  // 64-byte aligned: the header is
        ev->string_bytes = (const char *)bytes;
    } else {
        ev->data = data;
        ev->data_bytes = (size_t)data_size;
    }
    t->rows_seen += rows;
    t->raw_bytes += data_size;
    t->compressed_bytes += r->record_stream_bytes;
    ev->kind = TCT_EVENT_CHUNK;
    ev->tensor = t;
    ev->rows = rows;
    return 0;
}

static int parse_end(tct_reader *r, tct_event *ev) {
    const unsigned char *h = r->record;
    tct_tensor_info *t = open_tensor_of(r, tct_get_u32(h + 16));
    if (!t) return -1;
    uint64_t rows = tct_get_u64(h + 24), bytes = tct_get_u64(h + 32);
    uint64_t declared = t->rank == 0 ? 1 : t->dims[0];
    if (rows != t->rows_seen || bytes != t->raw_bytes || (declared != TCT_ROWS_UNKNOWN && declared != rows))
        return read_fail(r, r->record_offset, "tensor '%s' ends with totals that do not match its chunks", t->name);
    if (t->rank > 0) t->dims[0] = rows;
    t->ended = 1;
    t->compressed_bytes += r->record_stream_bytes;
    ev->kind = TCT_EVENT_END;
    ev->tensor = t;
    return 0;
}

static int parse_finish(tct_reader *r, tct_event *ev) {
    if (tct_get_u64(r->record + 16) != r->n_tensors)
        return read_fail(r, r->record_offset, "%s", "end of stream names a different tensor count (corrupted?)");
    for (size_t i = 0; i < r->n_tensors; i++)
        if (!r->tensors[i]->ended)
            return read_fail(r, r->record_offset, "stream ends but tensor '%s' never ended", r->tensors[i]->name);
    // Nothing may follow, not even a second stream: `cat a.tct b.tct` is not
    // one stream, and reading only the first would drop the second unseen.
    if (fill(r, 4)) return -1;
    const unsigned char *p = r->in + r->in_pos;
    if (available(r) >= 4 && (!memcmp(p, zstd_magic, 4) || !memcmp(p, TCT_TAG_FILE, 4)))
        return read_fail(r, r->offset, "%s",
                         "trailing data after the end of the stream: another stream (concatenated streams are not read)");
    if (available(r) != 0) return read_fail(r, r->offset, "%s", "trailing data after the end of the stream");
    ev->kind = TCT_EVENT_FINISH;
    r->finished = 1;
    return 0;
}

int tct_reader_next(tct_reader *r, tct_event *ev) {
    if (r->finished) return 0;
    memset(ev, 0, sizeof *ev);
    int rc = next_record(r);
    if (rc < 0) return -1;
    if (rc == 1)
        return read_fail(r, r->offset, "%s", "truncated: the stream ends without its end record");
    ev->offset = r->record_offset;
    const char *tag = (const char *)r->record;
    if (!memcmp(tag, TCT_TAG_BEGIN, 4)) rc = parse_begin(r, ev);
    else if (!memcmp(tag, TCT_TAG_CHUNK, 4)) rc = parse_chunk(r, ev);
    else if (!memcmp(tag, TCT_TAG_END, 4)) rc = parse_end(r, ev);
    else if (!memcmp(tag, TCT_TAG_FINISH, 4)) rc = parse_finish(r, ev);
    else rc = read_fail(r, r->record_offset, "%s", "unknown record type (corrupted?)");
    ev->offset = r->record_offset;
    return rc < 0 ? -1 : 1;
}

const tct_attr *tct_reader_provenance(const tct_reader *r, size_t *n) {
    *n = r->n_provenance;
    return r->provenance;
}
int tct_reader_version_minor(const tct_reader *r) { return r->version_minor; }
int tct_reader_compressed(const tct_reader *r) { return r->compressed; }
uint64_t tct_reader_offset(const tct_reader *r) { return r->offset; }
const char *tct_reader_where(const tct_reader *r) { return r->where; }
size_t tct_reader_tensor_count(const tct_reader *r) { return r->n_tensors; }
tct_tensor_info *tct_reader_tensor(tct_reader *r, size_t id) { return id < r->n_tensors ? r->tensors[id] : NULL; }
void tct_reader_set_max_record(tct_reader *r, uint64_t bytes) { r->max_record = bytes; }

void tct_reader_close(tct_reader *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n_tensors; i++) {
        free(r->tensors[i]->name);
        free_attrs(r->tensors[i]->attrs, r->tensors[i]->n_attrs);
        free(r->tensors[i]);
    }
    free(r->tensors);
    free_attrs(r->provenance, r->n_provenance);
    ZSTD_freeDCtx(r->dctx);
    ZSTD_freeDCtx(r->peek);
    free(r->scratch);
    free(r->in);
    free(r->record);
    free(r->where);
    free(r);
}
