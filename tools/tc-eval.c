// tc-eval: metrics of predictions against gold labels: Example-F1, P@1..3
// and MRR as TELEClass's eval_classifier.py computes them, and for
// thresholded or set predictions micro/macro F1 overall and per level.
#include "common/cli/cli.h"
#include "common/error.h"
#include "common/cli/io.h"
#include "common/taxonomy/labels.h"
#include "common/predict/metrics.h"
#include "common/cli/progress.h"
#include "common/strindex.h"
#include "common/taxonomy/taxonomy.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: tc-eval --gold LABELS --taxonomy TAXONOMY [options] [PREDICTIONS]\n"
    "Scores predictions (doc_ids with scores f32[N,C] and/or topk_classes i32[N,K] +\n"
    "topk_scores f32[N,K]; label_offsets + label_classes for predicted sets) against\n"
    "gold labels, matched by document id. Reads stdin without PREDICTIONS.\n"
    "\n"
    "      --gold FILE       gold labels: doc2labels.txt or a label file\n"
    "  -t, --taxonomy FILE   the taxonomy (levels for per-level scores)\n"
    "      --threshold T     predicted set: classes scoring >= T (else the sets the\n"
    "                        predictions carry, if any)\n"
    "      --tsv             metric<TAB>value lines\n"
    "      --json            one JSON object\n"
    TC_CLI_COMMON_HELP;

enum { OPT_GOLD = TC_OPT_FIRST_PROGRAM, OPT_THRESHOLD, OPT_TSV, OPT_JSON };

typedef struct {
    tc_cli cli;
    const char *gold_path, *taxonomy_path, *input;
    int has_threshold, tsv, json;
    double threshold;
} eval_options;

// What the predictions stream holds; predicted sets (small) are kept whole.
typedef struct {
    int scores, topk, sets;
    int rank_sets;            // no scores or top k: sets ranked by their label_scores
    uint64_t n_docs, k;
    int64_t *set_offsets;     // [n_docs + 1]
    int32_t *set_classes;
    float *set_scores;        // label_scores, or NULL
    uint64_t set_offsets_n, set_classes_n, set_scores_n;
} pred_layout;

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

