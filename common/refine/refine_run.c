// tc-refine refine: three passes, memory bounded by the batch plus a float
// per document (the confidences, for the percentile):
//   1. embeddings + corpus + annotation in step: sums of the embeddings of
//      each class's annotated documents that contain one of its key terms;
//   2. embeddings again: top-k similarity to the class embeddings (on the
//      CPU or the GPUs), confidence and kept classes of each document,
//      spilled to a temporary file;
//   3. the spill again: documents at or above the percentile are written.
#include "common/refine/refine_run.h"
#include "common/comm/devices.h"
#include "common/error.h"
#include "common/cli/io.h"
#include "common/taxonomy/label_stream.h"
#include "common/taxonomy/labels.h"
#include "common/cli/progress.h"
#include "common/refine/refine_io.h"
#include "common/embeddings/similarity.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_TOP = 32 };

typedef struct {
    tc_devices devices;
    tct_dtype precision;       // of the similarities
    tc_taxonomy taxonomy;
    tc_labels annotation;
    double *sums;              // (C, D)
    int64_t *counts;           // [C]
    int d;
    uint64_t n_docs;
    float *centroids;          // (C', D)
    int32_t *class_of;         // [C'] class id of each centroid
    int n_centroids;
    float *confidence;         // [N]
    FILE *spill;
} refine_state;

// Pass 1.
static int accumulate(const tc_cli *cli, const tc_refine_options *o, refine_state *s) {
    tc_term_matcher *matcher = NULL;
    tc_embedding_stream docs;
    tc_corpus_reader corpus;
    uint8_t *mark = tc_calloc((size_t)s->taxonomy.n_classes + 1, 1);
    if (!mark || tc_term_matcher_create(&matcher, &s->taxonomy, o->match, o->match_names)) return free(mark), -1;
    int rc = -1;
    if (tc_embedding_stream_open(&docs, o->embeddings)) goto no_docs;
    if (tc_corpus_open(&corpus, o->corpus)) goto no_corpus;
    size_t C = (size_t)s->taxonomy.n_classes, D = 0;
    s->counts = tc_calloc(C + 1, sizeof *s->counts);
    if (!s->counts) goto done;
    tc_progress progress;
    tc_progress_start(&progress, cli, "docs", s->annotation.n_docs);
    char *const *ids;
    const float *x;
    int64_t n;
    uint64_t row = 0;
    while ((n = tc_embedding_stream_next(&docs, (uint64_t)o->batch, &ids, &x)) > 0) {
        if (!s->sums) {  // the width is known from the first batch
            s->d = docs.d, D = (size_t)docs.d;
            if (!(s->sums = tc_calloc(C * D + 1, sizeof *s->sums))) goto done;
        }
        for (int64_t i = 0; i < n; i++, row++) {
            if (row >= s->annotation.n_docs) {
                tc_fail("%s: more documents than the %llu of the annotation %s", docs.path,
                        (unsigned long long)s->annotation.n_docs, o->annotation);
                goto done;
            }
            if (strcmp(ids[i], s->annotation.doc_ids[row])) {
                tc_fail("%s: row %llu is document '%s' where the annotation %s has '%s' (both must list the same "
                        "documents in the same order)",
                        docs.path, (unsigned long long)row, ids[i], o->annotation, s->annotation.doc_ids[row]);
                goto done;
            }
            const char *text;
            if (tc_corpus_next(&corpus, ids[i], NULL, &text) || tc_term_matcher_set_text(matcher, text)) goto done;
            for (int64_t k = s->annotation.offsets[row]; k < s->annotation.offsets[row + 1]; k++) {
                mark[s->annotation.classes[k]] = 1;
                tc_taxonomy_mark_ancestors(&s->taxonomy, s->annotation.classes[k], mark);
            }
            for (size_t c = 0; c < C; c++) {
                if (!mark[c]) continue;
                mark[c] = 0;
                if (!tc_term_matcher_has(matcher, (int)c)) continue;
                double *sum = s->sums + c * D;
                const float *e = x + (size_t)i * D;
                for (size_t k = 0; k < D; k++) sum[k] += e[k];
                s->counts[c]++;
            }
        }
        tc_progress_update(&progress, row);
    }
    if (n < 0) goto done;
    if (row != s->annotation.n_docs) {
        tc_fail("%s: %llu documents, but the annotation %s has %llu", docs.path, (unsigned long long)row,
                o->annotation, (unsigned long long)s->annotation.n_docs);
        goto done;
    }
    const char *extra;
    int more = tc_corpus_next(&corpus, NULL, NULL, &extra);
    if (more <= 0) {
        if (more == 0) tc_fail("%s: holds more documents than the %llu embeddings", o->corpus, (unsigned long long)row);
        goto done;
    }
    tc_progress_finish(&progress);
    s->n_docs = row;
    rc = 0;
done:
    tc_corpus_close(&corpus);
no_corpus:
    tc_embedding_stream_close(&docs);
no_docs:
    tc_term_matcher_free(matcher);
    free(mark);
    return rc;
}

