// Test helper: writes and reads tensor streams of known content.
//   tct-sample dtypes            every dtype, rank 0..3, empty and zero-row tensors
//   tct-sample rows N D [CHUNK]  an f32 tensor of N rows x D, value = (row*D + col) % 1000003
//   tct-sample check-rows        reads that from stdin, verifies every value, prints
//                                "rows N peak_rss_kib K"
//   tct-sample version V         a stream whose header claims format version V.0
//   tct-sample table N           doc_ids/input_ids/lengths interleaved, N rows
//   tct-sample raw-embeddings N D   N unit-length gaussian f32 rows, raw bytes (no stream)
//   tct-sample from-raw D        raw f32 rows of width D on stdin -> tensor "embeddings"
//   tct-sample drain             reads a stream from stdin to its end, prints the row count
//   tct-sample hostile KIND      a stream built by hand to attack a reader:
//                                  zero-width  a tensor [2^40, 0] in one chunk of 2^40 rows
//                                  bomb-chunk  a ~40 KB frame declaring a 1 GiB chunk of one f32 row
//                                  bomb-sizes  a 1 GiB frame whose record header says 128 bytes
//                                  bomb-end    an end record declaring 1 GiB of data
//   tct-sample peak              reads stdin to its end like drain; prints "peak_rss_kib K"
//                                on stdout whether or not the stream was good
#include "formats/tct.h"
#include "formats/tct_record.h"
#include "common/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <zstd.h>

static int die(void) {
    fprintf(stderr, "tct-sample: %s\n", tc_error());
    return 1;
}

static int write_dtypes(tct_writer *w) {
    float f32[6] = {1.5f, -2.25f, 0.0f, 3e38f, -1e-38f, 7.0f};
    uint16_t f16[4], bf16[4];
    float src[4] = {1.0f, -0.5f, 65504.0f, 6e-5f};
    for (int i = 0; i < 4; i++) f16[i] = tct_f32_to_f16(src[i]), bf16[i] = tct_f32_to_bf16(src[i]);
    int8_t i8[3] = {-128, 0, 127};
    uint8_t u8[3] = {0, 128, 255};
    int32_t i32[4] = {INT32_MIN, -1, 0, INT32_MAX};
    int64_t i64[2] = {INT64_MIN, INT64_MAX};
    const char *str[4] = {"", "hello", "naïve café", "tab\there\nnewline"};
    const char *grid[4] = {"a", "b", "c", "d"};
    tct_attr attrs[2] = {{"unit", "test"}, {"note", "ünïcode"}};
    uint64_t d23[2] = {2, 3}, d4[1] = {4}, d3[1] = {3}, d2[1] = {2}, d122[3] = {1, 2, 2}, d0[2] = {0, 5},
             d30[2] = {3, 0}, d22[2] = {2, 2};
    if (tct_writer_tensor(w, "f32", TCT_F32, 2, d23, f32, attrs, 2) ||
        tct_writer_tensor(w, "f16", TCT_F16, 1, d4, f16, NULL, 0) ||
        tct_writer_tensor(w, "bf16", TCT_BF16, 1, d4, bf16, NULL, 0) ||
        tct_writer_tensor(w, "i8", TCT_I8, 1, d3, i8, NULL, 0) ||
        tct_writer_tensor(w, "u8", TCT_U8, 1, d3, u8, NULL, 0) ||
        tct_writer_tensor(w, "i32", TCT_I32, 3, d122, i32, NULL, 0) ||
        tct_writer_tensor(w, "i64", TCT_I64, 1, d2, i64, NULL, 0) ||
        tct_writer_tensor(w, "str", TCT_STR, 1, d4, str, NULL, 0) ||
        tct_writer_tensor(w, "str2d", TCT_STR, 2, d22, grid, NULL, 0) ||
        tct_writer_tensor(w, "scalar", TCT_F32, 0, NULL, f32, NULL, 0) ||
        tct_writer_tensor(w, "zero_rows", TCT_F32, 2, d0, NULL, NULL, 0) ||
        tct_writer_tensor(w, "empty_rows", TCT_I32, 2, d30, i32, NULL, 0))
        return -1;
    return 0;
}

