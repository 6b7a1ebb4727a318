#include "formats/tct_export.h"
#include "common/error.h"

#include <inttypes.h>
#include <math.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

double tct_element_double(tct_dtype dtype, const void *data, uint64_t i) {
    switch (dtype) {
    case TCT_F32: return ((const float *)data)[i];
    case TCT_F16: return tct_f16_to_f32(((const uint16_t *)data)[i]);
    case TCT_BF16: return tct_bf16_to_f32(((const uint16_t *)data)[i]);
    case TCT_I8: return ((const int8_t *)data)[i];
    case TCT_U8: return ((const uint8_t *)data)[i];
    case TCT_I32: return ((const int32_t *)data)[i];
    case TCT_I64: return (double)((const int64_t *)data)[i];
    default: return NAN;
    }
}

int tct_format_element(char *buf, size_t size, tct_dtype dtype, const void *data, uint64_t i, int json) {
    switch (dtype) {
    case TCT_I8: return snprintf(buf, size, "%d", ((const int8_t *)data)[i]);
    case TCT_U8: return snprintf(buf, size, "%u", ((const uint8_t *)data)[i]);
    case TCT_I32: return snprintf(buf, size, "%" PRId32, ((const int32_t *)data)[i]);
    case TCT_I64: return snprintf(buf, size, "%" PRId64, ((const int64_t *)data)[i]);
    default: {
        double v = tct_element_double(dtype, data, i);
        if (isnan(v)) return snprintf(buf, size, "%s", json ? "null" : "nan");
        if (isinf(v)) return snprintf(buf, size, "%s", json ? "null" : v > 0 ? "inf" : "-inf");
        return snprintf(buf, size, "%.9g", v);
    }
    }
}

int tct_write_escaped(FILE *f, const char *s, size_t n, int json) {
    if (json) fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '\t': fputs("\\t", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\\': fputs("\\\\", f); break;
        case '"':
            if (json) fputs("\\\"", f);
            else fputc(c, f);
            break;
        default:
            if (c < 0x20 || c == 0x7f) fprintf(f, json ? "\\u%04x" : "\\x%02x", c);
            else fputc(c, f);
        }
    }
    if (json) fputc('"', f);
    return ferror(f) ? -1 : 0;
}

const char *tct_npy_descr(tct_dtype dtype) {
    switch (dtype) {
    case TCT_F32: return "<f4";
    case TCT_F16: return "<f2";
    case TCT_BF16: return "<f4";
    case TCT_I8: return "|i1";
    case TCT_U8: return "|u1";
    case TCT_I32: return "<i4";
    case TCT_I64: return "<i8";
    default: return NULL;
    }
}

int tct_npy_header(char *out, size_t size, const char *descr, int rank, const uint64_t *dims) {
    char shape[256] = "";
    size_t at = 0;
    for (int i = 0; i < rank; i++)
        at += (size_t)snprintf(shape + at, sizeof shape - at, "%" PRIu64 "%s", dims[i],
                               rank == 1 ? "," : i + 1 < rank ? ", " : "");
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape);
    if (size % 64 || n < 0 || (size_t)n + 11 > size) return tc_fail("npy header does not fit in %zu bytes", size);
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    uint16_t len = (uint16_t)(size - 10);
    memcpy(out + 8, &len, 2);
    memcpy(out + 10, dict, (size_t)n);
    memset(out + 10 + n, ' ', size - 10 - (size_t)n - 1);
    out[size - 1] = '\n';
    return 0;
}

// Reads the rest of the stream so that damage after the exported part is
// reported too.
static int drain(tct_reader *r) {
    tct_event ev;
    int rc;
    while ((rc = tct_reader_next(r, &ev)) == 1) {}
    return rc;
}

// `where` here is the output's name: every caller below writes the export.
static int write_all(FILE *out, const void *p, size_t n, const char *where) {
    errno = 0;
    if (n && fwrite(p, 1, n, out) != n) return tc_fail("%s: write failed: %s", where, strerror(errno ? errno : EIO));
    return 0;
}

