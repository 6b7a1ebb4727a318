#include "common/model/safetensors.h"
#include "common/error.h"
#include "common/cli/io.h"
#include "formats/tct.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// A header larger than this is not a weights file (real ones are < 1 MB).
#define MAX_HEADER_BYTES (100u << 20)
// Elements of one tensor at most, and of each dimension.
#define MAX_ELEMENTS (1ll << 40)

static const struct {
    const char *name;
    tc_st_dtype dtype;
    size_t size;
} dtypes[] = {
    {"F32", TC_ST_F32, 4}, {"F16", TC_ST_F16, 2}, {"BF16", TC_ST_BF16, 2}, {"F64", TC_ST_F64, 8},
    {"I64", TC_ST_I64, 8}, {"I32", TC_ST_I32, 4}, {"I16", TC_ST_I16, 2},  {"I8", TC_ST_I8, 1},
    {"U8", TC_ST_U8, 1},   {"BOOL", TC_ST_BOOL, 1},
};
enum { N_DTYPES = sizeof dtypes / sizeof dtypes[0] };

const char *tc_st_dtype_name(tc_st_dtype dtype) {
    for (int i = 0; i < N_DTYPES; i++)
        if (dtypes[i].dtype == dtype) return dtypes[i].name;
    return "?";
}

size_t tc_st_dtype_size(tc_st_dtype dtype) {
    for (int i = 0; i < N_DTYPES; i++)
        if (dtypes[i].dtype == dtype) return dtypes[i].size;
    return 0;
}

void tc_st_shape_text(char *buf, size_t size, int rank, const int64_t *shape) {
    size_t at = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%lld", i ? "," : "", (long long)shape[i]);
    if (at < size) snprintf(buf + at, size - at, "]");
}

// One header entry: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}.
static int parse_entry(tc_st_tensor *t, const char *name, json_t *entry, const unsigned char *data,
                       uint64_t data_size) {
    json_t *dtype = json_object_get(entry, "dtype"), *shape = json_object_get(entry, "shape"),
           *offsets = json_object_get(entry, "data_offsets");
    if (!json_is_string(dtype) || !json_is_array(shape) || !json_is_array(offsets) || json_array_size(offsets) != 2)
        return tc_fail("tensor '%s': header entry lacks dtype, shape or data_offsets", name);
    const char *dt = json_string_value(dtype);
    size_t elem = 0;
    for (int i = 0; i < N_DTYPES; i++)
        if (!strcmp(dt, dtypes[i].name)) t->dtype = dtypes[i].dtype, elem = dtypes[i].size;
    if (!elem) return tc_fail("tensor '%s': unknown dtype '%s'", name, dt);
    if (json_array_size(shape) > TC_ST_MAX_RANK) return tc_fail("tensor '%s': rank above %d", name, TC_ST_MAX_RANK);
    t->rank = (int)json_array_size(shape);
    uint64_t count = 1;
    int empty = 0;  // a zero dimension: the other dimensions are then bounded alone
    for (int i = 0; i < t->rank; i++) {
        json_t *d = json_array_get(shape, (size_t)i);
        if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > MAX_ELEMENTS)
            return tc_fail("tensor '%s': bad shape", name);
        t->shape[i] = json_integer_value(d);
        if (t->shape[i] == 0) empty = 1;
        else if (count > (uint64_t)MAX_ELEMENTS / (uint64_t)t->shape[i])  // before the product can wrap
            return tc_fail("tensor '%s': shape too large", name);
        else count *= (uint64_t)t->shape[i];
    }
    if (empty) count = 0;
    json_t *b = json_array_get(offsets, 0), *e = json_array_get(offsets, 1);
    if (!json_is_integer(b) || !json_is_integer(e) || json_integer_value(b) < 0 ||
        json_integer_value(e) < json_integer_value(b) || (uint64_t)json_integer_value(e) > data_size)
        return tc_fail("tensor '%s': data_offsets outside the file (truncated?)", name);
    uint64_t begin = (uint64_t)json_integer_value(b), end = (uint64_t)json_integer_value(e);
    if (end - begin != count * elem)
        return tc_fail("tensor '%s': %llu bytes of data for %llu elements of %s", name,
                       (unsigned long long)(end - begin), (unsigned long long)count, dt);
    t->count = count;
    t->data = data + begin;
    t->bytes = (size_t)(end - begin);
    t->name = strdup(name);
    return t->name ? 0 : tc_fail("out of memory");
}

static int by_offset(const void *a, const void *b) {
    const tc_st_tensor *x = *(const tc_st_tensor *const *)a, *y = *(const tc_st_tensor *const *)b;
    if (x->data != y->data) return (const char *)x->data < (const char *)y->data ? -1 : 1;
    return x->bytes < y->bytes ? -1 : x->bytes > y->bytes;
}

