#include "common/predict/evaluation.h"
#include "common/error.h"
#include "common/cli/io.h"
#include "common/cli/progress.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

// Appends a chunk of a numeric tensor to a growing array.
static int append_chunk(void **data, uint64_t *n, const tct_event *ev, size_t item) {
    uint64_t add = ev->rows * ev->tensor->row_elements;
    void *d = tc_realloc(*data, (size_t)(*n + add + 1) * item);
    if (!d) return -1;
    memcpy((char *)d + *n * item, ev->data, (size_t)add * item);
    *data = d;
    *n += add;
    return 0;
}

// ---------------------------------------------------------------- input

// A seekable stream of the predictions: the file, or stdin spooled to a
// temporary file so that it can be read twice without holding it in memory.
static FILE *seekable_input(const char *path) {
    FILE *f = tc_input_open(path);
    if (!f || fseek(f, 0, SEEK_SET) == 0) return f;
    FILE *tmp = tmpfile();
    if (!tmp) {
        tc_fail("cannot create a temporary file: %s", strerror(errno));
        return NULL;
    }
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (fwrite(buf, 1, n, tmp) != n) {
            fclose(tmp);
            tc_fail("(stdin): copying to a temporary file: write failed: %s", strerror(errno ? errno : EIO));
            return NULL;
        }
    if (ferror(f)) {
        fclose(tmp);
        tc_fail("(stdin): read failed: %s", strerror(errno ? errno : EIO));
        return NULL;
    }
    if (fflush(tmp) || fseek(tmp, 0, SEEK_SET)) {
        fclose(tmp);
        tc_fail("(stdin): copying to a temporary file: write failed: %s", strerror(errno ? errno : EIO));
        return NULL;
    }
    return tmp;
}

static const tct_tensor_info *find_tensor(tct_reader *r, const char *name) {
    for (size_t i = 0; i < tct_reader_tensor_count(r); i++)
        if (!strcmp(tct_reader_tensor(r, i)->name, name)) return tct_reader_tensor(r, i);
    return NULL;
}

