// tc-dump: look inside a tensor stream: list, statistics, first rows,
// provenance, integrity check, and exports to .npy, TSV and JSON.
#include "common/cli/cli.h"
#include "common/cli/files.h"
#include "common/cli/io.h"
#include "formats/tct.h"
#include "formats/tct_export.h"
#include "common/error.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: tc-dump [options] [FILE]\n"
    "Shows what a tensor stream (.tct) holds; reads stdin without FILE or with -.\n"
    "\n"
    "  (no option)         list tensors: name, dtype, shape, sizes, attributes\n"
    "      --stats         add min, max, mean and NaN/inf counts (string lengths for str)\n"
    "      --head N        show the first N rows of each tensor\n"
    "      --meta          show the provenance: program, version, arguments, time\n"
    "      --tensor NAME   only this tensor (repeatable)\n"
    "      --check         read the whole stream and verify it; exit 1 with the byte\n"
    "                      offset of the first problem\n"
    "      --npy NAME      export a tensor as .npy (bf16 as f32, str as unicode)\n"
    "      --tsv NAME[,NAME...]  export rows as tab-separated text; several tensors\n"
    "                      with the same rows side by side\n"
    "      --json          everything as JSON (data limited by --head)\n"
    TC_CLI_COMMON_HELP;

enum { OPT_STATS = TC_OPT_FIRST_PROGRAM, OPT_HEAD, OPT_META, OPT_TENSOR, OPT_CHECK, OPT_NPY, OPT_TSV, OPT_JSON };

typedef struct {
    int stats, meta, check, json;
    int64_t head;          // -1: no rows
    const char *npy, *tsv;
    const char **only;
    size_t n_only;
    const char *input;
} dump_options;

typedef struct {
    int selected;
    uint64_t count, nan, inf;
    double min, max, sum;
    FILE *rows;            // formatted rows (--head, --json)
    char *rows_text;
    size_t rows_size;
    uint64_t rows_kept;
} tensor_report;

static int selected(const dump_options *o, const char *name) {
    if (!o->n_only) return 1;
    for (size_t i = 0; i < o->n_only; i++)
        if (!strcmp(o->only[i], name)) return 1;
    return 0;
}

static void accumulate_stats(tensor_report *rep, const tct_event *ev) {
    const tct_tensor_info *t = ev->tensor;
    uint64_t n = ev->rows * t->row_elements;
    for (uint64_t i = 0; i < n; i++) {
        double v = t->dtype == TCT_STR ? (double)ev->string_lengths[i] : tct_element_double(t->dtype, ev->data, i);
        if (isnan(v)) rep->nan++;
        else if (isinf(v)) rep->inf++;
        else {
            if (rep->count == 0 || v < rep->min) rep->min = v;
            if (rep->count == 0 || v > rep->max) rep->max = v;
            rep->sum += v;
            rep->count++;
        }
    }
}

// One row's elements; nested brackets in JSON, space-separated in text.
static void format_row(FILE *f, const tct_tensor_info *t, const tct_event *ev, uint64_t row, int json,
                       const char **string_at) {
    uint64_t n = t->row_elements, shown = json || n <= 12 ? n : 10;
    if (json && t->rank > 1) fputc('[', f);
    for (uint64_t e = 0; e < shown; e++) {
        if (e) fputs(json ? "," : " ", f);
        if (t->dtype == TCT_STR) {
            uint32_t len = ev->string_lengths[row * n + e];
            tct_write_escaped(f, *string_at, len, 1);
            *string_at += len;
        } else {
            char text[64];
            tct_format_element(text, sizeof text, t->dtype, ev->data, row * n + e, json);
            fputs(text, f);
        }
    }
    if (t->dtype == TCT_STR)
        for (uint64_t e = shown; e < n; e++) *string_at += ev->string_lengths[row * n + e];
    if (shown < n) fprintf(f, " ... (%" PRIu64 " values)", n);
    if (json && t->rank > 1) fputc(']', f);
}

static void keep_rows(tensor_report *rep, const tct_event *ev, const dump_options *o) {
    // Rows of no values ([N,0]) are not listed: the shape says it all, and
    // N may be 2^40 in a stream of a few hundred bytes.
    if (ev->tensor->row_elements == 0) return;
    const char *string_at = ev->string_bytes;
    for (uint64_t r = 0; r < ev->rows; r++) {
        if (o->head >= 0 && rep->rows_kept >= (uint64_t)o->head) return;
        if (o->json) fputs(rep->rows_kept ? ", " : "", rep->rows);
        else fprintf(rep->rows, "    [%" PRIu64 "] ", rep->rows_kept);
        format_row(rep->rows, ev->tensor, ev, r, o->json, &string_at);
        if (!o->json) fputc('\n', rep->rows);
        rep->rows_kept++;
    }
}

static void shape_text(char *buf, size_t size, const tct_tensor_info *t) {
    size_t at = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < t->rank && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%" PRIu64, i ? "," : "", t->dims[i]);
    if (at < size) snprintf(buf + at, size - at, "]");
}

