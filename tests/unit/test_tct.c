// The tensor stream: round trips, tables, and damage of every kind.
#include "tests/harness.h"
#include "formats/tct.h"
#include "formats/tct_export.h"
#include "common/error.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include <zstd.h>

static uint64_t next_random(uint64_t *state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

// A small stream holding every dtype, written to memory.
static char *sample_stream(size_t *size, int level) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, size);
    tct_writer *w;
    tct_attr prov[2] = {{"program", "test_tct"}, {"arguments", "--x 'y z'"}};
    tct_writer_options opt = {.level = level, .chunk_bytes = 64};
    if (tct_writer_open(&w, f, "mem", prov, 2, &opt)) return NULL;
    float f32[6] = {1.5f, -2.25f, 0.0f, 3e38f, -1e-38f, 7.0f};
    uint16_t half[2] = {tct_f32_to_f16(1.0f), tct_f32_to_bf16(-2.0f)};
    int8_t i8[3] = {-128, 0, 127};
    uint8_t u8[3] = {0, 128, 255};
    int32_t i32[4] = {INT32_MIN, -1, 0, INT32_MAX};
    int64_t i64[2] = {INT64_MIN, INT64_MAX};
    const char *str[3] = {"", "naïve", "日本語"};
    tct_attr attrs[1] = {{"key", "value"}};
    uint64_t d23[2] = {2, 3}, d2[1] = {2}, d3[1] = {3}, d4[1] = {4}, d05[2] = {0, 5};
    int rc = tct_writer_tensor(w, "f32", TCT_F32, 2, d23, f32, attrs, 1) ||
             tct_writer_tensor(w, "f16", TCT_F16, 1, d2, half, NULL, 0) ||
             tct_writer_tensor(w, "bf16", TCT_BF16, 1, d2, half, NULL, 0) ||
             tct_writer_tensor(w, "i8", TCT_I8, 1, d3, i8, NULL, 0) ||
             tct_writer_tensor(w, "u8", TCT_U8, 1, d3, u8, NULL, 0) ||
             tct_writer_tensor(w, "i32", TCT_I32, 1, d4, i32, NULL, 0) ||
             tct_writer_tensor(w, "i64", TCT_I64, 1, d2, i64, NULL, 0) ||
             tct_writer_tensor(w, "str", TCT_STR, 1, d3, str, NULL, 0) ||
             tct_writer_tensor(w, "scalar", TCT_I64, 0, NULL, i64, NULL, 0) ||
             tct_writer_tensor(w, "zero_rows", TCT_F32, 2, d05, NULL, NULL, 0);
    if (rc) tct_writer_abort(w);
    else rc = tct_writer_close(w);
    fclose(f);
    if (rc) {
        free(buf);
        return NULL;
    }
    return buf;
}

// Reads a stream from memory fully; returns the reader status.
static int read_all(const char *data, size_t size, tct_bundle *bundle) {
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f && size == 0) f = fopen("/dev/null", "rb");
    int rc = tct_bundle_read(bundle, f, "mem");
    fclose(f);
    return rc;
}