// Class embeddings from the sums; classes without documents are reported.
static int make_centroids(const tc_refine_options *o, refine_state *s) {
    size_t C = (size_t)s->taxonomy.n_classes, D = (size_t)s->d;
    s->centroids = tc_malloc_array(C * D + 1, sizeof(float));
    s->class_of = tc_malloc_array(C + 1, sizeof(int32_t));
    if (!s->centroids || !s->class_of) return -1;
    char skipped[600] = "";
    int n_skipped = 0;
    for (size_t c = 0; c < C; c++) {
        if (s->counts[c] == 0) {
            size_t at = strlen(skipped);
            if (at < sizeof skipped - 80)
                snprintf(skipped + at, sizeof skipped - at, "%s%s", n_skipped ? ", " : "", s->taxonomy.names[c]);
            else if (!strstr(skipped, "..."))
                snprintf(skipped + at, sizeof skipped - at, ", ...");
            n_skipped++;
            continue;
        }
        float *out = s->centroids + (size_t)s->n_centroids * D;
        for (size_t k = 0; k < D; k++) out[k] = (float)(s->sums[c * D + k] / (double)s->counts[c]);
        s->class_of[s->n_centroids++] = (int32_t)c;
        tc_verbose("class %s: %lld documents with a key term", s->taxonomy.names[c], (long long)s->counts[c]);
    }
    if (n_skipped && s->n_centroids > 0)
        tc_warn("%d of %zu classes have no annotated document containing one of their key terms and are skipped: %s",
                n_skipped, C, skipped);
    if (s->n_centroids == 0)
        return tc_fail("%s: no class has an annotated document that contains one of its key terms: nothing to refine "
                       "(does the taxonomy carry key terms? --match-names also matches class names)",
                       o->annotation);
    return 0;
}

static int spill_document(FILE *f, const char *id, int n_keep, const int32_t *classes, const float *sims) {
    uint32_t len = (uint32_t)strlen(id);
    uint8_t keep = (uint8_t)n_keep;
    if (fwrite(&len, sizeof len, 1, f) != 1 || fwrite(id, 1, len, f) != len || fwrite(&keep, 1, 1, f) != 1 ||
        fwrite(classes, sizeof *classes, keep, f) != keep || fwrite(sims, sizeof *sims, keep, f) != keep)
        return tc_fail("temporary file: write failed: %s", strerror(errno));
    return 0;
}

// Pass 2.
static int score(const tc_cli *cli, const tc_refine_options *o, refine_state *s) {
    tc_similarity *sim = NULL;
    tc_embedding_stream docs;
    int k = o->top < s->n_centroids ? o->top : s->n_centroids;
    int32_t *idx = tc_malloc_array((size_t)o->batch * (size_t)k, sizeof *idx);
    float *val = tc_malloc_array((size_t)o->batch * (size_t)k, sizeof *val);
    s->confidence = tc_malloc_array(s->n_docs + 1, sizeof(float));
    s->spill = tmpfile();
    if (!s->spill) tc_fail("cannot create a temporary file: %s", strerror(errno));
    if (!idx || !val || !s->confidence || !s->spill ||
        tc_similarity_open(&sim, &s->devices, tc_cli_threads(cli), s->precision, s->centroids, s->n_centroids, s->d,
                           NULL, 0))
        return free(idx), free(val), -1;
    tc_verbose("similarities on %s", tc_similarity_backend(sim));
    tc_verbose_precision(s->precision, &s->devices);
    int rc = -1;
    if (tc_embedding_stream_open(&docs, o->embeddings)) goto done;
    tc_progress progress;
    tc_progress_start(&progress, cli, "docs", s->n_docs);
    char *const *ids;
    const float *x;
    int64_t n;
    uint64_t row = 0;
    while ((n = tc_embedding_stream_next(&docs, (uint64_t)o->batch, &ids, &x)) > 0) {
        if (row + (uint64_t)n > s->n_docs || docs.d != s->d) {
            tc_fail("%s: changed since the first pass", docs.path);
            goto done;
        }
        if (tc_similarity_topk(sim, x, n, k, idx, val)) goto done;
        for (int64_t i = 0; i < n; i++, row++) {
            int32_t classes[MAX_TOP];
            int keep;
            s->confidence[row] = tc_refine_confidence(val + i * k, k, &keep);
            for (int q = 0; q < keep; q++) classes[q] = s->class_of[idx[i * k + q]];
            if (spill_document(s->spill, ids[i], keep, classes, val + i * k)) goto done;
        }
        tc_progress_update(&progress, row);
    }
    if (n < 0) goto done;
    if (row != s->n_docs) {
        tc_fail("%s: changed since the first pass", docs.path);
        goto done;
    }
    tc_progress_finish(&progress);
    rc = 0;
done:
    tc_embedding_stream_close(&docs);
    tc_similarity_close(sim);
    free(idx), free(val);
    return rc;
}

