#include "common/predict/predict_output.h"
#include "common/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int has_sets(const tc_prediction_format *f) { return f->threshold > 0 || f->paths > 0; }

static int alloc_scratch(tc_prediction_writer *pw) {
    size_t R = pw->max_rows ? pw->max_rows : 1, K = (size_t)pw->K, k = (size_t)(pw->k ? pw->k : 1);
    size_t P = (size_t)(pw->f.paths ? pw->f.paths : 1);
    pw->values = tc_malloc_array(R * K, sizeof *pw->values);
    pw->topk_classes = tc_malloc_array(R * k, sizeof *pw->topk_classes);
    pw->topk_scores = tc_malloc_array(R * k, sizeof *pw->topk_scores);
    pw->offsets = tc_malloc_array(R, sizeof *pw->offsets);
    pw->set_classes = tc_malloc_array(R * K, sizeof *pw->set_classes);
    pw->set_scores = tc_malloc_array(R * K, sizeof *pw->set_scores);
    pw->path_scores = tc_malloc_array(R * P, sizeof *pw->path_scores);
    pw->scratch = tc_malloc_array(K, sizeof *pw->scratch);
    return pw->values && pw->topk_classes && pw->topk_scores && pw->offsets && pw->set_classes && pw->set_scores &&
                   pw->path_scores && pw->scratch
               ? 0
               : -1;
}

static int begin(tct_writer *w, const char *name, tct_dtype dtype, int rank, uint64_t columns, const tct_attr *attrs,
                 size_t n_attrs) {
    uint64_t dims[2] = {TCT_ROWS_UNKNOWN, columns};
    return tct_writer_begin(w, name, dtype, rank, dims, attrs, n_attrs);
}

static int begin_tensors(tc_prediction_writer *pw, const tct_attr *attrs, size_t n_attrs) {
    tct_writer *w = pw->writer;
    const tc_prediction_format *f = &pw->f;
    pw->t_scores = pw->t_topk_classes = pw->t_topk_scores = pw->t_offsets = pw->t_classes = pw->t_label_scores =
        pw->t_path_scores = -1;
    if (tct_writer_string_tensor(w, "class_names", pw->class_names, (uint64_t)pw->K, NULL, 0)) return -1;
    if ((pw->t_ids = begin(w, "doc_ids", TCT_STR, 1, 0, NULL, 0)) < 0) return -1;
    if (f->scores && (pw->t_scores = begin(w, "scores", TCT_F32, 2, (uint64_t)pw->K, attrs, n_attrs)) < 0) return -1;
    if (pw->k && ((pw->t_topk_classes = begin(w, "topk_classes", TCT_I32, 2, (uint64_t)pw->k, NULL, 0)) < 0 ||
                  (pw->t_topk_scores = begin(w, "topk_scores", TCT_F32, 2, (uint64_t)pw->k, attrs, n_attrs)) < 0))
        return -1;
    if (has_sets(f)) {
        char how[96];
        if (f->paths) snprintf(how, sizeof how, "paths %d, %s of log-sigmoid", f->paths, tc_path_rule_name(f->path_rule));
        else snprintf(how, sizeof how, "threshold %.17g on sigmoid(score)", f->threshold);
        tct_attr decoding = {"decoding", how};
        int64_t zero = 0;
        if ((pw->t_offsets = begin(w, "label_offsets", TCT_I64, 1, 0, NULL, 0)) < 0 ||
            tct_writer_append(w, pw->t_offsets, &zero, 1) ||
            (pw->t_classes = begin(w, "label_classes", TCT_I32, 1, 0, &decoding, 1)) < 0 ||
            (pw->t_label_scores = begin(w, "label_scores", TCT_F32, 1, 0, attrs, n_attrs)) < 0)
            return -1;
    }
    if (f->paths) {
        tct_attr what = {"score", "log-probability of the path"};
        if ((pw->t_path_scores = begin(w, "path_scores", TCT_F32, 2, (uint64_t)f->paths, &what, 1)) < 0) return -1;
    }
    return 0;
}

int tc_prediction_writer_begin(tc_prediction_writer *pw, const tc_prediction_format *f, int K,
                               const char *const *class_names, const tc_taxonomy *taxonomy, size_t max_rows,
                               tct_writer *writer, FILE *text, const tct_attr *attrs, size_t n_attrs) {
    memset(pw, 0, sizeof *pw);
    pw->f = *f;
    pw->K = K;
    pw->k = f->top_k < K ? f->top_k : K;
    if (text && !pw->k && !has_sets(f)) pw->k = 1;  // a line shows the best class at least
    pw->class_names = class_names;
    pw->writer = writer;
    pw->text = text;
    pw->max_rows = max_rows;
    if (f->paths) {
        if (!taxonomy) return tc_fail("path decoding needs the taxonomy");
        if (tc_path_decoder_init(&pw->decoder, taxonomy, f->path_rule, f->paths, 0)) return -1;
    }
    if (alloc_scratch(pw)) return -1;
    return text ? 0 : begin_tensors(pw, attrs, n_attrs);
}