static void print_attrs_text(FILE *out, const tct_attr *attrs, size_t n, const char *indent) {
    for (size_t i = 0; i < n; i++) fprintf(out, "%s%s = %s\n", indent, attrs[i].key, attrs[i].value);
}

static void print_attrs_json(FILE *out, const tct_attr *attrs, size_t n) {
    fputc('{', out);
    for (size_t i = 0; i < n; i++) {
        if (i) fputs(", ", out);
        tct_write_escaped(out, attrs[i].key, strlen(attrs[i].key), 1);
        fputs(": ", out);
        tct_write_escaped(out, attrs[i].value, strlen(attrs[i].value), 1);
    }
    fputc('}', out);
}

static void print_stats(FILE *out, const tensor_report *rep, const tct_tensor_info *t, int json) {
    double mean = rep->count ? rep->sum / (double)rep->count : NAN;
    const char *what = t->dtype == TCT_STR ? "length " : "";
    if (json) {
        fprintf(out, ", \"stats\": {\"count\": %" PRIu64 ", \"nan\": %" PRIu64 ", \"inf\": %" PRIu64, rep->count, rep->nan, rep->inf);
        if (rep->count) fprintf(out, ", \"min\": %.9g, \"max\": %.9g, \"mean\": %.9g", rep->min, rep->max, mean);
        fputc('}', out);
    } else if (rep->count) {
        fprintf(out, "    %smin %.9g  max %.9g  mean %.9g  nan %" PRIu64 "  inf %" PRIu64 "\n", what, rep->min, rep->max,
               mean, rep->nan, rep->inf);
    } else {
        fprintf(out, "    no finite values  nan %" PRIu64 "  inf %" PRIu64 "\n", rep->nan, rep->inf);
    }
}

static void print_listing(FILE *out, tct_reader *r, tensor_report *reps, const dump_options *o, const char *where) {
    size_t n_prov;
    const tct_attr *prov = tct_reader_provenance(r, &n_prov);
    size_t n = tct_reader_tensor_count(r);
    if (o->json) {
        fprintf(out, "{\"file\": ");
        tct_write_escaped(out, where, strlen(where), 1);
        fprintf(out, ", \"format\": \"%d.%d\", \"compressed\": %s, \"bytes\": %" PRIu64 ", \"provenance\": ",
               TCT_VERSION_MAJOR, tct_reader_version_minor(r), tct_reader_compressed(r) ? "true" : "false",
               tct_reader_offset(r));
        print_attrs_json(out, prov, n_prov);
        fprintf(out, ", \"tensors\": [");
    } else {
        fprintf(out, "%s: tensor stream %d.%d, %s, %" PRIu64 " bytes, %zu tensors\n", where, TCT_VERSION_MAJOR,
               tct_reader_version_minor(r), tct_reader_compressed(r) ? "zstd" : "uncompressed",
               tct_reader_offset(r), n);
        if (o->meta) print_attrs_text(out, prov, n_prov, "  ");
    }
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        tct_tensor_info *t = tct_reader_tensor(r, i);
        tensor_report *rep = &reps[i];
        if (!rep->selected) continue;
        char shape[256];
        shape_text(shape, sizeof shape, t);
        if (rep->rows) fclose(rep->rows);
        rep->rows = NULL;
        if (o->json) {
            fprintf(out, "%s{\"name\": ", first ? "" : ", ");
            tct_write_escaped(out, t->name, strlen(t->name), 1);
            fprintf(out, ", \"dtype\": \"%s\", \"shape\": %s, \"raw_bytes\": %" PRIu64 ", \"compressed_bytes\": %" PRIu64
                   ", \"attributes\": ",
                   tct_dtype_name(t->dtype), shape, t->raw_bytes, t->compressed_bytes);
            print_attrs_json(out, t->attrs, t->n_attrs);
            if (o->stats) print_stats(out, rep, t, 1);
            fprintf(out, ", \"data\": [%s]}", rep->rows_text ? rep->rows_text : "");
        } else {
            fprintf(out, "  %-20s %-4s %-18s raw %12" PRIu64 "  compressed %12" PRIu64 "\n", t->name,
                   tct_dtype_name(t->dtype), shape, t->raw_bytes, t->compressed_bytes);
            print_attrs_text(out, t->attrs, t->n_attrs, "    ");
            if (o->stats) print_stats(out, rep, t, 0);
            if (rep->rows_text) fputs(rep->rows_text, out);
        }
        first = 0;
    }
    if (o->json) fprintf(out, "]}\n");
}