static int write_rows(tct_writer *w, uint64_t n, uint64_t d) {
    uint64_t dims[2] = {TCT_ROWS_UNKNOWN, d};
    int id = tct_writer_begin(w, "rows", TCT_F32, 2, dims, NULL, 0);
    if (id < 0) return -1;
    enum { BATCH = 4096 };
    float *buf = malloc(BATCH * d * sizeof *buf);
    if (!buf) return tc_fail("out of memory");
    for (uint64_t r = 0; r < n; r += BATCH) {
        uint64_t m = n - r < BATCH ? n - r : BATCH;
        for (uint64_t i = 0; i < m * d; i++) buf[i] = (float)(((r * d) + i) % 1000003);
        if (tct_writer_append(w, id, buf, m)) return free(buf), -1;
    }
    free(buf);
    return tct_writer_end(w, id);
}

static int write_table(tct_writer *w, uint64_t n) {
    uint64_t d1[1] = {TCT_ROWS_UNKNOWN}, d2[2] = {TCT_ROWS_UNKNOWN, 8};
    int ids = tct_writer_begin(w, "doc_ids", TCT_STR, 1, d1, NULL, 0);
    int tok = tct_writer_begin(w, "input_ids", TCT_I32, 2, d2, NULL, 0);
    int len = tct_writer_begin(w, "lengths", TCT_I32, 1, d1, NULL, 0);
    if (ids < 0 || tok < 0 || len < 0) return -1;
    for (uint64_t r = 0; r < n; r++) {
        char name[32];
        snprintf(name, sizeof name, "doc%llu", (unsigned long long)r);
        const char *s = name;
        int32_t row[8], l = (int32_t)(r % 9);
        for (int k = 0; k < 8; k++) row[k] = k < l ? (int32_t)(r + (uint64_t)k) : 0;
        if (tct_writer_append_strings(w, ids, &s, NULL, 1) || tct_writer_append(w, tok, row, 1) ||
            tct_writer_append(w, len, &l, 1))
            return -1;
        if (r % 1000 == 999 && tct_writer_flush(w)) return -1;
    }
    return tct_writer_end(w, ids) || tct_writer_end(w, tok) || tct_writer_end(w, len) ? -1 : 0;
}

static int check_rows(void) {
    tct_reader *r;
    if (tct_reader_open(&r, stdin, "(stdin)")) return -1;
    tct_event ev;
    int rc;
    uint64_t rows = 0, d = 0;
    while ((rc = tct_reader_next(r, &ev)) == 1) {
        if (ev.kind != TCT_EVENT_CHUNK) continue;
        d = ev.tensor->row_elements;
        const float *x = ev.data;
        for (uint64_t i = 0; i < ev.rows * d; i++)
            if (x[i] != (float)(((rows * d) + i) % 1000003)) {
                tct_reader_close(r);
                return tc_fail("row %llu: wrong value", (unsigned long long)(rows + i / d));
            }
        rows += ev.rows;
    }
    tct_reader_close(r);
    if (rc < 0) return -1;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("rows %llu peak_rss_kib %ld\n", (unsigned long long)rows, ru.ru_maxrss);
    return 0;
}

// A stream with a different version in its header: built by hand, since
// the writer only writes its own version.
static int write_version(unsigned major) {
    unsigned char h[64] = {0};
    memcpy(h, TCT_TAG_FILE, 4);
    tct_put_u32(h + 4, 64);
    tct_put_u32(h + 16, major);
    unsigned char out[256];
    size_t n = ZSTD_compress(out, sizeof out, h, sizeof h, 3);
    if (ZSTD_isError(n)) return tc_fail("zstd");
    fwrite(out, 1, n, stdout);
    return 0;
}