// Decodes one UTF-8 sequence (already validated) into a code point.
static uint32_t next_code_point(const unsigned char **pp) {
    const unsigned char *p = *pp;
    uint32_t c = *p++;
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    if (extra) c &= 0x3f >> extra;
    while (extra--) c = (c << 6) | (*p++ & 0x3f);
    *pp = p;
    return c;
}

static size_t count_code_points(const char *s, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++) count += ((unsigned char)s[i] & 0xc0) != 0x80;
    return count;
}

static int npy_strings(tct_reader *r, tct_tensor_info *t, FILE *out, const char *where) {
    // Strings are collected: the fixed width is known only at the end.
    char **strings = NULL;
    size_t n = 0, width = 1;
    tct_event ev;
    int rc;
    while ((rc = tct_reader_next(r, &ev)) == 1 && !(ev.kind == TCT_EVENT_END && ev.tensor == t)) {
        if (ev.kind != TCT_EVENT_CHUNK || ev.tensor != t) continue;
        uint64_t count = ev.rows * t->row_elements;
        char **p = realloc(strings, (n + count) * sizeof *p);
        if (!p) { rc = tc_fail("out of memory"); break; }
        strings = p;
        const char *s = ev.string_bytes;
        for (uint64_t i = 0; i < count; i++) {
            uint32_t len = ev.string_lengths[i];
            strings[n] = strndup(s, len);
            if (!strings[n]) { rc = tc_fail("out of memory"); break; }
            size_t cps = count_code_points(s, len);
            if (cps > width) width = cps;
            s += len;
            n++;
        }
        if (rc < 0) break;
    }
    if (rc == 1) {
        char descr[32], header[512];
        snprintf(descr, sizeof descr, "<U%zu", width);
        rc = tct_npy_header(header, 128, descr, t->rank, t->dims) == 0 ? write_all(out, header, 128, where) : -1;
        uint32_t *cells = calloc(width, sizeof *cells);
        if (!cells) rc = tc_fail("out of memory");
        for (size_t i = 0; rc == 0 && i < n; i++) {
            memset(cells, 0, width * sizeof *cells);
            const unsigned char *p = (const unsigned char *)strings[i];
            for (size_t k = 0; *p; k++) cells[k] = next_code_point(&p);
            rc = write_all(out, cells, width * sizeof *cells, where);
        }
        free(cells);
    }
    for (size_t i = 0; i < n; i++) free(strings[i]);
    free(strings);
    return rc < 0 ? -1 : drain(r);
}

// Writes the numeric rows of t, converting bf16 to f32.
static int npy_rows(FILE *out, const tct_event *ev, const char *where) {
    if (ev->tensor->dtype != TCT_BF16) return write_all(out, ev->data, ev->data_bytes, where);
    const uint16_t *src = ev->data;
    size_t n = ev->data_bytes / 2;
    float buf[1024];
    for (size_t i = 0; i < n; i += 1024) {
        size_t m = n - i < 1024 ? n - i : 1024;
        for (size_t k = 0; k < m; k++) buf[k] = tct_bf16_to_f32(src[i + k]);
        if (write_all(out, buf, m * sizeof *buf, where)) return -1;
    }
    return 0;
}

static int copy_file(FILE *from, FILE *to, const char *where) {
    char buf[1 << 16];
    size_t n;
    rewind(from);
    while ((n = fread(buf, 1, sizeof buf, from)) > 0)
        if (write_all(to, buf, n, where)) return -1;
    return ferror(from) ? tc_fail("%s: temporary file: read failed", where) : 0;
}