static void test_round_trip_every_dtype(void) {
    for (int level = 1; level <= 19; level += 9) {
        size_t size;
        char *data = sample_stream(&size, level);
        REQUIRE(data);
        tct_bundle b;
        REQUIRE(read_all(data, size, &b) == 0);
        CHECK(b.n_tensors == 10);
        CHECK(!strcmp(tct_attr_get(b.provenance, b.n_provenance, "arguments"), "--x 'y z'"));
        const tct_bundle_tensor *t = tct_bundle_find(&b, "f32");
        REQUIRE(t && t->rank == 2 && t->dims[0] == 2 && t->dims[1] == 3 && t->count == 6);
        CHECK(((float *)t->data)[3] == 3e38f && ((float *)t->data)[4] == -1e-38f);
        CHECK(!strcmp(tct_attr_get(t->attrs, t->n_attrs, "key"), "value"));
        t = tct_bundle_find(&b, "f16");
        CHECK(t && tct_f16_to_f32(((uint16_t *)t->data)[0]) == 1.0f);
        t = tct_bundle_find(&b, "bf16");
        CHECK(t && tct_bf16_to_f32(((uint16_t *)t->data)[1]) == -2.0f);
        t = tct_bundle_find(&b, "i8");
        CHECK(t && ((int8_t *)t->data)[0] == -128 && ((int8_t *)t->data)[2] == 127);
        t = tct_bundle_find(&b, "u8");
        CHECK(t && ((uint8_t *)t->data)[2] == 255);
        t = tct_bundle_find(&b, "i32");
        CHECK(t && ((int32_t *)t->data)[0] == INT32_MIN && ((int32_t *)t->data)[3] == INT32_MAX);
        t = tct_bundle_find(&b, "i64");
        CHECK(t && ((int64_t *)t->data)[0] == INT64_MIN && ((int64_t *)t->data)[1] == INT64_MAX);
        t = tct_bundle_find(&b, "str");
        REQUIRE(t && t->count == 3);
        CHECK(!strcmp(((char **)t->data)[0], "") && !strcmp(((char **)t->data)[2], "日本語"));
        t = tct_bundle_find(&b, "scalar");
        CHECK(t && t->rank == 0 && t->count == 1 && ((int64_t *)t->data)[0] == INT64_MIN);
        t = tct_bundle_find(&b, "zero_rows");
        CHECK(t && t->dims[0] == 0 && t->dims[1] == 5 && t->count == 0);
        tct_bundle_free(&b);
        free(data);
    }
}

static void test_half_conversions(void) {
    float values[] = {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.33325195f};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        CHECKF(tct_f16_to_f32(tct_f32_to_f16(values[i])) == values[i], "f16 round trip of %g", values[i]);
    }
    CHECK(isinf(tct_f16_to_f32(tct_f32_to_f16(1e6f))));
    CHECK(isnan(tct_f16_to_f32(tct_f32_to_f16(NAN))));
    CHECK(tct_f32_to_f16(1.0f + 1.0f / 4096) == tct_f32_to_f16(1.0f));  // ties to even
    CHECK(tct_bf16_to_f32(tct_f32_to_bf16(3.140625f)) == 3.140625f);
    CHECK(isnan(tct_bf16_to_f32(tct_f32_to_bf16(NAN))));
}

static void test_interleaved_table(void) {
    char *buf = NULL;
    size_t size;
    FILE *f = open_memstream(&buf, &size);
    tct_writer *w;
    tct_writer_options opt = {.chunk_bytes = 100};
    REQUIRE(tct_writer_open(&w, f, "mem", NULL, 0, &opt) == 0);
    uint64_t d1[1] = {TCT_ROWS_UNKNOWN}, d2[2] = {TCT_ROWS_UNKNOWN, 3};
    int a = tct_writer_begin(w, "ids", TCT_STR, 1, d1, NULL, 0);
    int b = tct_writer_begin(w, "values", TCT_I32, 2, d2, NULL, 0);
    int other = tct_writer_begin(w, "other", TCT_F32, 1, d1, NULL, 0);
    REQUIRE(a >= 0 && b >= 0 && other >= 0);
    for (int i = 0; i < 1000; i++) {
        char name[16];
        snprintf(name, sizeof name, "d%d", i);
        const char *s = name;
        int32_t row[3] = {i, -i, i * 2};
        float x = (float)i;
        CHECK(tct_writer_append_strings(w, a, &s, NULL, 1) == 0);
        CHECK(tct_writer_append(w, b, row, 1) == 0);
        if (i % 3 == 0) CHECK(tct_writer_append(w, other, &x, 1) == 0);
    }
    CHECK(tct_writer_end(w, a) == 0 && tct_writer_end(w, b) == 0 && tct_writer_end(w, other) == 0);
    CHECK(tct_writer_close(w) == 0);
    fclose(f);

    f = fmemopen(buf, size, "rb");
    tct_reader *r;
    REQUIRE(tct_reader_open(&r, f, "mem") == 0);
    tct_table *table;
    const char *names[2] = {"values", "ids"};
    REQUIRE(tct_table_open(&table, r, names, 2) == 0);
    tct_column cols[2];
    int64_t n, seen = 0;
    int ok = 1;
    while ((n = tct_table_next(table, 37, cols)) > 0) {
        const int32_t *v = cols[0].data;
        for (int64_t i = 0; i < n; i++) {
            char name[16];
            snprintf(name, sizeof name, "d%d", (int)(seen + i));
            ok &= v[3 * i] == seen + i && v[3 * i + 2] == 2 * (seen + i) && !strcmp(cols[1].strings[i], name);
        }
        seen += n;
    }
    CHECK(n == 0);
    CHECK(ok);
    CHECK(seen == 1000);
    tct_table_close(table);
    tct_reader_close(r);
    fclose(f);
    free(buf);
}

