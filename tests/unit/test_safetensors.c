// safetensors: round trips of F32/F16/BF16, lookups, and every kind of
// damaged or unexpected file, each refused with a message naming the file.
#include "tests/harness.h"
#include "tests/ensure.h"
#include "common/error.h"
#include "common/model/safetensors.h"

#include <math.h>
#include <stdint.h>

static char path[1024];

static const char *tmp_path(const char *name) {
    snprintf(path, sizeof path, "%s/%s", harness_tmpdir(), name);
    return path;
}

// A file from a raw header and data bytes.
static void write_raw(const char *file, const char *header, const void *data, size_t data_size) {
    FILE *f = fopen(file, "wb");
    uint64_t n = strlen(header);
    for (int i = 0; i < 8; i++) fputc((int)(n >> (8 * i)) & 0xff, f);
    fwrite(header, 1, n, f);
    if (data_size) fwrite(data, 1, data_size, f);
    fclose(f);
}

static int open_fails_with(const char *file, const char *needle) {
    tc_safetensors st;
    if (tc_safetensors_open(&st, file) == 0) {
        tc_safetensors_close(&st);
        printf("  %s opened\n", file);
        return 0;
    }
    if (!strstr(tc_error(), needle) || !strstr(tc_error(), file)) {
        printf("  message: %s\n", tc_error());
        return 0;
    }
    return 1;
}

static void test_round_trip(void) {
    float a[6] = {1.5f, -2.25f, 0, 1e-3f, 65504.0f, -7}, b[3] = {0.1f, 0.2f, 0.3f};
    tc_st_write_tensor t[3] = {
        {.name = "a.weight", .rank = 2, .shape = {2, 3}, .data = a},
        {.name = "b", .rank = 1, .shape = {3}, .data = b, .dtype = TC_ST_F16},
        {.name = "c", .rank = 1, .shape = {3}, .data = b, .dtype = TC_ST_BF16},
    };
    const char *meta[2] = {"format", "pt"};
    const char *file = tmp_path("rt.safetensors");
    ENSURE(tc_safetensors_write(file, t, 3, meta, 1) == 0);
    tc_safetensors st;
    ENSURE(tc_safetensors_open(&st, file) == 0);
    CHECK(st.n_tensors == 3);
    const tc_st_tensor *x = tc_safetensors_find(&st, "a.weight");
    ENSURE(x);
    CHECK(x->dtype == TC_ST_F32 && x->rank == 2 && x->shape[0] == 2 && x->shape[1] == 3 && x->count == 6);
    CHECK(tc_safetensors_find(&st, "missing") == NULL);
    float got[6];
    int64_t shape23[2] = {2, 3}, shape3[1] = {3};
    CHECK(tc_safetensors_read_f32(&st, "a.weight", 2, shape23, got) == 0 && !memcmp(got, a, sizeof a));
    CHECK(tc_safetensors_read_f32(&st, "b", 1, shape3, got) == 0);
    CHECK_CLOSE("f16", got, b, 3, 0, 1e-3);
    CHECK(tc_safetensors_read_f32(&st, "c", 1, shape3, got) == 0);
    CHECK_CLOSE("bf16", got, b, 3, 0, 8e-3);
    // the header is padded so that the data starts 8-byte aligned
    const unsigned char *m = st.map;
    uint64_t header = 0;
    for (int i = 7; i >= 0; i--) header = header << 8 | m[i];
    CHECK(header % 8 == 0);
    tc_safetensors_close(&st);
}

static void test_shape_and_lookup_errors(void) {
    float a[6] = {0};
    int64_t i64[2] = {1, 2};
    tc_st_write_tensor t = {.name = "a", .rank = 2, .shape = {2, 3}, .data = a};
    const char *file = tmp_path("shape.safetensors");
    ENSURE(tc_safetensors_write(file, &t, 1, NULL, 0) == 0);
    tc_safetensors st;
    ENSURE(tc_safetensors_open(&st, file) == 0);
    float got[6];
    int64_t want[2] = {3, 2};
    CHECK(tc_safetensors_read_f32(&st, "a", 2, want, got) == -1);
    CHECKF(strstr(tc_error(), "tensor 'a' has shape [2,3], expected [3,2]") && strstr(tc_error(), file), "%s",
           tc_error());
    CHECK(tc_safetensors_read_f32(&st, "nope", 2, want, got) == -1);
    CHECKF(strstr(tc_error(), "no tensor 'nope'"), "%s", tc_error());
    tc_safetensors_close(&st);
    // integer tensors are indexed but not read as weights
    const char *ifile = tmp_path("int.safetensors");
    write_raw(ifile, "{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", i64, sizeof i64);
    ENSURE(tc_safetensors_open(&st, ifile) == 0);
    int64_t two[1] = {2};
    CHECK(tc_safetensors_read_f32(&st, "ids", 1, two, got) == -1);
    CHECKF(strstr(tc_error(), "is I64"), "%s", tc_error());
    tc_safetensors_close(&st);
}