// First pass: which tensors there are, and their shapes.
static int scan_layout(FILE *f, const char *where, int n_classes, tc_prediction_layout *p) {
    memset(p, 0, sizeof *p);
    tct_reader *r;
    if (tct_reader_open(&r, f, where)) return -1;
    tct_event ev;
    int rc;
    while ((rc = tct_reader_next(r, &ev)) == 1 && ev.kind != TCT_EVENT_FINISH) {
        if (ev.kind != TCT_EVENT_CHUNK) continue;
        const tct_tensor_info *t = ev.tensor;
        if (!strcmp(t->name, "label_offsets") && t->dtype == TCT_I64)
            rc = append_chunk((void **)&p->set_offsets, &p->set_offsets_n, &ev, sizeof *p->set_offsets);
        else if (!strcmp(t->name, "label_classes") && t->dtype == TCT_I32)
            rc = append_chunk((void **)&p->set_classes, &p->set_classes_n, &ev, sizeof *p->set_classes);
        else if (!strcmp(t->name, "label_scores") && t->dtype == TCT_F32)
            rc = append_chunk((void **)&p->set_scores, &p->set_scores_n, &ev, sizeof *p->set_scores);
        if (rc < 0) break;
    }
    if (rc < 0) {
        tct_reader_close(r);
        return -1;
    }
    const tct_tensor_info *ids = find_tensor(r, "doc_ids"), *s = find_tensor(r, "scores");
    const tct_tensor_info *tc = find_tensor(r, "topk_classes"), *ts = find_tensor(r, "topk_scores");
    const tct_tensor_info *lo = find_tensor(r, "label_offsets"), *lc = find_tensor(r, "label_classes");
    rc = 0;
    if (!ids || ids->dtype != TCT_STR || ids->rank != 1) rc = tc_fail("%s: no tensor 'doc_ids' (str[N])", where);
    else p->n_docs = ids->dims[0];
    if (rc == 0 && s) {
        if (s->dtype != TCT_F32 || s->rank != 2 || s->dims[0] != p->n_docs)
            rc = tc_fail("%s: 'scores' must be f32[%" PRIu64 ",C]", where, p->n_docs);
        else if (s->dims[1] != (uint64_t)n_classes)
            rc = tc_fail("%s: 'scores' has %" PRIu64 " classes, the taxonomy %d", where, s->dims[1], n_classes);
        p->scores = 1;
    }
    if (rc == 0 && (tc || ts)) {
        if (!tc || !ts) rc = tc_fail("%s: '%s' without '%s'", where, tc ? "topk_classes" : "topk_scores",
                                     tc ? "topk_scores" : "topk_classes");
        else if (tc->dtype != TCT_I32 || tc->rank != 2 || tc->dims[0] != p->n_docs || ts->dtype != TCT_F32 ||
                 ts->rank != 2 || ts->dims[0] != p->n_docs || ts->dims[1] != tc->dims[1])
            rc = tc_fail("%s: 'topk_classes' i32[N,K] and 'topk_scores' f32[N,K] must match doc_ids", where);
        p->topk = 1;
        p->k = tc ? tc->dims[1] : 0;
    }
    if (rc == 0 && (lo || lc)) {
        if (!lo || !lc || lo->dtype != TCT_I64 || lc->dtype != TCT_I32 || lo->dims[0] != p->n_docs + 1)
            rc = tc_fail("%s: predicted sets need 'label_offsets' i64[N+1] and 'label_classes' i32[nnz]", where);
        else if (p->set_offsets[0] != 0 || (uint64_t)p->set_offsets[p->n_docs] != p->set_classes_n)
            rc = tc_fail("%s: 'label_offsets' do not span 'label_classes'", where);
        for (uint64_t i = 0; rc == 0 && i < p->n_docs; i++)
            if (p->set_offsets[i + 1] < p->set_offsets[i]) rc = tc_fail("%s: 'label_offsets' decrease at row %" PRIu64, where, i + 1);
        p->sets = 1;
    }
    // Sets with scores (core classes from tc-refine annotate) rank their own
    // members; classes outside a set are not ranked.
    if (rc == 0 && !p->scores && !p->topk && p->sets && p->set_scores && p->set_scores_n == p->set_classes_n)
        p->rank_sets = 1;
    if (rc == 0 && !p->scores && !p->topk && !p->rank_sets)
        rc = tc_fail("%s: no 'scores', no 'topk_classes'/'topk_scores' and no predicted sets with "
                     "'label_scores' to evaluate", where);
    tct_reader_close(r);
    return rc;
}

// ---------------------------------------------------------------- one document

// Ranks of the gold classes from top-k alone: unknown (0) beyond the top k.
static void ranks_from_topk(const int32_t *cls, const float *sc, uint64_t k, const int32_t *gold, int n_gold,
                            const uint8_t *is_gold, int64_t *rank) {
    for (int i = 0; i < n_gold; i++) {
        rank[i] = 0;
        for (uint64_t j = 0; j < k; j++)
            if (cls[j] == gold[i]) {
                int64_t r = 1;
                for (uint64_t x = 0; x < k; x++) r += cls[x] >= 0 && !is_gold[cls[x]] && sc[x] >= sc[j];
                rank[i] = r;
                break;
            }
    }
}

typedef struct {
    const float *scores;                // [C] or NULL
    const int32_t *topk_classes;        // [k] or NULL
    const float *topk_scores;
    uint64_t k;
    const int32_t *set;                 // predicted set from the stream, or NULL
    int n_set;
} doc_prediction;