static void test_table_missing_tensor(void) {
    size_t size;
    char *data = sample_stream(&size, 3);
    REQUIRE(data);
    FILE *f = fmemopen(data, size, "rb");
    tct_reader *r;
    REQUIRE(tct_reader_open(&r, f, "mem") == 0);
    tct_table *table;
    const char *names[1] = {"nope"};
    REQUIRE(tct_table_open(&table, r, names, 1) == 0);
    tct_column col;
    CHECK(tct_table_next(table, 10, &col) == -1);
    CHECK(strstr(tc_error(), "no tensor 'nope'") != NULL);
    tct_table_close(table);
    tct_reader_close(r);
    fclose(f);
    free(data);
}

// Reads tensor "i8" of data[0..size) through a table to its end; returns
// the status of the last tct_table_next (0 at a clean end, -1 on error).
static int64_t table_read(const char *data, size_t size) {
    FILE *f = fmemopen((void *)data, size, "rb");
    tct_reader *r;
    if (tct_reader_open(&r, f, "mem")) {
        fclose(f);
        return -1;
    }
    tct_table *table;
    const char *names[1] = {"i8"};
    int64_t n = tct_table_open(&table, r, names, 1);
    tct_column col;
    while (n == 0 && (n = tct_table_next(table, 2, &col)) > 0) n = 0;
    tct_table_close(table);
    tct_reader_close(r);
    fclose(f);
    return n;
}

// A table whose tensors end early still reads to the end record: a stream
// cut after them, bytes after the end, or a second stream are errors, each
// naming the stream once, with the byte offset.
static void test_table_reads_to_the_end(void) {
    size_t size;
    char *data = sample_stream(&size, 3);
    REQUIRE(data);
    char *twice = malloc(2 * size + 8);
    REQUIRE(twice);
    memcpy(twice, data, size);
    memcpy(twice + size, data, size);
    CHECK(table_read(data, size) == 0);
    CHECK(table_read(data, size - 5) == -1);
    CHECKF(strstr(tc_error(), "mem: byte ") == tc_error() && strstr(tc_error(), "truncated"), "%s", tc_error());
    CHECK(table_read(twice, 2 * size) == -1);
    CHECKF(strstr(tc_error(), "another stream") != NULL, "%s", tc_error());
    char offset[64];
    snprintf(offset, sizeof offset, "mem: byte %zu: trailing data", size);
    CHECKF(strstr(tc_error(), offset) == tc_error(), "%s", tc_error());
    memcpy(twice + size, "junk", 4);
    CHECK(table_read(twice, size + 4) == -1);
    CHECKF(strstr(tc_error(), offset) == tc_error() && !strstr(tc_error(), "another"), "%s", tc_error());
    // a caller adding the file again does not repeat it
    char before[1024];
    snprintf(before, sizeof before, "%s", tc_error());
    tc_fail_context("%s", "mem");
    CHECKF(!strcmp(tc_error(), before), "%s", tc_error());
    tc_fail("out of memory");
    tc_fail_context("%s", "mem");
    CHECKF(!strcmp(tc_error(), "mem: out of memory"), "%s", tc_error());
    free(twice);
    free(data);
}