static int raw_embeddings(uint64_t n, uint64_t d) {
    uint64_t state = 0x9e3779b97f4a7c15ull;
    float *row = malloc(d * sizeof *row);
    if (!row) return tc_fail("out of memory");
    for (uint64_t r = 0; r < n; r++) {
        double norm = 0;
        for (uint64_t i = 0; i < d; i += 2) {  // Box-Muller pairs
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            double u1 = ((double)(state >> 11) + 1) / 9007199254740993.0;
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            double u2 = (double)(state >> 11) / 9007199254740992.0;
            double radius = sqrt(-2 * log(u1));
            row[i] = (float)(radius * cos(6.283185307179586 * u2));
            if (i + 1 < d) row[i + 1] = (float)(radius * sin(6.283185307179586 * u2));
        }
        for (uint64_t i = 0; i < d; i++) norm += (double)row[i] * row[i];
        for (uint64_t i = 0; i < d; i++) row[i] = (float)(row[i] / sqrt(norm));
        if (fwrite(row, sizeof *row, d, stdout) != d) return free(row), tc_fail("write failed");
    }
    free(row);
    return 0;
}

static int from_raw(tct_writer *w, uint64_t d) {
    uint64_t dims[2] = {TCT_ROWS_UNKNOWN, d};
    int id = tct_writer_begin(w, "embeddings", TCT_F32, 2, dims, NULL, 0);
    enum { BATCH = 1024 };
    float *buf = malloc(BATCH * d * sizeof *buf);
    if (id < 0 || !buf) return free(buf), -1;
    size_t got;
    while ((got = fread(buf, d * sizeof *buf, BATCH, stdin)) > 0)
        if (tct_writer_append(w, id, buf, got)) return free(buf), -1;
    free(buf);
    return tct_writer_end(w, id);
}

static int drain(void) {
    tct_reader *r;
    if (tct_reader_open(&r, stdin, "(stdin)")) return -1;
    tct_event ev;
    int rc;
    uint64_t rows = 0;
    while ((rc = tct_reader_next(r, &ev)) == 1)
        if (ev.kind == TCT_EVENT_CHUNK) rows += ev.rows;
    tct_reader_close(r);
    if (rc == 0) fprintf(stderr, "rows %llu\n", (unsigned long long)rows);
    return rc;
}

// ---------------------------------------------------------------- hostile streams

// Writes one record as one zstd frame of `header` (header_len bytes) then
// `zeros` zero bytes; the frame declares their total as its content size.
static int put_frame(const unsigned char *header, size_t header_len, uint64_t zeros) {
    enum { PIECE = 1 << 20 };
    static unsigned char zero[PIECE], out[1 << 16];
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    if (!cctx) return tc_fail("zstd");
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setPledgedSrcSize(cctx, header_len + zeros);
    int rc = 0;
    for (uint64_t done = 0, part = 0; rc == 0; part++) {
        const void *src = part == 0 ? (const void *)header : zero;
        size_t n = part == 0 ? header_len : (size_t)(zeros - done < PIECE ? zeros - done : PIECE);
        int last = part == 0 ? zeros == 0 : done + n == zeros;
        ZSTD_inBuffer in = {src, n, 0};
        size_t left;
        do {
            ZSTD_outBuffer o = {out, sizeof out, 0};
            left = ZSTD_compressStream2(cctx, &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(left)) rc = tc_fail("zstd: %s", ZSTD_getErrorName(left));
            else fwrite(out, 1, o.pos, stdout);
        } while (rc == 0 && (last ? left != 0 : in.pos < in.size));
        if (part > 0) done += n;
        if (last) break;
    }
    ZSTD_freeCCtx(cctx);
    return rc;
}

// A record's fixed header: tag, header_size, data_size; fields from byte 16.
static void fixed_header(unsigned char *h, const char *tag, uint32_t header_size, uint64_t data_size) {
    memset(h, 0, header_size);
    memcpy(h, tag, 4);
    tct_put_u32(h + TCT_OFF_HEADER_SIZE, header_size);
    tct_put_u64(h + TCT_OFF_DATA_SIZE, data_size);
}