static int evaluate_doc(tc_evaluation *e, tc_metrics *m, const tc_evaluation_options *o, const tc_prediction_layout *p, int64_t g,
                        const doc_prediction *d, const char *where, const char *id) {
    int C = m->n_classes;
    const int32_t *gold = e->gold.classes + e->gold.offsets[g];
    int n_gold = (int)(e->gold.offsets[g + 1] - e->gold.offsets[g]);
    for (int i = 0; i < n_gold; i++) e->is_gold[gold[i]] = 1;
    int32_t top[3];
    int n_top = 0, n_pred = 0;
    if (d->scores) {
        n_top = tc_metrics_top3(d->scores, C, top);
        for (int i = 0; i < n_gold; i++) e->rank[i] = tc_metrics_rank(d->scores, C, gold[i], e->is_gold);
    } else {
        for (uint64_t j = 0; j < d->k && n_top < 3; j++) {
            int32_t c = d->topk_classes[j];
            if (c < -1 || c >= C) {
                for (int i = 0; i < n_gold; i++) e->is_gold[gold[i]] = 0;
                return tc_fail("%s: document '%s': top-k class %d is not in the taxonomy", where, id, (int)c);
            }
            if (c >= 0) top[n_top++] = c;
        }
        ranks_from_topk(d->topk_classes, d->topk_scores, d->k, gold, n_gold, e->is_gold, e->rank);
    }
    if (m->with_sets) {
        if (o->has_threshold && d->scores) {
            for (int c = 0; c < C; c++)
                if ((double)d->scores[c] >= o->threshold) e->pred[n_pred++] = c;
        } else if (o->has_threshold) {
            for (uint64_t j = 0; j < d->k; j++)
                if (d->topk_classes[j] >= 0 && (double)d->topk_scores[j] >= o->threshold)
                    e->pred[n_pred++] = d->topk_classes[j];
        } else {
            for (int i = 0; i < d->n_set; i++) {
                if (d->set[i] < 0 || d->set[i] >= C) {
                    for (int k = 0; k < n_gold; k++) e->is_gold[gold[k]] = 0;
                    return tc_fail("%s: document '%s': predicted class %d is not in the taxonomy", where, id,
                                   (int)d->set[i]);
                }
                e->pred[n_pred++] = d->set[i];
                if (n_pred == C) break;  // a set holds each class at most once
            }
        }
    }
    for (int i = 0; i < n_gold; i++) e->is_gold[gold[i]] = 0;
    tc_metrics_add(m, gold, n_gold, top, n_top, e->rank, e->pred, n_pred);
    return 0;
}

// ---------------------------------------------------------------- second pass

// A predicted set as a ranking: its classes by label_scores, best first
// (ties: the lower class id), as if they were the document's top k.
static void rank_set(tc_evaluation *e, const tc_prediction_layout *p, uint64_t row, int n_classes, doc_prediction *d) {
    int64_t from = p->set_offsets[row], n = p->set_offsets[row + 1] - from;
    if (n > n_classes) n = n_classes;
    for (int64_t i = 0; i < n; i++) {
        int32_t c = p->set_classes[from + i];
        float sc = p->set_scores[from + i];
        int64_t j = i;
        for (; j > 0 && (e->ranked_scores[j - 1] < sc ||
                         (e->ranked_scores[j - 1] == sc && e->ranked_classes[j - 1] > c)); j--) {
            e->ranked_scores[j] = e->ranked_scores[j - 1];
            e->ranked_classes[j] = e->ranked_classes[j - 1];
        }
        e->ranked_scores[j] = sc;
        e->ranked_classes[j] = c;
    }
    d->topk_classes = e->ranked_classes;
    d->topk_scores = e->ranked_scores;
    d->k = (uint64_t)n;
}

static int evaluate_stream(tc_evaluation *e, tc_metrics *m, const tc_evaluation_options *o, const tc_prediction_layout *p, FILE *f,
                           const char *where) {
    const char *names[3] = {"doc_ids"};
    size_t n_names = 1;
    if (p->scores) names[n_names++] = "scores";
    else if (!p->rank_sets) {
        names[n_names++] = "topk_classes";
        names[n_names++] = "topk_scores";
    }
    tct_reader *r;
    if (tct_reader_open(&r, f, where)) return -1;
    tct_table *table;
    if (tct_table_open(&table, r, names, n_names)) {
        tct_reader_close(r);
        return -1;
    }
    tc_progress progress;
    tc_progress_start(&progress, o->cli, "docs", p->n_docs);
    tct_column col[3];
    int64_t got;
    uint64_t row = 0;
    int rc = 0;
    while (rc == 0 && (got = tct_table_next(table, 1024, col)) > 0) {
        for (int64_t i = 0; rc == 0 && i < got; i++, row++) {
            const char *id = col[0].strings[i];
            int64_t g = tc_strindex_find(&e->gold_ids, id, strlen(id));
            if (g < 0) {
                e->unmatched++;
                continue;
            }
            e->matched++;
            e->duplicates += e->gold_used[g];
            e->gold_used[g] = 1;
            doc_prediction d = {0};
            if (p->sets) {
                d.set = p->set_classes + p->set_offsets[row];
                d.n_set = (int)(p->set_offsets[row + 1] - p->set_offsets[row]);
            }
            if (p->scores) d.scores = (const float *)col[1].data + (uint64_t)i * (uint64_t)m->n_classes;
            else if (p->rank_sets) rank_set(e, p, row, m->n_classes, &d);
            else {
                d.topk_classes = (const int32_t *)col[1].data + (uint64_t)i * p->k;
                d.topk_scores = (const float *)col[2].data + (uint64_t)i * p->k;
                d.k = p->k;
            }
            rc = evaluate_doc(e, m, o, p, g, &d, where, id);
        }
        tc_progress_update(&progress, row);
    }
    if (rc == 0 && got < 0) rc = -1;
    tc_progress_finish(&progress);
    tct_table_close(table);
    tct_reader_close(r);
    return rc;
}