// Decodes n rows into the writer's arrays; returns the set members' count.
static int64_t decode(tc_prediction_writer *pw, size_t n, const float *logits) {
    size_t K = (size_t)pw->K, k = (size_t)pw->k;
    int64_t nnz = 0;
    for (size_t i = 0; i < n; i++) {
        const float *row = logits + i * K;
        float *v = pw->values + i * K;
        for (size_t c = 0; c < K; c++) v[c] = pw->f.sigmoid ? tc_sigmoid_f32(row[c]) : row[c];
        if (k) {
            tc_topk(row, (int)K, (int)k, pw->topk_classes + i * k, pw->topk_scores + i * k, pw->scratch);
            for (size_t j = 0; j < k; j++) pw->topk_scores[i * k + j] = v[pw->topk_classes[i * k + j]];
        }
        int m = 0;
        int32_t *set = pw->set_classes + nnz;
        if (pw->f.paths) m = tc_path_decode(&pw->decoder, row, set, pw->path_scores + i * (size_t)pw->f.paths);
        else if (pw->f.threshold > 0) m = tc_threshold_set(row, (int)K, pw->f.threshold, set, pw->scratch);
        for (int j = 0; j < m; j++) pw->set_scores[nnz + j] = v[set[j]];
        nnz += m;
        pw->offsets[i] = pw->nnz + nnz;
    }
    return nnz;
}

// A class name on a text line: tabs and line breaks become spaces.
// Ids come from the input and names from classifier.json: escaped, a tab,
// a newline or an escape sequence can neither split a row nor reach a terminal.
static void put_name(FILE *f, const char *s) { tc_fputs_escaped(s, f); }

static int write_text(tc_prediction_writer *pw, size_t n, const char *const *ids) {
    const int32_t *set = pw->set_classes;
    int64_t start = pw->nnz;
    for (size_t i = 0; i < n; i++) {
        put_name(pw->text, ids[i]);
        if (has_sets(&pw->f)) {
            for (int64_t j = start; j < pw->offsets[i]; j++) {
                fputc('\t', pw->text);
                put_name(pw->text, pw->class_names[set[j - pw->nnz]]);
            }
            start = pw->offsets[i];
        } else {
            for (int j = 0; j < pw->k; j++) {
                fputc('\t', pw->text);
                put_name(pw->text, pw->class_names[pw->topk_classes[i * (size_t)pw->k + (size_t)j]]);
            }
        }
        fputc('\n', pw->text);
    }
    return ferror(pw->text) ? tc_fail("write failed: %s", strerror(errno ? errno : EIO)) : 0;
}

int tc_prediction_writer_append(tc_prediction_writer *pw, size_t n, const char *const *ids, const float *logits) {
    if (n > pw->max_rows) return tc_fail("%zu rows in a window of %zu", n, pw->max_rows);
    int64_t nnz = decode(pw, n, logits);
    int rc = 0;
    if (pw->text) rc = write_text(pw, n, ids);
    else {
        tct_writer *w = pw->writer;
        rc = tct_writer_append_strings(w, pw->t_ids, ids, NULL, n) ||
                     (pw->t_scores >= 0 && tct_writer_append(w, pw->t_scores, pw->values, n)) ||
                     (pw->t_topk_classes >= 0 && (tct_writer_append(w, pw->t_topk_classes, pw->topk_classes, n) ||
                                                  tct_writer_append(w, pw->t_topk_scores, pw->topk_scores, n))) ||
                     (pw->t_offsets >= 0 && (tct_writer_append(w, pw->t_offsets, pw->offsets, n) ||
                                             tct_writer_append(w, pw->t_classes, pw->set_classes, (uint64_t)nnz) ||
                                             tct_writer_append(w, pw->t_label_scores, pw->set_scores, (uint64_t)nnz))) ||
                     (pw->t_path_scores >= 0 && tct_writer_append(w, pw->t_path_scores, pw->path_scores, n)) ||
                     tct_writer_flush(w)
                 ? -1
                 : 0;
    }
    pw->nnz += nnz;
    return rc;
}

int tc_prediction_writer_end(tc_prediction_writer *pw) {
    if (pw->text) return fflush(pw->text) ? tc_fail("write failed: %s", strerror(errno ? errno : EIO)) : 0;
    int ids[8] = {pw->t_ids, pw->t_scores, pw->t_topk_classes, pw->t_topk_scores, pw->t_offsets, pw->t_classes,
                  pw->t_label_scores, pw->t_path_scores};
    for (int i = 0; i < 8; i++)
        if (ids[i] >= 0 && tct_writer_end(pw->writer, ids[i])) return -1;
    return 0;
}

void tc_prediction_writer_free(tc_prediction_writer *pw) {
    tc_path_decoder_free(&pw->decoder);
    free(pw->values), free(pw->topk_classes), free(pw->topk_scores), free(pw->offsets), free(pw->set_classes);
    free(pw->set_scores), free(pw->path_scores), free(pw->scratch);
    memset(pw, 0, sizeof *pw);
}
