#include "common/taxonomy/label_stream.h"
#include "common/error.h"

int tc_label_stream_begin(tc_label_stream *s, tct_writer *w, int with_scores, int with_core, const tct_attr *attrs,
                          size_t n_attrs) {
    uint64_t rows[1] = {TCT_ROWS_UNKNOWN};
    s->writer = w;
    s->nnz = 0;
    s->docs = 0;
    s->scores = s->core = -1;
    s->ids = tct_writer_begin(w, "doc_ids", TCT_STR, 1, rows, NULL, 0);
    s->offsets = tct_writer_begin(w, "label_offsets", TCT_I64, 1, rows, NULL, 0);
    s->classes = tct_writer_begin(w, "label_classes", TCT_I32, 1, rows, attrs, n_attrs);
    if (with_scores) s->scores = tct_writer_begin(w, "label_scores", TCT_F32, 1, rows, NULL, 0);
    if (with_core) s->core = tct_writer_begin(w, "label_core", TCT_U8, 1, rows, NULL, 0);
    if (s->ids < 0 || s->offsets < 0 || s->classes < 0 || (with_scores && s->scores < 0) || (with_core && s->core < 0))
        return -1;
    int64_t zero = 0;
    return tct_writer_append(w, s->offsets, &zero, 1);
}

int tc_label_stream_add(tc_label_stream *s, const char *doc_id, const int32_t *classes, const float *scores,
                        const uint8_t *is_core, int n) {
    s->nnz += n;
    s->docs++;
    if (tct_writer_append_strings(s->writer, s->ids, &doc_id, NULL, 1) ||
        tct_writer_append(s->writer, s->offsets, &s->nnz, 1))
        return -1;
    if (n == 0) return 0;
    if (tct_writer_append(s->writer, s->classes, classes, (uint64_t)n)) return -1;
    if (s->scores >= 0 && tct_writer_append(s->writer, s->scores, scores, (uint64_t)n)) return -1;
    if (s->core >= 0 && tct_writer_append(s->writer, s->core, is_core, (uint64_t)n)) return -1;
    return 0;
}

int tc_label_stream_end(tc_label_stream *s) {
    if (tct_writer_end(s->writer, s->ids) || tct_writer_end(s->writer, s->offsets) ||
        tct_writer_end(s->writer, s->classes))
        return -1;
    if (s->scores >= 0 && tct_writer_end(s->writer, s->scores)) return -1;
    if (s->core >= 0 && tct_writer_end(s->writer, s->core)) return -1;
    return 0;
}
