// The teleclass tensor stream (.tct): a sequence of named tensors in a file or
// a pipe, written and read front to back, never seeking. Byte layout:
// formats/README.md and tct(5).
//
// Writing: open, begin one or more tensors, append rows to any begun tensor
// (several may be open at once: a tokens file streams doc_ids, input_ids and
// lengths side by side), end each, close. Rows are buffered per tensor and
// flushed as compressed chunks, so memory is bounded by the chunk size.
//
// Reading: tct_reader_next() returns one event at a time (a tensor begins, a
// chunk of its rows, it ends, the stream ends). tct_table reads several
// tensors that share their first dimension as aligned row batches, and
// tct_bundle loads a whole (small) file into memory.
//
// All functions return 0 (or a count) on success and -1 on failure, with the
// reason in tc_error() (common/error.h). Messages name the byte offset in the
// stream where a problem was found.
#ifndef TC_TCT_H
#define TC_TCT_H

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>

#define TCT_VERSION_MAJOR 1
#define TCT_VERSION_MINOR 0
#define TCT_MAX_RANK 8
#define TCT_ROWS_UNKNOWN UINT64_MAX   // dims[0] of a tensor whose length is not known at begin
#define TCT_DEFAULT_LEVEL 3           // zstd level
#define TCT_DEFAULT_CHUNK_BYTES (4u << 20)

typedef enum {
    TCT_F32 = 1,
    TCT_F16 = 2,
    TCT_BF16 = 3,
    TCT_I8 = 4,
    TCT_U8 = 5,
    TCT_I32 = 6,
    TCT_I64 = 7,
    TCT_STR = 8,  // UTF-8 strings, one per element
} tct_dtype;

size_t tct_dtype_size(tct_dtype dtype);          // bytes per element; 0 for TCT_STR
const char *tct_dtype_name(tct_dtype dtype);     // "f32", ..., "str"; "?" if unknown
int tct_dtype_parse(const char *name, tct_dtype *dtype);

typedef struct {
    const char *key;
    const char *value;
} tct_attr;

// A tensor as the reader knows it so far.
typedef struct {
    int id;                         // order of its begin record in the stream
    char *name;
    tct_dtype dtype;
    int rank;
    uint64_t dims[TCT_MAX_RANK];    // dims[0] is TCT_ROWS_UNKNOWN until its end if not given
    uint64_t row_elements;          // product of dims[1..rank-1] (1 for rank <= 1)
    size_t n_attrs;
    tct_attr *attrs;
    uint64_t rows_seen;             // rows in chunks read so far
    uint64_t raw_bytes;             // decompressed data bytes so far
    uint64_t compressed_bytes;      // bytes of its frames in the stream so far
    int ended;
} tct_tensor_info;

// Value of an attribute, or NULL.
const char *tct_attr_get(const tct_attr *attrs, size_t n_attrs, const char *key);

// ---------------------------------------------------------------- writer

typedef struct tct_writer tct_writer;

typedef struct {
    int level;              // zstd level (0 = default)
    size_t chunk_bytes;     // flush a tensor's rows once this much is buffered (0 = default)
} tct_writer_options;

// Starts a stream on f (not closed by the writer). `where` names the
// destination in messages. `provenance` are key-value pairs recorded in the
// stream header (program, version, arguments: see common/cli/cli.h).
int tct_writer_open(tct_writer **writer, FILE *f, const char *where,
                    const tct_attr *provenance, size_t n_provenance,
                    const tct_writer_options *options);

// Begins a tensor; returns its id (>= 0) or -1. dims[0] may be
// TCT_ROWS_UNKNOWN; rank 0 is a scalar (one row of one element).
int tct_writer_begin(tct_writer *writer, const char *name, tct_dtype dtype,
                     int rank, const uint64_t *dims,
                     const tct_attr *attrs, size_t n_attrs);

// Appends rows to a numeric tensor.
int tct_writer_append(tct_writer *writer, int id, const void *rows, uint64_t n_rows);

// Appends rows to a string tensor: n_rows * row_elements strings, each valid
// UTF-8. lengths may be NULL (then strings are NUL-terminated).
int tct_writer_append_strings(tct_writer *writer, int id, const char *const *strings,
                              const uint32_t *lengths, uint64_t n_rows);

// Writes out the buffered rows of every open tensor now (a producer calls
// this after each batch so that readers see aligned chunks early).
int tct_writer_flush(tct_writer *writer);

// Ends a tensor: its buffered rows are written, then its totals.
int tct_writer_end(tct_writer *writer, int id);

// Begin, append and end in one call for a tensor already in memory.
int tct_writer_tensor(tct_writer *writer, const char *name, tct_dtype dtype,
                      int rank, const uint64_t *dims, const void *data,
                      const tct_attr *attrs, size_t n_attrs);
int tct_writer_string_tensor(tct_writer *writer, const char *name, const char *const *strings,
                             uint64_t count, const tct_attr *attrs, size_t n_attrs);

// Ends the stream (every tensor must have ended), flushes f, frees the
// writer. Returns -1 if this or any earlier write failed.
int tct_writer_close(tct_writer *writer);

// Frees the writer without ending the stream (after an error).
void tct_writer_abort(tct_writer *writer);

// ---------------------------------------------------------------- reader

typedef struct tct_reader tct_reader;