static void test_damaged_files(void) {
    char data[64] = {0};
    const char *file = tmp_path("bad.safetensors");
    FILE *f = fopen(file, "wb");
    fputs("abc", f);
    fclose(f);
    CHECK(open_fails_with(file, "not a safetensors file"));
    f = fopen(file, "wb");
    fputs("\xff\xff\xff\xff\xff\xff\xff\x7f{}", f);
    fclose(f);
    CHECK(open_fails_with(file, "header length"));
    write_raw(file, "{not json", NULL, 0);
    CHECK(open_fails_with(file, "not JSON"));
    write_raw(file, "[1,2]", NULL, 0);
    CHECK(open_fails_with(file, "not a JSON object"));
    write_raw(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", data, 8);
    CHECK(open_fails_with(file, "outside the file"));
    write_raw(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,12]}}", data, 16);
    CHECK(open_fails_with(file, "12 bytes of data for 4 elements"));
    write_raw(file, "{\"a\":{\"dtype\":\"Q4\",\"shape\":[4],\"data_offsets\":[0,16]}}", data, 16);
    CHECK(open_fails_with(file, "unknown dtype 'Q4'"));
    write_raw(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,16]}}", data, 16);
    CHECK(open_fails_with(file, "bad shape"));
    write_raw(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4]}}", data, 16);
    CHECK(open_fails_with(file, "lacks dtype, shape or data_offsets"));
    write_raw(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,4]}}", data, 16);
    CHECK(open_fails_with(file, "outside the file"));
    CHECK(open_fails_with(tmp_path("does-not-exist.safetensors"), "cannot open"));
    CHECK(open_fails_with(harness_tmpdir(), "not a regular file"));
    // metadata and an empty tensor are fine
    write_raw(file, "{\"__metadata__\":{\"format\":\"pt\"},\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]}}",
              NULL, 0);
    tc_safetensors st;
    CHECK(tc_safetensors_open(&st, file) == 0 && st.n_tensors == 1 && st.tensors[0].count == 0);
    tc_safetensors_close(&st);
}

// Data ranges that share bytes, names given twice, shapes whose product
// wraps: each refused at open, naming the file.
static void test_crafted_headers(void) {
    char data[64] = {0};
    const char *file = tmp_path("crafted.safetensors");
    write_raw(file,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}",
              data, 24);
    CHECK(open_fails_with(file, "tensors 'a' and 'b' overlap"));
    // the same range twice, and one range inside another listed first
    write_raw(file,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]}}",
              data, 32);
    CHECK(open_fails_with(file, "overlap"));
    write_raw(file,
              "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]},"
              "\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
              data, 8);
    CHECK(open_fails_with(file, "overlap"));
    write_raw(file,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
              "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
              data, 8);
    CHECK(open_fails_with(file, "duplicate"));
    // 2^40 x 2^40 elements would wrap to 0 and match an empty range
    write_raw(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,0]}}",
              NULL, 0);
    CHECK(open_fails_with(file, "shape too large"));
    write_raw(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[-4,12]}}", data, 16);
    CHECK(open_fails_with(file, "outside the file"));
    write_raw(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16.5]}}", data, 16);
    CHECK(open_fails_with(file, "outside the file"));
    write_raw(file, "", NULL, 0);
    CHECK(open_fails_with(file, "not JSON"));
    // adjacent ranges, and empty tensors anywhere (they occupy nothing), are fine
    write_raw(file,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
              "\"z\":{\"dtype\":\"F32\",\"shape\":[3,0],\"data_offsets\":[8,8]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
              data, 16);
    tc_safetensors st;
    CHECKF(tc_safetensors_open(&st, file) == 0, "%s", tc_error());
    tc_safetensors_close(&st);
}

// A NaN or an infinity among the values is refused when they are read,
// naming the tensor and the element, whatever the stored dtype.
static void test_non_finite_values(void) {
    float v[4] = {0.5f, 1, NAN, 2};
    const char *file = tmp_path("nan.safetensors");
    tc_st_write_tensor t[3] = {
        {.name = "w", .rank = 1, .shape = {4}, .data = v},
        {.name = "h", .rank = 1, .shape = {4}, .data = v, .dtype = TC_ST_BF16},
    };
    ENSURE(tc_safetensors_write(file, t, 2, NULL, 0) == 0);
    tc_safetensors st;
    ENSURE(tc_safetensors_open(&st, file) == 0);
    float got[4];
    int64_t four[1] = {4};
    CHECK(tc_safetensors_read_f32(&st, "w", 1, four, got) == -1);
    CHECKF(strstr(tc_error(), file) && strstr(tc_error(), "tensor 'w' holds NaN at element 2 of 4"), "%s", tc_error());
    CHECK(tc_safetensors_read_f32(&st, "h", 1, four, got) == -1 && strstr(tc_error(), "tensor 'h' holds NaN"));
    tc_safetensors_close(&st);
    v[2] = INFINITY;
    t[0].dtype = TC_ST_F16;
    ENSURE(tc_safetensors_write(file, t, 1, NULL, 0) == 0);
    ENSURE(tc_safetensors_open(&st, file) == 0);
    CHECK(tc_safetensors_read_f32(&st, "w", 1, four, got) == -1);
    CHECKF(strstr(tc_error(), "tensor 'w' holds an infinite value at element 2"), "%s", tc_error());
    tc_safetensors_close(&st);
    // F64 is read; a value beyond f32's range is infinite there
    double d[2] = {0.25, -3};
    write_raw(file, "{\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}", d, sizeof d);
    ENSURE(tc_safetensors_open(&st, file) == 0);
    int64_t two[1] = {2};
    CHECK(tc_safetensors_read_f32(&st, "d", 1, two, got) == 0 && got[0] == 0.25f && got[1] == -3.0f);
    tc_safetensors_close(&st);
    d[1] = 1e300;
    write_raw(file, "{\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}", d, sizeof d);
    ENSURE(tc_safetensors_open(&st, file) == 0);
    CHECK(tc_safetensors_read_f32(&st, "d", 1, two, got) == -1 && strstr(tc_error(), "infinite value at element 1"));
    tc_safetensors_close(&st);
}

int main(void) {
    RUN(test_round_trip);
    RUN(test_shape_and_lookup_errors);
    RUN(test_damaged_files);
    RUN(test_crafted_headers);
    RUN(test_non_finite_values);
    HARNESS_EXIT();
}