// A record larger than any before (here 2.4 MB of incompressible floats) is
// peeked at before its memory is reserved: it still reads back exactly, and
// cut anywhere, in its first block included, it is reported as truncated.
static void test_large_record(void) {
    enum { N = 600000 };
    float *x = malloc(N * sizeof *x);
    REQUIRE(x);
    uint64_t state = 0x2545f4914f6cdd1dull;
    for (int i = 0; i < N; i++) x[i] = (float)(next_random(&state) % 1000003) / 7.0f;
    char *buf = NULL;
    size_t size;
    FILE *f = open_memstream(&buf, &size);
    tct_writer *w;
    tct_writer_options opt = {.chunk_bytes = 8u << 20};
    REQUIRE(tct_writer_open(&w, f, "mem", NULL, 0, &opt) == 0);
    uint64_t dims[1] = {N};
    CHECK(tct_writer_tensor(w, "x", TCT_F32, 1, dims, x, NULL, 0) == 0);
    CHECK(tct_writer_close(w) == 0);
    fclose(f);
    tct_bundle b;
    CHECK(read_all(buf, size, &b) == 0);
    if (b.n_tensors == 1) CHECK(b.tensors[0].count == N && !memcmp(b.tensors[0].data, x, N * sizeof *x));
    tct_bundle_free(&b);
    size_t cuts[] = {200, 300, 5000, 70000, 131000, 140000, 1000000, size - 100};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        CHECK(read_all(buf, cuts[i], &b) == -1);
        CHECKF(strstr(tc_error(), "truncated") != NULL, "cut at %zu: %s", cuts[i], tc_error());
    }
    free(buf);
    free(x);
}

// Every prefix of a stream is refused (the end record is what makes it whole).
static void test_truncation_at_every_offset(void) {
    size_t size;
    char *data = sample_stream(&size, 3);
    REQUIRE(data);
    int bad = 0;
    for (size_t cut = 0; cut < size; cut++) {
        tct_bundle b;
        if (read_all(data, cut, &b) == 0) {
            if (!bad) printf("  a stream cut at byte %zu of %zu was accepted\n", cut, size);
            bad++;
            tct_bundle_free(&b);
        } else if (cut > 0 && !strstr(tc_error(), "truncated")) {
            if (!bad) printf("  cut at %zu: message without 'truncated': %s\n", cut, tc_error());
            bad++;
        }
    }
    CHECKF(bad == 0, "%d truncated streams not reported as truncated", bad);
    free(data);
}

static int same_bundle(const tct_bundle *a, const tct_bundle *b) {
    if (a->n_tensors != b->n_tensors) return 0;
    for (size_t i = 0; i < a->n_tensors; i++) {
        const tct_bundle_tensor *x = &a->tensors[i], *y = &b->tensors[i];
        if (strcmp(x->name, y->name) || x->dtype != y->dtype || x->count != y->count || x->rank != y->rank) return 0;
        if (x->dtype == TCT_STR) {
            for (uint64_t k = 0; k < x->count; k++)
                if (strcmp(((char **)x->data)[k], ((char **)y->data)[k])) return 0;
        } else if (x->count && memcmp(x->data, y->data, x->count * tct_dtype_size(x->dtype))) {
            return 0;
        }
    }
    return 1;
}

// Single bit flips anywhere either fail cleanly or (a flip zstd does not
// need, like a larger window size) read back the very same data.
static void test_bit_flips(void) {
    size_t size;
    char *data = sample_stream(&size, 3);
    REQUIRE(data);
    tct_bundle original;
    REQUIRE(read_all(data, size, &original) == 0);
    int wrong = 0, refused = 0;
    char *copy = malloc(size);
    for (size_t bit = 0; bit < size * 8; bit++) {
        memcpy(copy, data, size);
        copy[bit / 8] ^= (char)(1 << (bit % 8));
        tct_bundle b;
        if (read_all(copy, size, &b) == 0) {
            if (!same_bundle(&original, &b)) {
                if (!wrong) printf("  flipping bit %zu gave different data without an error\n", bit);
                wrong++;
            }
            tct_bundle_free(&b);
        } else {
            refused++;
        }
    }
    printf("  %zu bit flips: %d refused, %d read back unchanged\n", size * 8, refused, (int)(size * 8) - refused);
    CHECKF(wrong == 0, "%d flips read as different data", wrong);
    tct_bundle_free(&original);
    free(copy);
    free(data);
}

