#include "common/embeddings/embedding_stream.h"
#include "common/error.h"
#include "common/cli/io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int tc_embedding_stream_open(tc_embedding_stream *s, const char *path) {
    memset(s, 0, sizeof *s);
    s->path = path && strcmp(path, "-") ? path : "(stdin)";
    if (!(s->f = tc_input_open(path))) return -1;
    const char *names[2] = {"doc_ids", "embeddings"};
    if (tct_reader_open(&s->reader, s->f, s->path) || tct_table_open(&s->table, s->reader, names, 2)) {
        tc_embedding_stream_close(s);
        return -1;
    }
    return 0;
}

// The columns are known once their first records are read: checked then.
static int check_columns(tc_embedding_stream *s, const tct_column *cols) {
    const tct_tensor_info *ids = cols[0].tensor, *e = cols[1].tensor;
    if (ids->dtype != TCT_STR || ids->rank != 1) return tc_fail("%s: doc_ids must be a str[N] tensor", s->path);
    if (e->rank != 2 || (e->dtype != TCT_F32 && e->dtype != TCT_F16 && e->dtype != TCT_BF16) || e->dims[1] == 0 ||
        e->dims[1] > (1u << 20))
        return tc_fail("%s: embeddings must be f32, f16 or bf16 [N,D], not %s of rank %d", s->path,
                       tct_dtype_name(e->dtype), e->rank);
    s->d = (int)e->dims[1];
    return 0;
}

int64_t tc_embeddings_to_f32(tct_dtype dtype, const void *data, size_t count, float *out) {
    if (dtype == TCT_F32) memcpy(out, data, count * sizeof *out);
    for (size_t i = 0; i < count; i++) {
        if (dtype == TCT_F16) out[i] = tct_f16_to_f32(((const uint16_t *)data)[i]);
        else if (dtype == TCT_BF16) out[i] = tct_bf16_to_f32(((const uint16_t *)data)[i]);
        if (!isfinite(out[i])) return (int64_t)i + 1;
    }
    return 0;
}

int64_t tc_embedding_stream_next(tc_embedding_stream *s, uint64_t max_rows, char *const **ids, const float **x) {
    tct_column cols[2];
    int64_t n = tct_table_next(s->table, max_rows, cols);
    if (n < 0) return tc_fail_context("%s", s->path);
    if (n == 0) return 0;
    if (s->d == 0 && check_columns(s, cols)) return -1;
    size_t count = (size_t)n * (size_t)s->d;
    if (count > s->cap) {
        float *p = tc_realloc(s->x, count * sizeof *p);
        if (!p) return -1;
        s->x = p, s->cap = count;
    }
    int64_t bad = tc_embeddings_to_f32(cols[1].tensor->dtype, cols[1].data, count, s->x);
    if (bad)
        return tc_fail("%s: embeddings row %llu holds a value that is not a finite number", s->path,
                       (unsigned long long)(s->row + (uint64_t)(bad - 1) / (uint64_t)s->d));
    if ((size_t)n > s->ids_cap) {
        char **p = tc_realloc(s->ids, (size_t)n * sizeof *p);
        if (!p) return -1;
        for (size_t i = s->ids_cap; i < (size_t)n; i++) p[i] = NULL;
        s->ids = p, s->ids_cap = (size_t)n;
    }
    for (int64_t i = 0; i < n; i++) {
        free(s->ids[i]);
        if (!(s->ids[i] = strdup(cols[0].strings[i]))) return tc_fail("out of memory");
    }
    s->row += (uint64_t)n;
    *ids = s->ids;
    *x = s->x;
    return n;
}

void tc_embedding_stream_close(tc_embedding_stream *s) {
    if (s->table) tct_table_close(s->table);
    if (s->reader) tct_reader_close(s->reader);
    tc_input_close(s->f);
    for (size_t i = 0; i < s->ids_cap; i++) free(s->ids[i]);
    free(s->ids);
    free(s->x);
    memset(s, 0, sizeof *s);
}

