// Embeddings files as tc-encode writes them: doc_ids str[N] + embeddings
// f32|f16|bf16 [N,D], streamed in batches of f32 rows (values that are not
// finite numbers are refused), memory bounded by the batch.
#ifndef TC_EMBEDDING_STREAM_H
#define TC_EMBEDDING_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "formats/tct.h"

typedef struct {
    const char *path;
    FILE *f;
    tct_reader *reader;
    tct_table *table;
    int d;                  // width, known after the first batch (0 before)
    uint64_t row;           // rows returned so far
    float *x;               // the current batch as f32
    size_t cap;
    char **ids;             // the current batch's ids (copies)
    size_t ids_cap;
} tc_embedding_stream;

int tc_embedding_stream_open(tc_embedding_stream *s, const char *path);
// Up to max_rows rows: returns the count (0 at the end, -1 on error). ids and
// x stay valid until the next call.
int64_t tc_embedding_stream_next(tc_embedding_stream *s, uint64_t max_rows, char *const **ids, const float **x);
void tc_embedding_stream_close(tc_embedding_stream *s);

// Converts count values of an f32/f16/bf16 buffer to f32; returns 0, or 1 +
// the index of the first value that is not finite.
int64_t tc_embeddings_to_f32(tct_dtype dtype, const void *data, size_t count, float *out);

#endif