static void test_random_damage(void) {
    size_t size;
    char *data = sample_stream(&size, 3);
    REQUIRE(data);
    tct_bundle original;
    REQUIRE(read_all(data, size, &original) == 0);
    uint64_t state = 88172645463325252ull;
    int wrong = 0;
    char *copy = malloc(size);
    for (int trial = 0; trial < 3000; trial++) {
        memcpy(copy, data, size);
        int n = 1 + (int)(next_random(&state) % 8);
        for (int k = 0; k < n; k++) copy[next_random(&state) % size] = (char)next_random(&state);
        tct_bundle b;
        if (read_all(copy, size, &b) == 0) {
            wrong += !same_bundle(&original, &b);
            tct_bundle_free(&b);
        }
    }
    CHECKF(wrong == 0, "%d damaged streams read as different data", wrong);
    tct_bundle_free(&original);
    free(copy);
    free(data);
}

static void test_wrong_magic_and_version(void) {
    tct_bundle b;
    const char text[] = "id\ttext\n";
    CHECK(read_all(text, sizeof text - 1, &b) == -1);
    CHECKF(strstr(tc_error(), "bad magic") != NULL, "%s", tc_error());
    CHECK(read_all("", 0, &b) == -1);
    CHECKF(strstr(tc_error(), "mem: empty file, not a tensor stream") != NULL, "%s", tc_error());
    // a valid zstd frame that is not a tensor stream
    const unsigned char zstd_hello[] = {0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x05, 0x29, 0x00, 0x00,
                                        'h',  'e',  'l',  'l',  'o'};
    CHECK(read_all((const char *)zstd_hello, sizeof zstd_hello, &b) == -1);
    CHECKF(strstr(tc_error(), "not a tensor stream") != NULL, "%s", tc_error());
}

// Strings are handed out NUL-terminated, so a NUL inside one would cut it
// short unseen: the writer refuses to write one, the reader to read one.
static void test_strings_with_nul_refused(void) {
    char *data = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&data, &size);
    tct_writer *w;
    REQUIRE(tct_writer_open(&w, f, "mem", NULL, 0, NULL) == 0);
    uint64_t dims[1] = {1};
    int id = tct_writer_begin(w, "s", TCT_STR, 1, dims, NULL, 0);
    const char *nul[1] = {"a\0b"};
    const uint32_t three[1] = {3};
    CHECK(tct_writer_append_strings(w, id, nul, three, 1) == -1);
    CHECKF(strstr(tc_error(), "NUL") != NULL, "%s", tc_error());
    const char *marked[1] = {"a\x01\x02\x03b"};
    CHECK(tct_writer_append_strings(w, id, marked, NULL, 1) == 0);
    CHECK(tct_writer_end(w, id) == 0);
    CHECK(tct_writer_close(w) == 0);
    fclose(f);
    // the same stream decompressed (a reader takes both), with the marker's
    // middle byte turned into a NUL
    size_t cap = 1 << 20;
    char *raw = tc_malloc(cap);
    REQUIRE(raw);
    size_t raw_size = ZSTD_decompress(raw, cap, data, size);
    REQUIRE(!ZSTD_isError(raw_size));
    char *mark = memmem(raw, raw_size, "a\x01\x02\x03b", 5);
    REQUIRE(mark);
    tct_bundle b;
    CHECK(read_all(raw, raw_size, &b) == 0);
    tct_bundle_free(&b);
    mark[2] = 0;
    CHECK(read_all(raw, raw_size, &b) == -1);
    CHECKF(strstr(tc_error(), "a string of tensor 's' holds a NUL byte") != NULL, "%s", tc_error());
    free(raw);
    free(data);
}