typedef struct {
    tc_labels gold;
    tc_strindex gold_ids;
    uint8_t *is_gold;
    int32_t *pred;
    int64_t *rank;
    uint64_t matched, unmatched, duplicates;
    uint8_t *gold_used;
    int32_t *ranked_classes;  // [C] a predicted set ranked by its scores
    float *ranked_scores;     // [C]
} evaluation;

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
            tc_fail("cannot spool the input: %s", strerror(errno));
            return NULL;
        }
    if (ferror(f) || fflush(tmp) || fseek(tmp, 0, SEEK_SET)) {
        fclose(tmp);
        tc_fail("cannot spool the input: %s", strerror(errno));
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
static int scan_layout(FILE *f, const char *where, int n_classes, pred_layout *p) {
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

static int evaluate_doc(evaluation *e, tc_metrics *m, const eval_options *o, const pred_layout *p, int64_t g,
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
static void rank_set(evaluation *e, const pred_layout *p, uint64_t row, int n_classes, doc_prediction *d) {
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

static int evaluate_stream(evaluation *e, tc_metrics *m, const eval_options *o, const pred_layout *p, FILE *f,
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
    tc_progress_start(&progress, &o->cli, "docs", p->n_docs);
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

// ---------------------------------------------------------------- output

typedef struct {
    const char *key;     // for --tsv / --json
    const char *label;   // for the table
    double value;
} metric;

static void print_table(FILE *f, const evaluation *e, const tc_metrics *m, const tc_metrics_result *r,
                        const eval_options *o, const pred_layout *p) {
    fprintf(f, "documents: %" PRIu64 " predicted, %" PRIu64 " with gold labels (%" PRIu64 " not in the gold file",
            e->matched + e->unmatched, e->matched, e->unmatched);
    fprintf(f, ", %" PRIu64 " without gold classes)\n", m->docs_without_gold);
    fprintf(f, "ranking from %s\n", p->scores      ? "scores"
                                   : p->rank_sets ? "the predicted sets' label_scores (classes outside a set count 0 in MRR)"
                                                  : "top-k (gold classes beyond the top k count 0 in MRR)");
    const metric ranking[] = {{"example_f1", "Example-F1", r->example_f1}, {"p@1", "P@1", r->p_at[0]},
                              {"p@2", "P@2", r->p_at[1]}, {"p@3", "P@3", r->p_at[2]}, {"mrr", "MRR", r->mrr}};
    for (size_t i = 0; i < sizeof ranking / sizeof *ranking; i++)
        fprintf(f, "  %-12s %.4f\n", ranking[i].label, ranking[i].value);
    if (!m->with_sets) return;
    if (o->has_threshold) fprintf(f, "predicted sets: classes scoring >= %g\n", o->threshold);
    else fprintf(f, "predicted sets: as given in the predictions\n");
    fprintf(f, "  %-6s %7s %9s %9s %9s %9s %9s %9s\n", "level", "classes", "gold", "predicted", "precision", "recall",
            "micro-F1", "macro-F1");
    for (int l = 0; l <= m->max_depth; l++) {
        const tc_set_scores *s = l ? &r->levels[l - 1] : &r->all;
        char name[16];
        snprintf(name, sizeof name, l ? "%d" : "all", l);
        fprintf(f, "  %-6s %7d %9" PRId64 " %9" PRId64 " %9.4f %9.4f %9.4f %9.4f\n", name, s->classes, s->gold,
                s->predicted, s->precision, s->recall, s->f1, s->macro_f1);
    }
}

static void tsv_value(FILE *f, const char *key, double v) {
    if (isnan(v)) fprintf(f, "%s\tnan\n", key);
    else fprintf(f, "%s\t%.17g\n", key, v);
}

static void print_tsv(FILE *f, const evaluation *e, const tc_metrics *m, const tc_metrics_result *r) {
    fprintf(f, "documents\t%" PRIu64 "\nmatched\t%" PRIu64 "\nwithout_gold\t%" PRIu64 "\n", e->matched + e->unmatched,
            e->matched, m->docs_without_gold);
    tsv_value(f, "example_f1", r->example_f1);
    tsv_value(f, "p@1", r->p_at[0]);
    tsv_value(f, "p@2", r->p_at[1]);
    tsv_value(f, "p@3", r->p_at[2]);
    tsv_value(f, "mrr", r->mrr);
    if (!m->with_sets) return;
    for (int l = 0; l <= m->max_depth; l++) {
        const tc_set_scores *s = l ? &r->levels[l - 1] : &r->all;
        char key[64], prefix[16];
        snprintf(prefix, sizeof prefix, l ? "level%d_" : "", l);
        const char *names[] = {"precision", "recall", "f1", "macro_f1"};
        double values[] = {s->precision, s->recall, s->f1, s->macro_f1};
        for (int k = 0; k < 4; k++) {
            snprintf(key, sizeof key, "%s%s%s", prefix, l ? "" : "micro_", names[k]);
            if (!l && k == 3) snprintf(key, sizeof key, "macro_f1");
            tsv_value(f, key, values[k]);
        }
    }
}

static json_t *json_number(double v) { return isnan(v) ? json_null() : json_real(v); }

static json_t *json_set_scores(const tc_set_scores *s) {
    return json_pack("{s:i,s:I,s:I,s:I,s:o,s:o,s:o,s:o}", "classes", s->classes, "gold", (json_int_t)s->gold,
                     "predicted", (json_int_t)s->predicted, "correct", (json_int_t)s->correct, "precision",
                     json_number(s->precision), "recall", json_number(s->recall), "f1", json_number(s->f1), "macro_f1",
                     json_number(s->macro_f1));
}

static int print_json(FILE *f, const evaluation *e, const tc_metrics *m, const tc_metrics_result *r,
                      const eval_options *o) {
    json_t *root = json_pack("{s:{s:I,s:I,s:I},s:o,s:o,s:o,s:o,s:o}", "documents", "predicted",
                             (json_int_t)(e->matched + e->unmatched), "matched", (json_int_t)e->matched,
                             "without_gold", (json_int_t)m->docs_without_gold, "example_f1",
                             json_number(r->example_f1), "p@1", json_number(r->p_at[0]), "p@2", json_number(r->p_at[1]),
                             "p@3", json_number(r->p_at[2]), "mrr", json_number(r->mrr));
    if (!root) return tc_fail("out of memory");
    if (m->with_sets) {
        json_t *sets = json_set_scores(&r->all), *levels = json_array();
        for (int l = 1; l <= m->max_depth; l++) json_array_append_new(levels, json_set_scores(&r->levels[l - 1]));
        json_object_set_new(sets, "levels", levels);
        if (o->has_threshold) json_object_set_new(sets, "threshold", json_real(o->threshold));
        json_object_set_new(root, "sets", sets);
    }
    int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) ? tc_fail("write failed") : 0;
    fputc('\n', f);
    json_decref(root);
    return rc;
}

// ---------------------------------------------------------------- main

static void parse(eval_options *o, int argc, char **argv) {
    static const struct option options[] = {
        {"gold", required_argument, 0, OPT_GOLD}, {"taxonomy", required_argument, 0, 't'},
        {"threshold", required_argument, 0, OPT_THRESHOLD}, {"tsv", no_argument, 0, OPT_TSV},
        {"json", no_argument, 0, OPT_JSON}, TC_CLI_COMMON_OPTIONS, {0}};
    int c;
    while ((c = tc_cli_getopt(&o->cli, argc, argv, "t:", options)) != -1) switch (c) {
        case OPT_GOLD: o->gold_path = optarg; break;
        case 't': o->taxonomy_path = optarg; break;
        case OPT_THRESHOLD:
            o->threshold = tc_cli_parse_double(&o->cli, "--threshold", optarg, -1e30, 1e30);
            o->has_threshold = 1;
            break;
        case OPT_TSV: o->tsv = 1; break;
        case OPT_JSON: o->json = 1; break;
        default: tc_cli_option(&o->cli, c, optarg);
        }
    if (optind < argc - 1) tc_cli_usage_error(&o->cli, "too many arguments: '%s'", argv[optind + 1]);
    o->input = optind < argc ? argv[optind] : "-";
    if (!o->gold_path) tc_cli_usage_error(&o->cli, "--gold is required");
    if (!o->taxonomy_path) tc_cli_usage_error(&o->cli, "--taxonomy is required");
    if (o->tsv && o->json) tc_cli_usage_error(&o->cli, "--tsv and --json exclude each other");
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

static void load_gold(evaluation *e, const eval_options *o, int n_classes) {
    if (tc_labels_read_any(&e->gold, o->gold_path, n_classes) || tc_strindex_init(&e->gold_ids)) tc_cli_die(&o->cli);
    for (uint64_t i = 0; i < e->gold.n_docs; i++) {
        int added;
        if (tc_strindex_add(&e->gold_ids, e->gold.doc_ids[i], strlen(e->gold.doc_ids[i]), &added) < 0)
            tc_cli_die(&o->cli);
        if (!added) tc_cli_fail(&o->cli, "%s: document '%s' appears twice", o->gold_path, e->gold.doc_ids[i]);
    }
    e->gold_used = calloc(e->gold.n_docs + 1, 1);
    e->is_gold = calloc((size_t)n_classes, 1);
    e->pred = malloc((size_t)n_classes * sizeof *e->pred);
    e->rank = malloc((size_t)n_classes * sizeof *e->rank);
    e->ranked_classes = malloc((size_t)n_classes * sizeof *e->ranked_classes);
    e->ranked_scores = malloc((size_t)n_classes * sizeof *e->ranked_scores);
    if (!e->gold_used || !e->is_gold || !e->pred || !e->rank || !e->ranked_classes || !e->ranked_scores)
        tc_cli_fail(&o->cli, "out of memory");
    dedupe_gold(&e->gold, e->is_gold);
}

int main(int argc, char **argv) {
    eval_options o = {0};
    tc_cli_init(&o.cli, "tc-eval", usage, &argc, &argv, 1);
    parse(&o, argc, argv);
    tc_taxonomy t;
    if (tc_taxonomy_load(&t, o.taxonomy_path)) tc_cli_die(&o.cli);
    evaluation e = {0};
    load_gold(&e, &o, t.n_classes);
    const char *where = strcmp(o.input, "-") ? o.input : "(stdin)";
    FILE *f = seekable_input(o.input);
    pred_layout p;
    if (!f || scan_layout(f, where, t.n_classes, &p)) tc_cli_die(&o.cli);
    if (fseek(f, 0, SEEK_SET)) tc_cli_fail(&o.cli, "%s: cannot read twice: %s", where, strerror(errno));
    tc_metrics m;
    if (tc_metrics_init(&m, &t, o.has_threshold || p.sets)) tc_cli_die(&o.cli);
    if (evaluate_stream(&e, &m, &o, &p, f, where)) tc_cli_die(&o.cli);
    if (f != stdin) fclose(f);
    if (!e.matched)
        tc_cli_fail(&o.cli, "%s: none of the %" PRIu64 " predicted documents is in %s", where, e.unmatched, o.gold_path);
    tc_note("%" PRIu64 " of %" PRIu64 " predicted documents matched gold labels", e.matched, e.matched + e.unmatched);
    if (e.duplicates) tc_warn("%" PRIu64 " predicted documents repeat a document id; each is scored", e.duplicates);
    tc_metrics_result r;
    if (tc_metrics_finish(&m, &r)) tc_cli_die(&o.cli);
    tc_output out;
    if (tc_output_open(&out, o.cli.output, 0, 1)) tc_cli_die(&o.cli);
    int rc = 0;
    if (o.json) rc = print_json(out.f, &e, &m, &r, &o);
    else if (o.tsv) print_tsv(out.f, &e, &m, &r);
    else print_table(out.f, &e, &m, &r, &o, &p);
    if (rc) {
        tc_output_abort(&out);
        tc_cli_die(&o.cli);
    }
    if (tc_output_commit(&out)) tc_cli_die(&o.cli);
    free(r.levels);
    tc_metrics_free(&m);
    tc_labels_free(&e.gold);
    tc_strindex_free(&e.gold_ids);
    free(e.gold_used);
    free(e.is_gold);
    free(e.pred);
    free(e.rank);
    free(e.ranked_classes);
    free(e.ranked_scores);
    free(p.set_offsets);
    free(p.set_classes);
    free(p.set_scores);
    tc_taxonomy_free(&t);
    return 0;
}