// The listing modes (plain, --stats, --head, --meta, --json, --check).
static int run_listing(FILE *out, tct_reader *r, const dump_options *o, const char *where) {
    tensor_report *reps = NULL;
    size_t cap = 0;
    tct_event ev;
    int rc;
    while ((rc = tct_reader_next(r, &ev)) == 1) {
        if (ev.kind == TCT_EVENT_FINISH || o->check) continue;
        size_t id = (size_t)ev.tensor->id;
        if (ev.kind == TCT_EVENT_BEGIN) {
            if (id >= cap) {
                cap = cap ? 2 * cap : 16;
                tensor_report *p = realloc(reps, cap * sizeof *p);
                if (!p) return tc_fail("out of memory");
                reps = p;
            }
            memset(&reps[id], 0, sizeof reps[id]);
            reps[id].selected = selected(o, ev.tensor->name);
            if (reps[id].selected && (o->head >= 0 || o->json))
                reps[id].rows = open_memstream(&reps[id].rows_text, &reps[id].rows_size);
        } else if (ev.kind == TCT_EVENT_CHUNK && reps[id].selected) {
            if (o->stats) accumulate_stats(&reps[id], &ev);
            if (reps[id].rows) keep_rows(&reps[id], &ev, o);
        }
    }
    if (rc == 0 && o->check) {
        if (o->stats || o->head >= 0 || o->json) tc_note("--check ignores the listing options");
        fprintf(out, "%s: ok, %zu tensors, %" PRIu64 " bytes\n", where, tct_reader_tensor_count(r), tct_reader_offset(r));
    } else if (rc == 0) {
        for (size_t i = 0; i < o->n_only; i++) {
            int found = 0;
            for (size_t k = 0; k < tct_reader_tensor_count(r); k++)
                found |= !strcmp(tct_reader_tensor(r, k)->name, o->only[i]);
            if (!found) rc = tc_fail("%s: no tensor '%s'", where, o->only[i]);
        }
        if (rc == 0) print_listing(out, r, reps, o, where);
    }
    for (size_t i = 0; reps && i < tct_reader_tensor_count(r) && i < cap; i++) {
        if (reps[i].rows) fclose(reps[i].rows);
        free(reps[i].rows_text);
    }
    free(reps);
    return rc;
}


int main(int argc, char **argv) {
    static const struct option options[] = {
        {"stats", no_argument, 0, OPT_STATS}, {"head", required_argument, 0, OPT_HEAD},
        {"meta", no_argument, 0, OPT_META},   {"tensor", required_argument, 0, OPT_TENSOR},
        {"check", no_argument, 0, OPT_CHECK}, {"npy", required_argument, 0, OPT_NPY},
        {"tsv", required_argument, 0, OPT_TSV}, {"json", no_argument, 0, OPT_JSON},
        TC_CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    tc_cli cli;
    tc_cli_init(&cli, "tc-dump", usage, &argc, &argv, 1);
    dump_options o = {.head = -1};
    int c;
    while ((c = tc_cli_getopt(&cli, argc, argv, "", options)) != -1) {
        switch (c) {
        case OPT_STATS: o.stats = 1; break;
        case OPT_HEAD: o.head = tc_cli_parse_int(&cli, "--head", optarg, 0, INT64_MAX); break;
        case OPT_META: o.meta = 1; break;
        case OPT_CHECK: o.check = 1; break;
        case OPT_NPY: o.npy = optarg; break;
        case OPT_TSV: o.tsv = optarg; break;
        case OPT_JSON: o.json = 1; break;
        case OPT_TENSOR:
            o.only = realloc(o.only, (o.n_only + 1) * sizeof *o.only);
            if (!o.only) tc_cli_fail(&cli, "out of memory");
            o.only[o.n_only++] = optarg;
            break;
        default: tc_cli_option(&cli, c, optarg);
        }
    }
    if (optind + 1 < argc) tc_cli_usage_error(&cli, "one input at most (got '%s' and '%s')", argv[optind], argv[optind + 1]);
    if ((o.npy != NULL) + (o.tsv != NULL) + o.json + o.check > 1)
        tc_cli_usage_error(&cli, "--npy, --tsv, --json and --check do not go together");
    if (cli.output && !o.npy && !o.tsv && !o.json)
        tc_cli_usage_error(&cli, "-o is for the exports (--npy, --tsv, --json)");
    o.input = optind < argc ? argv[optind] : "-";
    const char *where = strcmp(o.input, "-") ? o.input : "(stdin)";
    tc_files_input(NULL, o.input);
    tc_cli_check_files(&cli);

    FILE *in = tc_input_open(o.input);
    if (!in) tc_cli_die(&cli);
    tct_reader *r;
    if (tct_reader_open(&r, in, where)) tc_cli_die(&cli);
    tc_output out;
    int rc = tc_output_open(&out, cli.output, o.npy != NULL, cli.force);
    if (rc == 0) {
        if (o.npy) rc = tct_export_npy(r, o.npy, out.f, where, tc_output_name(&out));
        else if (o.tsv) rc = tct_export_tsv(r, o.tsv, out.f, where, tc_output_name(&out));
        else rc = run_listing(out.f, r, &o, where);
        if (rc == 0) rc = tc_output_commit(&out);
        else tc_output_abort(&out);
    }
    tct_reader_close(r);
    tc_input_close(in);
    free(o.only);
    if (rc) tc_cli_die(&cli);
    return 0;
}