typedef enum {
    TCT_EVENT_BEGIN = 1,   // a tensor begins: tensor is set
    TCT_EVENT_CHUNK,       // rows of a tensor: tensor, rows, data (numeric) or strings
    TCT_EVENT_END,         // a tensor ends: tensor->dims[0] is now its row count
    TCT_EVENT_FINISH,      // the stream ended cleanly
} tct_event_kind;

typedef struct {
    tct_event_kind kind;
    tct_tensor_info *tensor;
    uint64_t rows;                   // CHUNK: rows in it
    const void *data;                // CHUNK, numeric: rows * row_elements values
    size_t data_bytes;
    const uint32_t *string_lengths;  // CHUNK, TCT_STR: rows * row_elements lengths
    const char *string_bytes;        // the strings back to back, not NUL-terminated
    uint64_t offset;                 // byte offset of the record in the stream
} tct_event;

// Reads and checks the stream header. f is not closed by the reader.
// Compressed (.tct) and decompressed (zstdcat of a .tct) streams are both read.
// Every message names `where` once, with the byte offset of the record where
// the problem was found; an empty input is "WHERE: empty file, not a tensor
// stream".
int tct_reader_open(tct_reader **reader, FILE *f, const char *where);

// Next event: returns 1 with *event filled, 0 once FINISH has been returned
// before, -1 on error. Event data stays valid until the next call. FINISH
// comes only when the end record is there and nothing follows it: a stream
// cut short, trailing bytes or a second stream concatenated are errors.
int tct_reader_next(tct_reader *reader, tct_event *event);

const tct_attr *tct_reader_provenance(const tct_reader *reader, size_t *n);
int tct_reader_version_minor(const tct_reader *reader);
int tct_reader_compressed(const tct_reader *reader);  // 1 for zstd frames, 0 for a raw stream
uint64_t tct_reader_offset(const tct_reader *reader);  // bytes consumed so far
const char *tct_reader_where(const tct_reader *reader);  // the name messages give the stream
size_t tct_reader_tensor_count(const tct_reader *reader);
tct_tensor_info *tct_reader_tensor(tct_reader *reader, size_t id);
void tct_reader_close(tct_reader *reader);

// Upper bound on one decompressed record, against hostile input (default 1 GiB).
void tct_reader_set_max_record(tct_reader *reader, uint64_t bytes);

// ---------------------------------------------------------------- table

// Several tensors sharing their first dimension, read as aligned row
// batches. Tensors not named are skipped. Memory: at most a chunk or two per
// column beyond the batch.
typedef struct tct_table tct_table;

typedef struct {
    const tct_tensor_info *tensor;
    const void *data;                 // numeric: rows * row_elements values
    const char *const *strings;       // TCT_STR: rows * row_elements NUL-terminated strings
    const uint32_t *string_lengths;
} tct_column;

// Opens a table over `names`; a name missing from the stream is an error
// naming it. Columns come back in the order of `names`.
int tct_table_open(tct_table **table, tct_reader *reader, const char *const *names, size_t n_names);

// Up to max_rows aligned rows into columns[n_names]; returns the row count,
// 0 at the end of all columns, -1 on error (also when the columns' row
// counts differ). Pointers stay valid until the next call. Before it
// returns 0 it reads the rest of the stream to its end record, so that a
// stream cut short, damaged or followed by anything (another stream) after
// the wanted tensors is an error, never a silent end. Messages name the
// stream (tct_reader_open's `where`): callers need not add it.
int64_t tct_table_next(tct_table *table, uint64_t max_rows, tct_column *columns);

const tct_tensor_info *tct_table_column(const tct_table *table, size_t index);
void tct_table_close(tct_table *table);

// ---------------------------------------------------------------- bundle

// A whole stream in memory: for small files (taxonomies, labels).
typedef struct {
    char *name;
    tct_dtype dtype;
    int rank;
    uint64_t dims[TCT_MAX_RANK];
    uint64_t count;                  // elements
    size_t n_attrs;
    tct_attr *attrs;
    void *data;                      // numeric values, or for strings `char *[count]`
} tct_bundle_tensor;

typedef struct {
    size_t n_tensors;
    tct_bundle_tensor *tensors;
    size_t n_provenance;
    tct_attr *provenance;
} tct_bundle;

int tct_bundle_read(tct_bundle *bundle, FILE *f, const char *where);
int tct_bundle_load(tct_bundle *bundle, const char *path);  // "-" is stdin
const tct_bundle_tensor *tct_bundle_find(const tct_bundle *bundle, const char *name);
// Finds `name` and checks its dtype and rank; the error names the file.
const tct_bundle_tensor *tct_bundle_expect(const tct_bundle *bundle, const char *where,
                                           const char *name, tct_dtype dtype, int rank);
void tct_bundle_free(tct_bundle *bundle);

// ---------------------------------------------------------------- helpers

// Half-precision conversions used by dumps and exports.
float tct_f16_to_f32(uint16_t h);
float tct_bf16_to_f32(uint16_t b);
uint16_t tct_f32_to_f16(float f);

// f32 -> bf16, rounded to nearest even, a NaN kept a quiet NaN. Inline and
// branch-free, so that a loop over an array of them vectorizes (the CPU's
// bf16 products round every operand through it).
static inline uint16_t tct_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16, quiet = (u >> 16) | 0x40u;
    return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? quiet : rounded);
}

// 1 if the bytes are valid UTF-8 (no overlongs, surrogates, or > U+10FFFF).
int tct_utf8_valid(const char *s, size_t n);

#endif