// The file header and the begin record of tensor 0, "x": f32 of rank 2
// (dims[0] x width) or of rank 1 when width is 0 and rank2 is 0.
static int put_start(int rank, uint64_t rows, uint64_t width) {
    unsigned char h[128];
    fixed_header(h, TCT_TAG_FILE, 64, 0);
    tct_put_u32(h + 16, 1);
    if (put_frame(h, 64, 0)) return -1;
    fixed_header(h, TCT_TAG_BEGIN, 128, 0);
    h[20] = TCT_F32;
    h[21] = (unsigned char)rank;
    tct_put_u32(h + 24, 1);
    tct_put_u64(h + 64, rows);
    if (rank == 2) tct_put_u64(h + 72, width);
    h[64 + 8 * rank] = 'x';
    return put_frame(h, 128, 0);
}

static int put_chunk(uint64_t rows, uint32_t header_size, uint64_t data_size, uint64_t frame_zeros) {
    unsigned char h[64];
    fixed_header(h, TCT_TAG_CHUNK, header_size, data_size);
    tct_put_u64(h + 24, rows);
    return put_frame(h, 64, frame_zeros);
}

static int put_end(uint64_t rows, uint64_t bytes, uint64_t data_size, uint64_t frame_zeros) {
    unsigned char h[64];
    fixed_header(h, TCT_TAG_END, 64, data_size);
    tct_put_u64(h + 24, rows);
    tct_put_u64(h + 32, bytes);
    tct_put_u64(h + 40, 1);
    return put_frame(h, 64, frame_zeros);
}

static int put_finish(void) {
    unsigned char h[64];
    fixed_header(h, TCT_TAG_FINISH, 64, 0);
    tct_put_u64(h + 16, 1);
    return put_frame(h, 64, 0);
}

static int write_hostile(const char *kind) {
    const uint64_t gib = (uint64_t)1 << 30, huge_rows = (uint64_t)1 << 40;
    if (!strcmp(kind, "zero-width"))
        return put_start(2, huge_rows, 0) || put_chunk(huge_rows, 64, 0, 0) || put_end(huge_rows, 0, 0, 0) ||
               put_finish();
    if (put_start(1, TCT_ROWS_UNKNOWN, 0)) return -1;
    if (!strcmp(kind, "bomb-chunk")) return put_chunk(1, 64, gib - 64, gib - 64);
    if (!strcmp(kind, "bomb-sizes")) return put_chunk(1, 64, 4, gib - 64);
    if (!strcmp(kind, "bomb-end")) return put_end(0, 0, gib - 64, gib - 64);
    return tc_fail("unknown hostile stream '%s'", kind);
}

static int peak(void) {
    int rc = drain();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak_rss_kib %ld\n", ru.ru_maxrss);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: tct-sample dtypes|rows N D [CHUNK]|check-rows|version V|table N\n");
        return 2;
    }
    const char *what = argv[1];
    if (!strcmp(what, "check-rows")) return check_rows() ? die() : 0;
    if (!strcmp(what, "drain")) return drain() ? die() : 0;
    if (!strcmp(what, "peak")) return peak() ? die() : 0;
    if (!strcmp(what, "hostile") && argc > 2) return write_hostile(argv[2]) ? die() : 0;
    if (!strcmp(what, "raw-embeddings") && argc > 3)
        return raw_embeddings(strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10)) ? die() : 0;
    if (!strcmp(what, "version")) return write_version(argc > 2 ? (unsigned)atoi(argv[2]) : 2) ? die() : 0;
    tct_writer_options opt = {0};
    if (!strcmp(what, "rows") && argc > 4) opt.chunk_bytes = strtoull(argv[4], NULL, 10);
    tct_attr prov[1] = {{"program", "tct-sample"}};
    tct_writer *w;
    if (tct_writer_open(&w, stdout, "(stdout)", prov, 1, &opt)) return die();
    int rc;
    if (!strcmp(what, "dtypes")) rc = write_dtypes(w);
    else if (!strcmp(what, "rows") && argc > 3) rc = write_rows(w, strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10));
    else if (!strcmp(what, "table") && argc > 2) rc = write_table(w, strtoull(argv[2], NULL, 10));
    else if (!strcmp(what, "from-raw") && argc > 2) rc = from_raw(w, strtoull(argv[2], NULL, 10));
    else rc = tc_fail("unknown request '%s'", what);
    if (rc) {
        tct_writer_abort(w);
        return die();
    }
    return tct_writer_close(w) ? die() : 0;
}
