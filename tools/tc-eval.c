// tc-eval: metrics of predictions against gold labels: Example-F1, P@1..3
// and MRR as TELEClass's eval_classifier.py computes them, and for
// thresholded or set predictions micro/macro F1 overall and per level.
#include "common/cli/cli.h"
#include "common/cli/files.h"
#include "common/error.h"
#include "common/cli/io.h"
#include "common/predict/evaluation.h"
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


// ---------------------------------------------------------------- output

typedef struct {
    const char *key;     // for --tsv / --json
    const char *label;   // for the table
    double value;
} metric;

static void print_table(FILE *f, const tc_evaluation *e, const tc_metrics *m, const tc_metrics_result *r,
                        const eval_options *o, const tc_prediction_layout *p) {
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

static void print_tsv(FILE *f, const tc_evaluation *e, const tc_metrics *m, const tc_metrics_result *r) {
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

static int print_json(FILE *f, const tc_evaluation *e, const tc_metrics *m, const tc_metrics_result *r,
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
    errno = 0;
    int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) ? tc_fail("write failed: %s", strerror(errno ? errno : EIO)) : 0;
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

int main(int argc, char **argv) {
    eval_options o = {0};
    tc_cli_init(&o.cli, "tc-eval", usage, &argc, &argv, 1);
    parse(&o, argc, argv);
    tc_files_input("--gold", o.gold_path);
    tc_files_input("--taxonomy", o.taxonomy_path);
    tc_files_input(NULL, o.input);
    tc_cli_check_files(&o.cli);
    tc_taxonomy t;
    if (tc_taxonomy_load(&t, o.taxonomy_path)) tc_cli_die(&o.cli);
    tc_evaluation e;
    if (tc_evaluation_load_gold(&e, o.gold_path, t.n_classes)) tc_cli_die(&o.cli);
    tc_evaluation_options eo = {.has_threshold = o.has_threshold, .threshold = o.threshold, .cli = &o.cli};
    if (tc_evaluation_run(&e, &t, o.input, &eo)) tc_cli_die(&o.cli);
    const char *where = strcmp(o.input, "-") ? o.input : "(stdin)";
    if (!e.matched)
        tc_cli_fail(&o.cli, "%s: none of the %" PRIu64 " predicted documents is in %s", where, e.unmatched, o.gold_path);
    tc_note("%" PRIu64 " of %" PRIu64 " predicted documents matched gold labels", e.matched, e.matched + e.unmatched);
    if (e.duplicates) tc_warn("%" PRIu64 " predicted documents repeat a document id; each is scored", e.duplicates);
    tc_metrics_result r;
    if (tc_metrics_finish(&e.metrics, &r)) tc_cli_die(&o.cli);
    tc_output out;
    if (tc_output_open(&out, o.cli.output, 0, 1)) tc_cli_die(&o.cli);
    int rc = 0;
    if (o.json) rc = print_json(out.f, &e, &e.metrics, &r, &o);
    else if (o.tsv) print_tsv(out.f, &e, &e.metrics, &r);
    else print_table(out.f, &e, &e.metrics, &r, &o, &e.layout);
    if (rc) {
        tc_fail_context("%s", tc_output_name(&out));
        tc_output_abort(&out);
        tc_cli_die(&o.cli);
    }
    if (tc_output_commit(&out)) tc_cli_die(&o.cli);
    free(r.levels);
    tc_evaluation_free(&e);
    tc_taxonomy_free(&t);
    return 0;
}
