// safetensors files (Hugging Face weights): an 8-byte little-endian header
// length, a JSON header naming each tensor's dtype, shape and byte range, then
// the raw row-major data. The reader memory-maps the file and checks every
// entry against the file size before anything is read; the writer produces
// files that `safetensors.torch.load_file` reads (tests make tiny models with
// it, tc-train writes its checkpoints with it).
#ifndef TC_SAFETENSORS_H
#define TC_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

enum { TC_ST_MAX_RANK = 8 };

typedef enum {
    TC_ST_F32 = 1,
    TC_ST_F16,
    TC_ST_BF16,
    TC_ST_F64,
    TC_ST_I64,
    TC_ST_I32,
    TC_ST_I16,
    TC_ST_I8,
    TC_ST_U8,
    TC_ST_BOOL,
} tc_st_dtype;

typedef struct {
    char *name;
    tc_st_dtype dtype;
    int rank;
    int64_t shape[TC_ST_MAX_RANK];
    uint64_t count;          // elements
    const void *data;        // inside the mapping; not aligned in general
    size_t bytes;
} tc_st_tensor;

typedef struct {
    char *path;
    void *map;
    size_t map_size;
    size_t n_tensors;
    tc_st_tensor *tensors;
} tc_safetensors;

const char *tc_st_dtype_name(tc_st_dtype dtype);   // "F32", ...
size_t tc_st_dtype_size(tc_st_dtype dtype);

// Maps and indexes the file; errors name the path and what is wrong: a
// header length beyond the file or 100 MB, a header that is not a JSON object
// (or names a tensor twice), an unknown dtype, a shape of more than 2^40
// elements, data offsets outside the data section, not dtype x shape bytes
// long, or overlapping another tensor's.
int tc_safetensors_open(tc_safetensors *st, const char *path);
void tc_safetensors_close(tc_safetensors *st);

// The tensor of that name, or NULL (no error recorded).
const tc_st_tensor *tc_safetensors_find(const tc_safetensors *st, const char *name);

// Copies a tensor into dst as f32 (F32, F16, BF16 and F64 are read) after
// checking that its shape is `shape[rank]`; the error names the file, the
// tensor and both shapes. A NaN or infinite value is refused, naming the
// tensor and the element.
int tc_safetensors_read_f32(const tc_safetensors *st, const char *name, int rank, const int64_t *shape,
                            float *dst);

// "[384,1536]" into buf.
void tc_st_shape_text(char *buf, size_t size, int rank, const int64_t *shape);

// ---------------------------------------------------------------- writer

typedef struct {
    const char *name;
    int rank;
    int64_t shape[TC_ST_MAX_RANK];
    const float *data;       // f32 values, row-major
    tc_st_dtype dtype;       // stored as: TC_ST_F32 (or 0), TC_ST_F16, TC_ST_BF16
} tc_st_write_tensor;

// Writes tensors (in the order given) with optional string metadata
// (`metadata` key-value pairs, may be NULL), atomically: a temporary file,
// then a rename.
int tc_safetensors_write(const char *path, const tc_st_write_tensor *tensors, size_t n,
                         const char *const *metadata, size_t n_metadata);

#endif