// Drops repeated classes within each gold set (a label file may repeat one).
static void dedupe_gold(tc_labels *l, uint8_t *seen) {
    int64_t out = 0;
    for (uint64_t i = 0; i < l->n_docs; i++) {
        int64_t start = l->offsets[i], end = l->offsets[i + 1];
        l->offsets[i] = out;
        for (int64_t k = start; k < end; k++)
            if (!seen[l->classes[k]]) {
                seen[l->classes[k]] = 1;
                l->classes[out++] = l->classes[k];
            }
        for (int64_t k = l->offsets[i]; k < out; k++) seen[l->classes[k]] = 0;
    }
    l->offsets[l->n_docs] = out;
}

int tc_evaluation_load_gold(tc_evaluation *e, const char *gold_path, int n_classes) {
    memset(e, 0, sizeof *e);
    if (tc_labels_read_any(&e->gold, gold_path, n_classes) || tc_strindex_init(&e->gold_ids)) return -1;
    for (uint64_t i = 0; i < e->gold.n_docs; i++) {
        int added;
        if (tc_strindex_add(&e->gold_ids, e->gold.doc_ids[i], strlen(e->gold.doc_ids[i]), &added) < 0) return -1;
        if (!added) return tc_fail("%s: document '%s' appears twice", gold_path, e->gold.doc_ids[i]);
    }
    e->gold_used = calloc(e->gold.n_docs + 1, 1);
    e->is_gold = calloc((size_t)n_classes, 1);
    e->pred = malloc((size_t)n_classes * sizeof *e->pred);
    e->rank = malloc((size_t)n_classes * sizeof *e->rank);
    e->ranked_classes = malloc((size_t)n_classes * sizeof *e->ranked_classes);
    e->ranked_scores = malloc((size_t)n_classes * sizeof *e->ranked_scores);
    if (!e->gold_used || !e->is_gold || !e->pred || !e->rank || !e->ranked_classes || !e->ranked_scores)
        return tc_fail("out of memory");
    dedupe_gold(&e->gold, e->is_gold);
    return 0;
}

int tc_evaluation_run(tc_evaluation *e, const tc_taxonomy *taxonomy, const char *path,
                      const tc_evaluation_options *o) {
    const char *where = strcmp(path, "-") ? path : "(stdin)";
    FILE *f = seekable_input(path);
    if (!f) return -1;
    int rc = scan_layout(f, where, taxonomy->n_classes, &e->layout);
    if (rc == 0 && fseek(f, 0, SEEK_SET)) rc = tc_fail("%s: cannot read twice: %s", where, strerror(errno));
    if (rc == 0) rc = tc_metrics_init(&e->metrics, taxonomy, o->has_threshold || e->layout.sets);
    if (rc == 0) rc = evaluate_stream(e, &e->metrics, o, &e->layout, f, where);
    if (f != stdin) fclose(f);
    return rc;
}

void tc_evaluation_free(tc_evaluation *e) {
    tc_metrics_free(&e->metrics);
    tc_labels_free(&e->gold);
    tc_strindex_free(&e->gold_ids);
    free(e->gold_used);
    free(e->is_gold);
    free(e->pred);
    free(e->rank);
    free(e->ranked_classes);
    free(e->ranked_scores);
    free(e->layout.set_offsets);
    free(e->layout.set_classes);
    free(e->layout.set_scores);
}