static void test_writer_refuses_bad_input(void) {
    FILE *f = fopen("/dev/null", "wb");
    tct_writer *w;
    REQUIRE(tct_writer_open(&w, f, "null", NULL, 0, NULL) == 0);
    uint64_t d1[1] = {2}, d2[2] = {2, TCT_ROWS_UNKNOWN};
    const char *bad[2] = {"ok", "\xff\xfe"};
    int id = tct_writer_begin(w, "s", TCT_STR, 1, d1, NULL, 0);
    CHECK(id == 0);
    CHECK(tct_writer_append_strings(w, id, bad, NULL, 2) == -1);
    CHECK(strstr(tc_error(), "UTF-8") != NULL);
    CHECK(tct_writer_begin(w, "s", TCT_F32, 1, d1, NULL, 0) == -1);  // duplicate name
    CHECK(tct_writer_begin(w, "", TCT_F32, 1, d1, NULL, 0) == -1);
    CHECK(tct_writer_begin(w, "x", TCT_F32, 2, d2, NULL, 0) == -1);  // inner dimension unknown
    CHECK(tct_writer_begin(w, "y", (tct_dtype)99, 1, d1, NULL, 0) == -1);
    int z = tct_writer_begin(w, "z", TCT_F32, 1, d1, NULL, 0);
    float three[3] = {1, 2, 3};
    CHECK(tct_writer_append(w, z, three, 3) == -1);  // beyond the declared 2 rows
    CHECK(tct_writer_append(w, z, three, 1) == 0);
    CHECK(tct_writer_end(w, z) == -1);              // fewer rows than declared
    tct_writer_abort(w);
    fclose(f);
}

static void test_write_errors_are_reported(void) {
    // disk full
    FILE *f = fopen("/dev/full", "wb");
    if (!f) SKIP("/dev/full is missing");
    setvbuf(f, NULL, _IONBF, 0);
    tct_writer *w;
    int rc = tct_writer_open(&w, f, "full", NULL, 0, NULL);
    if (rc == 0) {
        uint64_t d[1] = {1000};
        float x[1000] = {0};
        rc = tct_writer_tensor(w, "x", TCT_F32, 1, d, x, NULL, 0);
        if (rc) tct_writer_abort(w);
        else rc = tct_writer_close(w);
    }
    CHECK(rc == -1);
    CHECKF(strstr(tc_error(), "No space left") != NULL, "%s", tc_error());
    fclose(f);

    // the reading end of a pipe goes away
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    close(fds[0]);
    signal(SIGPIPE, SIG_IGN);
    f = fdopen(fds[1], "wb");
    rc = tct_writer_open(&w, f, "pipe", NULL, 0, NULL);
    if (rc == 0) {
        rc = tct_writer_close(w);
    }
    CHECK(rc == -1);
    CHECKF(strstr(tc_error(), "Broken pipe") != NULL, "%s", tc_error());
    fclose(f);
}

static void test_npy_header(void) {
    char h[128];
    uint64_t dims[2] = {3, 384};
    REQUIRE(tct_npy_header(h, sizeof h, "<f4", 2, dims) == 0);
    CHECK(!memcmp(h, "\x93NUMPY\x01\x00", 8));
    CHECK(h[8] == 118 && h[9] == 0);
    CHECK(h[127] == '\n');
    CHECK(strstr(h + 10, "'shape': (3, 384)") != NULL);
    uint64_t one[1] = {7};
    REQUIRE(tct_npy_header(h, sizeof h, "<i4", 1, one) == 0);
    CHECK(strstr(h + 10, "'shape': (7,)") != NULL);
}

static void test_utf8_validation(void) {
    CHECK(tct_utf8_valid("plain", 5));
    CHECK(tct_utf8_valid("\xe6\x97\xa5\xf0\x9f\x98\x80", 7));
    CHECK(!tct_utf8_valid("\xc0\xaf", 2));          // overlong
    CHECK(!tct_utf8_valid("\xed\xa0\x80", 3));      // surrogate
    CHECK(!tct_utf8_valid("\xf4\x90\x80\x80", 4));  // beyond U+10FFFF
    CHECK(!tct_utf8_valid("\xe6\x97", 2));          // cut short
}

int main(void) {
    RUN(test_round_trip_every_dtype);
    RUN(test_half_conversions);
    RUN(test_interleaved_table);
    RUN(test_table_missing_tensor);
    RUN(test_table_reads_to_the_end);
    RUN(test_large_record);
    RUN(test_truncation_at_every_offset);
    RUN(test_bit_flips);
    RUN(test_random_damage);
    RUN(test_wrong_magic_and_version);
    RUN(test_writer_refuses_bad_input);
    RUN(test_write_errors_are_reported);
    RUN(test_npy_header);
    RUN(test_utf8_validation);
    RUN(test_strings_with_nul_refused);
    HARNESS_EXIT();
}
