// Writes a label file (common/taxonomy/labels.h layout) one document at a time, so a
// program's memory stays bounded by its batch:
//   doc_ids str[N], label_offsets i64[N+1], label_classes i32[nnz],
//   label_scores f32[nnz] (optional), label_core u8[nnz] (optional: 1 for a
//   core class, 0 for an ancestor added to it).
#ifndef TC_LABEL_STREAM_H
#define TC_LABEL_STREAM_H

#include <stdint.h>

#include "formats/tct.h"

typedef struct {
    tct_writer *writer;
    int ids, offsets, classes, scores, core;   // tensor ids, -1 when absent
    int64_t nnz;
    uint64_t docs;
} tc_label_stream;

// attrs go on label_classes (what the labels are, how they were chosen).
int tc_label_stream_begin(tc_label_stream *s, tct_writer *writer, int with_scores, int with_core,
                          const tct_attr *attrs, size_t n_attrs);
int tc_label_stream_add(tc_label_stream *s, const char *doc_id, const int32_t *classes, const float *scores,
                        const uint8_t *is_core, int n);
int tc_label_stream_end(tc_label_stream *s);

#endif