static int npy_numeric(tct_reader *r, tct_tensor_info *t, FILE *out, const char *where) {
    enum { HEADER = 256 };
    char header[HEADER];
    const char *descr = tct_npy_descr(t->dtype);
    int known = t->rank == 0 || t->dims[0] != TCT_ROWS_UNKNOWN;
    off_t start = ftello(out);
    int seekable = !known && start >= 0 && fseeko(out, start, SEEK_SET) == 0;
    FILE *dest = known || seekable ? out : tmpfile();
    if (!dest) return tc_fail("%s: cannot create a temporary file: %s", where, strerror(errno));
    int rc = 0;
    if (known) rc = tct_npy_header(header, HEADER, descr, t->rank, t->dims) || write_all(out, header, HEADER, where);
    else if (seekable) {
        memset(header, ' ', HEADER);
        rc = write_all(out, header, HEADER, where);
    }
    tct_event ev;
    while (rc == 0 && (rc = tct_reader_next(r, &ev)) == 1) {
        rc = 0;
        if (ev.kind == TCT_EVENT_CHUNK && ev.tensor == t) rc = npy_rows(dest, &ev, where);
        if (ev.kind == TCT_EVENT_END && ev.tensor == t) break;
    }
    if (rc == 1) rc = 0;
    if (rc == 0 && !known) {
        rc = tct_npy_header(header, HEADER, descr, t->rank, t->dims);
        if (rc == 0 && seekable) {
            rc = fseeko(out, start, SEEK_SET) || write_all(out, header, HEADER, where) || fseeko(out, 0, SEEK_END)
                     ? tc_fail("%s: cannot rewrite the .npy header: %s", where, strerror(errno))
                     : 0;
        } else if (rc == 0) {
            rc = write_all(out, header, HEADER, where) || copy_file(dest, out, where) ? -1 : 0;
        }
    }
    if (dest != out) fclose(dest);
    return rc < 0 ? -1 : drain(r);
}

int tct_export_npy(tct_reader *r, const char *name, FILE *out, const char *where, const char *out_name) {
    tct_event ev;
    int rc;
    while ((rc = tct_reader_next(r, &ev)) == 1) {
        if (ev.kind != TCT_EVENT_BEGIN || strcmp(ev.tensor->name, name)) continue;
        return ev.tensor->dtype == TCT_STR ? npy_strings(r, ev.tensor, out, out_name)
                                           : npy_numeric(r, ev.tensor, out, out_name);
    }
    return rc < 0 ? -1 : tc_fail("%s: no tensor '%s'", where, name);
}

// 1 when no column has a value in its rows: every line would be empty, and
// there may be 2^40 of them in a stream of a few hundred bytes.
static int no_values(const tct_column *columns, size_t n) {
    for (size_t c = 0; c < n; c++)
        if (columns[c].tensor->row_elements) return 0;
    return 1;
}

int tct_export_tsv(tct_reader *r, const char *names, FILE *out, const char *where, const char *out_name) {
    char *copy = strdup(names);
    const char *list[64];
    size_t n = 0;
    if (!copy) return tc_fail("out of memory");
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && n < 64; tok = strtok_r(NULL, ",", &save))
        list[n++] = tok;
    tct_table *table;
    if (n == 0 || tct_table_open(&table, r, list, n)) {
        free(copy);
        return n ? -1 : tc_fail("--tsv: no tensor named");
    }
    tct_column columns[64];
    int64_t rows;
    while ((rows = tct_table_next(table, 4096, columns)) > 0) {
        if (no_values(columns, n)) {
            rows = tc_fail("%s: the rows of '%s' hold no values: no text to export", where, columns[0].tensor->name);
            break;
        }
        for (int64_t row = 0; row < rows; row++) {
            for (size_t c = 0; c < n; c++) {
                const tct_tensor_info *t = columns[c].tensor;
                for (uint64_t e = 0; e < t->row_elements; e++) {
                    uint64_t i = (uint64_t)row * t->row_elements + e;
                    if (c || e) fputc('\t', out);
                    if (t->dtype == TCT_STR) {
                        tct_write_escaped(out, columns[c].strings[i], columns[c].string_lengths[i], 0);
                    } else {
                        char text[64];
                        tct_format_element(text, sizeof text, t->dtype, columns[c].data, i, 0);
                        fputs(text, out);
                    }
                }
            }
            fputc('\n', out);
        }
        if (ferror(out)) {
            rows = tc_fail("%s: write failed: %s", out_name, strerror(errno ? errno : EIO));
            break;
        }
    }
    tct_table_close(table);
    free(copy);
    return rows < 0 ? -1 : drain(r);
}