// Pass 3.
static int write_kept(const tc_cli *cli, const tc_refine_options *o, refine_state *s) {
    float *sorted = tc_malloc_array(s->n_docs + 1, sizeof(float));
    if (!sorted) return -1;
    memcpy(sorted, s->confidence, s->n_docs * sizeof(float));
    double threshold = tc_percentile(sorted, s->n_docs, o->keep_percentile);
    free(sorted);
    char threshold_text[64], percentile_text[32];
    snprintf(threshold_text, sizeof threshold_text, "%.9g", threshold);
    snprintf(percentile_text, sizeof percentile_text, "%g", o->keep_percentile);
    tct_attr attrs[5] = {{"labels", "refined core classes"},
                         {"scores", "cosine similarity of document and class embedding"},
                         {"keep_percentile", percentile_text},
                         {"confidence_threshold", threshold_text}};
    int n_attrs = 4 + tc_refine_precision_attr(s->precision, &attrs[4]);
    tc_tensor_output out;
    tc_label_stream labels;
    if (tc_tensor_output_open(&out, cli)) return -1;
    uint64_t rows[1] = {TCT_ROWS_UNKNOWN}, kept = 0, labels_total = 0;
    int conf_id = -1;
    char *id = NULL;
    if (tc_label_stream_begin(&labels, out.writer, 1, 0, attrs, n_attrs) ||
        (conf_id = tct_writer_begin(out.writer, "doc_confidence", TCT_F32, 1, rows, NULL, 0)) < 0)
        goto fail;
    rewind(s->spill);
    for (uint64_t row = 0; row < s->n_docs; row++) {
        uint32_t len;
        uint8_t keep;
        int32_t classes[MAX_TOP];
        float sims[MAX_TOP];
        char *p;
        if (fread(&len, sizeof len, 1, s->spill) != 1 || !(p = realloc(id, (size_t)len + 1))) goto short_read;
        id = p;
        if (fread(id, 1, len, s->spill) != len || fread(&keep, 1, 1, s->spill) != 1 || keep > MAX_TOP ||
            fread(classes, sizeof *classes, keep, s->spill) != keep || fread(sims, sizeof *sims, keep, s->spill) != keep)
            goto short_read;
        id[len] = 0;
        if (s->confidence[row] < threshold) continue;
        if (tc_label_stream_add(&labels, id, classes, sims, NULL, keep) ||
            tct_writer_append(out.writer, conf_id, &s->confidence[row], 1))
            goto fail;
        kept++, labels_total += keep;
        if (kept % 4096 == 0 && tct_writer_flush(out.writer)) goto fail;
    }
    free(id);
    id = NULL;
    if (tc_label_stream_end(&labels) || tct_writer_end(out.writer, conf_id) || tc_tensor_output_commit(&out)) goto fail;
    tc_note("kept %llu of %llu documents (%.1f%%) at confidence >= %.6g (percentile %g), %.2f core classes each",
            (unsigned long long)kept, (unsigned long long)s->n_docs,
            s->n_docs ? 100.0 * (double)kept / (double)s->n_docs : 0.0, threshold, o->keep_percentile,
            kept ? (double)labels_total / (double)kept : 0.0);
    return 0;
short_read:
    tc_fail("temporary file: read failed");
fail:
    free(id);
    tc_tensor_output_abort(&out);
    return -1;
}

int tc_refine_run(const tc_cli *cli, const tc_refine_options *o) {
    refine_state s;
    memset(&s, 0, sizeof s);
    int rc = -1;
    // before the first pass, so that a precision this CPU lacks costs no reading
    if (tc_refine_precision(cli, o->precision, &s.devices, &s.precision) || tc_taxonomy_load(&s.taxonomy, o->taxonomy) ||
        tc_labels_read_any(&s.annotation, o->annotation, s.taxonomy.n_classes))
        goto done;
    if (accumulate(cli, o, &s) || make_centroids(o, &s) || score(cli, o, &s) || write_kept(cli, o, &s)) goto done;
    rc = 0;
done:
    if (s.spill) fclose(s.spill);
    free(s.sums), free(s.counts), free(s.centroids), free(s.class_of), free(s.confidence);
    tc_labels_free(&s.annotation);
    tc_taxonomy_free(&s.taxonomy);
    return rc;
}

int tc_refine_precision(const tc_cli *cli, const char *name, tc_devices *devices, tct_dtype *out) {
    if (tc_devices_select(cli, devices)) return -1;
    *out = TCT_F32;
    if (!strcmp(name, "auto") || !strcmp(name, "fp32")) return 0;
    if (!strcmp(name, "fp16"))
        return tc_fail("--precision fp16: tc-refine computes similarities in fp32, or on the CPU in bf16 or int8");
    if (devices->n_gpus && tc_precision_known(name))
        return tc_fail("--precision %s: tc-refine's similarities on GPUs are fp32 only; bf16 and int8 run on the CPU "
                       "(--gpus none)",
                       name);
    return tc_precision_select(name, devices, out);
}

int tc_refine_precision_attr(tct_dtype precision, tct_attr *attr) {
    if (precision == TCT_F32) return 0;
    *attr = (tct_attr){"precision", tc_precision_name(precision)};
    return 1;
}