// No two tensors share a byte: a tensor written over another is a damaged
// (or crafted) file, and reading both would give one of them the other's
// values. Empty tensors occupy nothing.
static int check_overlaps(const tc_safetensors *st) {
    if (st->n_tensors < 2) return 0;
    const tc_st_tensor **sorted = tc_malloc_array(st->n_tensors, sizeof *sorted);
    if (!sorted) return -1;
    for (size_t i = 0; i < st->n_tensors; i++) sorted[i] = &st->tensors[i];
    qsort(sorted, st->n_tensors, sizeof *sorted, by_offset);
    const tc_st_tensor *last = NULL;  // the non-empty tensor reaching furthest so far
    int rc = 0;
    for (size_t i = 0; i < st->n_tensors && !rc; i++) {
        const tc_st_tensor *t = sorted[i];
        if (!t->bytes) continue;
        const char *begin = t->data;
        if (last && begin < (const char *)last->data + last->bytes)
            rc = tc_fail("tensors '%s' and '%s' overlap in the data section", last->name, t->name);
        if (!last || begin + t->bytes > (const char *)last->data + last->bytes) last = t;
    }
    free(sorted);
    return rc;
}

static int parse_header(tc_safetensors *st, const char *text, size_t size, const unsigned char *data,
                        uint64_t data_size) {
    json_error_t err;
    json_t *root = json_loadb(text, size, JSON_REJECT_DUPLICATES, &err);
    if (!root) return tc_fail("header is not JSON (%s at byte %d)", err.text, err.position);
    int rc = 0;
    if (!json_is_object(root)) rc = tc_fail("header is not a JSON object");
    size_t n = rc ? 0 : json_object_size(root);
    st->tensors = rc ? NULL : tc_calloc(n ? n : 1, sizeof *st->tensors);
    if (!rc && !st->tensors) rc = -1;
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        if (rc) break;
        if (!strcmp(key, "__metadata__")) continue;
        if (!json_is_object(value)) rc = tc_fail("tensor '%s': header entry is not an object", key);
        else rc = parse_entry(&st->tensors[st->n_tensors], key, value, data, data_size);
        if (!rc) st->n_tensors++;
    }
    json_decref(root);
    return rc ? rc : check_overlaps(st);
}

int tc_safetensors_open(tc_safetensors *st, const char *path) {
    memset(st, 0, sizeof *st);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return tc_fail("%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return tc_fail("%s: not a regular file", path);
    }
    if (sb.st_size < 8) {
        close(fd);
        return tc_fail("%s: not a safetensors file (%lld bytes)", path, (long long)sb.st_size);
    }
    st->map_size = (size_t)sb.st_size;
    st->map = mmap(NULL, st->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (st->map == MAP_FAILED) {
        st->map = NULL;
        return tc_fail("%s: cannot map: %s", path, strerror(errno));
    }
    st->path = strdup(path);
    const unsigned char *p = st->map;
    uint64_t header = 0;
    for (int i = 7; i >= 0; i--) header = header << 8 | p[i];
    int rc = 0;
    if (!st->path) rc = tc_fail("out of memory");
    else if (header > MAX_HEADER_BYTES || header > st->map_size - 8)
        rc = tc_fail("%s: not a safetensors file (header length %llu, file %zu bytes)", path,
                     (unsigned long long)header, st->map_size);
    else if (parse_header(st, (const char *)p + 8, (size_t)header, p + 8 + header, st->map_size - 8 - header))
        rc = tc_fail_context("%s", path);
    if (rc) tc_safetensors_close(st);
    return rc;
}

void tc_safetensors_close(tc_safetensors *st) {
    for (size_t i = 0; i < st->n_tensors; i++) free(st->tensors[i].name);
    free(st->tensors);
    if (st->map) munmap(st->map, st->map_size);
    free(st->path);
    memset(st, 0, sizeof *st);
}

const tc_st_tensor *tc_safetensors_find(const tc_safetensors *st, const char *name) {
    for (size_t i = 0; i < st->n_tensors; i++)
        if (!strcmp(st->tensors[i].name, name)) return &st->tensors[i];
    return NULL;
}

// One NaN or infinity in a weight spreads through every product it enters:
// the outputs would be all NaN with nothing said, so the load refuses it
// (one pass over values just read, cheap beside any use of them).
static int check_finite(const tc_safetensors *st, const tc_st_tensor *t, const float *values) {
    for (uint64_t i = 0; i < t->count; i++)
        if (!isfinite(values[i]))
            return tc_fail("%s: tensor '%s' holds %s at element %llu of %llu: the weights are damaged", st->path,
                           t->name, isnan(values[i]) ? "NaN" : "an infinite value", (unsigned long long)i,
                           (unsigned long long)t->count);
    return 0;
}

int tc_safetensors_read_f32(const tc_safetensors *st, const char *name, int rank, const int64_t *shape,
                            float *dst) {
    const tc_st_tensor *t = tc_safetensors_find(st, name);
    if (!t) return tc_fail("%s: no tensor '%s'", st->path, name);
    int same = t->rank == rank;
    for (int i = 0; same && i < rank; i++) same = t->shape[i] == shape[i];
    if (!same) {
        char got[128], want[128];
        tc_st_shape_text(got, sizeof got, t->rank, t->shape);
        tc_st_shape_text(want, sizeof want, rank, shape);
        return tc_fail("%s: tensor '%s' has shape %s, expected %s", st->path, name, got, want);
    }
    const unsigned char *src = t->data;
    switch (t->dtype) {
    case TC_ST_F32: memcpy(dst, src, t->bytes); break;
    case TC_ST_F16:
    case TC_ST_BF16:
        for (uint64_t i = 0; i < t->count; i++) {
            uint16_t h = (uint16_t)(src[2 * i] | src[2 * i + 1] << 8);
            dst[i] = t->dtype == TC_ST_F16 ? tct_f16_to_f32(h) : tct_bf16_to_f32(h);
        }
        break;
    case TC_ST_F64:
        for (uint64_t i = 0; i < t->count; i++) {
            double d;
            memcpy(&d, src + 8 * i, 8);
            // beyond f32's range: infinite (a plain cast would be undefined), refused below
            dst[i] = isnan(d) ? NAN : fabs(d) <= FLT_MAX ? (float)d : d > 0 ? INFINITY : -INFINITY;
        }
        break;
    default:
        return tc_fail("%s: tensor '%s' is %s; weights must be F32, F16, BF16 or F64", st->path, name,
                       tc_st_dtype_name(t->dtype));
    }
    return check_finite(st, t, dst);
}

// ---------------------------------------------------------------- writer

static char *header_json(const tc_st_write_tensor *tensors, size_t n, const char *const *metadata,
                         size_t n_metadata) {
    json_t *root = json_object();
    uint64_t offset = 0;
    if (n_metadata) {
        json_t *meta = json_object();
        for (size_t i = 0; i < n_metadata; i++) json_object_set_new(meta, metadata[2 * i], json_string(metadata[2 * i + 1]));
        json_object_set_new(root, "__metadata__", meta);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *entry = json_object(), *shape = json_array();
        uint64_t count = 1;
        for (int d = 0; d < tensors[i].rank; d++) {
            json_array_append_new(shape, json_integer(tensors[i].shape[d]));
            count *= (uint64_t)tensors[i].shape[d];
        }
        tc_st_dtype dtype = tensors[i].dtype ? tensors[i].dtype : TC_ST_F32;
        size_t bytes = count * tc_st_dtype_size(dtype);
        json_object_set_new(entry, "dtype", json_string(tc_st_dtype_name(dtype)));
        json_object_set_new(entry, "shape", shape);
        json_object_set_new(entry, "data_offsets", json_pack("[II]", (json_int_t)offset, (json_int_t)(offset + bytes)));
        json_object_set_new(root, tensors[i].name, entry);
        offset += bytes;
    }
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    return text;
}

static int write_data(FILE *f, const tc_st_write_tensor *t) {
    uint64_t count = 1;
    for (int d = 0; d < t->rank; d++) count *= (uint64_t)t->shape[d];
    if (!t->dtype || t->dtype == TC_ST_F32) return count == 0 || fwrite(t->data, 4, count, f) == count ? 0 : -1;
    for (uint64_t i = 0; i < count; i++) {
        uint16_t h = t->dtype == TC_ST_F16 ? tct_f32_to_f16(t->data[i]) : tct_f32_to_bf16(t->data[i]);
        if (fputc(h & 0xff, f) == EOF || fputc(h >> 8, f) == EOF) return -1;
    }
    return 0;
}

int tc_safetensors_write(const char *path, const tc_st_write_tensor *tensors, size_t n,
                         const char *const *metadata, size_t n_metadata) {
    char *text = header_json(tensors, n, metadata, n_metadata);
    if (!text) return tc_fail("%s: cannot build the header", path);
    size_t len = strlen(text), padded = (len + 7) / 8 * 8;  // data starts 8-byte aligned
    tc_output out;
    if (tc_output_open(&out, path, 1, 1)) {
        free(text);
        return -1;
    }
    unsigned char size_bytes[8];
    for (int i = 0; i < 8; i++) size_bytes[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    int ok = fwrite(size_bytes, 8, 1, out.f) == 1 && fwrite(text, len, 1, out.f) == 1;
    for (size_t i = len; ok && i < padded; i++) ok = fputc(' ', out.f) != EOF;
    for (size_t i = 0; ok && i < n; i++) ok = write_data(out.f, &tensors[i]) == 0;
    free(text);
    if (!ok) {
        tc_output_abort(&out);
        return tc_fail("%s: write failed: %s", path, strerror(errno));
    }
    return tc_output_commit(&out);
}
