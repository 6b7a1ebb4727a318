// tc-predict: class scores of tokenized documents from a tc-train
// checkpoint, on the CPU or on GPUs, and what they decode to: the top k
// classes, thresholded sets, or the best root-to-leaf paths of the
// taxonomy. Reads the tokens in windows (common/model/token_window.h), scores a
// window (common/predict/predictor.h) while reading the next, and streams the
// predictions out (common/predict/predict_output.h) in the input's order.
#include "common/cli/cli.h"
#include "common/cli/files.h"
#include "common/comm/devices.h"
#include "common/error.h"
#include "common/cli/io.h"
#include "common/predict/predict_output.h"
#include "common/predict/predictor.h"
#include "common/cli/progress.h"
#include "common/taxonomy/taxonomy.h"
#include "common/model/token_window.h"
#include "formats/tct.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: tc-predict --model CHECKPOINT [options] [TOKENS.tct]\n"
    "Class scores of tokenized documents (tc-tokenize's output) from a tc-train\n"
    "checkpoint: score(d, c) = doc(d) . W . e_c, a logit (the probability is its\n"
    "sigmoid). Reads stdin without TOKENS.tct or with -; writes doc_ids and the\n"
    "predictions in the input's order.\n"
    "\n"
    "  -m, --model DIR       the checkpoint: a directory tc-train wrote (RUN/final,\n"
    "                        RUN/best or RUN/checkpoint-STEP)\n"
    "Output:\n"
    "      --scores          scores f32[N,C] of every class (the default without --top-k)\n"
    "  -k, --top-k K         topk_classes i32[N,K] and topk_scores f32[N,K], best first\n"
    "      --threshold T     predicted sets: classes with sigmoid(score) >= T (0 < T < 1),\n"
    "                        as label_offsets, label_classes, label_scores\n"
    "      --paths [N]       predicted sets: the classes on the N best root-to-leaf paths\n"
    "                        of the taxonomy (default 1), so no class comes without its\n"
    "                        parent; adds path_scores f32[N,P]\n"
    "      --path-score R    a path's score: mean (default) or sum of log sigmoid(score)\n"
    "  -t, --taxonomy FILE   the taxonomy (tc-taxo build) for --paths and class names\n"
    "                        (default: taxonomy.tct in the checkpoint, if there)\n"
    "      --sigmoid         write probabilities instead of logits\n"
    "      --text            doc_id<TAB>class<TAB>class... lines for people, not tensors:\n"
    "                        the predicted set, else the top K classes (default 1)\n"
    "Compute:\n"
    "      --max-len N       cut documents to N tokens (default: the checkpoint's, as\n"
    "                        in training)\n"
    "      --batch-size N    sequences per batch (default 32)\n"
    "      --window N        rows sorted by length together (default 4096; at least 8\n"
    "                        batches for each device)\n"
    "      --precision P     arithmetic of the encoder's matrix products: fp32 (default),\n"
    "                        bf16, fp16 (GPUs), int8 (the CPU), auto (the fastest there)\n"
    TC_CLI_GPU_HELP TC_CLI_COMMON_HELP;

enum { OPT_SCORES = TC_OPT_FIRST_PROGRAM, OPT_THRESHOLD, OPT_PATHS, OPT_PATH_SCORE, OPT_SIGMOID, OPT_TEXT, OPT_MAX_LEN,
       OPT_BATCH, OPT_WINDOW, OPT_PRECISION };

typedef struct {
    const char *model, *input, *taxonomy, *precision, *path_score;
    int text, max_len, batch_size;
    long window;
    tc_prediction_format f;
} predict_options;

// --paths takes an optional count, also as the next word ("--paths 3").
static int paths_count(tc_cli *cli, int argc, char **argv, const char *arg) {
    if (!arg && optind < argc && argv[optind][0] >= '0' && argv[optind][0] <= '9' &&
        strspn(argv[optind], "0123456789") == strlen(argv[optind]))
        arg = argv[optind++];
    return arg ? (int)tc_cli_parse_int(cli, "--paths", arg, 1, 1 << 20) : 1;
}

static void parse_options(tc_cli *cli, int argc, char **argv, predict_options *o) {
    static const struct option options[] = {
        {"model", required_argument, 0, 'm'},          {"scores", no_argument, 0, OPT_SCORES},
        {"top-k", required_argument, 0, 'k'},          {"threshold", required_argument, 0, OPT_THRESHOLD},
        {"paths", optional_argument, 0, OPT_PATHS},    {"path-score", required_argument, 0, OPT_PATH_SCORE},
        {"taxonomy", required_argument, 0, 't'},       {"sigmoid", no_argument, 0, OPT_SIGMOID},
        {"text", no_argument, 0, OPT_TEXT},            {"max-len", required_argument, 0, OPT_MAX_LEN},
        {"batch-size", required_argument, 0, OPT_BATCH}, {"window", required_argument, 0, OPT_WINDOW},
        {"precision", required_argument, 0, OPT_PRECISION}, TC_CLI_COMMON_OPTIONS, TC_CLI_GPU_OPTIONS, {0, 0, 0, 0}};
    *o = (predict_options){.batch_size = 32, .window = 4096, .precision = "fp32"};
    int c;
    while ((c = tc_cli_getopt(cli, argc, argv, "m:k:t:", options)) != -1) {
        switch (c) {
        case 'm': o->model = optarg; break;
        case OPT_SCORES: o->f.scores = 1; break;
        case 'k': o->f.top_k = (int)tc_cli_parse_int(cli, "--top-k", optarg, 1, 1 << 24); break;
        case OPT_THRESHOLD:
            o->f.threshold = tc_cli_parse_double(cli, "--threshold", optarg, 0, 1);
            if (o->f.threshold <= 0 || o->f.threshold >= 1)
                tc_cli_usage_error(cli, "--threshold: %s is not a probability strictly between 0 and 1", optarg);
            break;
        case OPT_PATHS: o->f.paths = paths_count(cli, argc, argv, optarg); break;
        case OPT_PATH_SCORE: o->path_score = optarg; break;
        case 't': o->taxonomy = optarg; break;
        case OPT_SIGMOID: o->f.sigmoid = 1; break;
        case OPT_TEXT: o->text = 1; break;
        case OPT_MAX_LEN: o->max_len = (int)tc_cli_parse_int(cli, "--max-len", optarg, 2, 1 << 20); break;
        case OPT_BATCH: o->batch_size = (int)tc_cli_parse_int(cli, "--batch-size", optarg, 1, 65536); break;
        case OPT_WINDOW: o->window = (long)tc_cli_parse_int(cli, "--window", optarg, 1, 1L << 24); break;
        case OPT_PRECISION: o->precision = optarg; break;
        default: tc_cli_option(cli, c, optarg);
        }
    }
    if (optind + 1 < argc) tc_cli_usage_error(cli, "one input at most (got '%s' and '%s')", argv[optind], argv[optind + 1]);
    o->input = optind < argc ? argv[optind] : "-";
    if (!o->model) tc_cli_usage_error(cli, "--model CHECKPOINT is required");
    if (o->f.paths && o->f.threshold > 0) tc_cli_usage_error(cli, "--paths and --threshold exclude each other");
    if (o->path_score && !o->f.paths) tc_cli_usage_error(cli, "--path-score needs --paths");
    if (o->path_score && tc_path_rule_parse(o->path_score, &o->f.path_rule))
        tc_cli_usage_error(cli, "--path-score: %s", tc_error());
    if (o->text && (o->f.scores || o->f.sigmoid))
        tc_cli_usage_error(cli, "--text prints class names; --%s is for tensor output", o->f.scores ? "scores" : "sigmoid");
    if (!o->text && !o->f.top_k) o->f.scores = 1;
}

// The taxonomy for paths and names: --taxonomy, else one the checkpoint holds.
static int load_taxonomy(tc_cli *cli, const predict_options *o, const tc_predictor_model *pm, tc_taxonomy *tx) {
    char inside[4096];
    snprintf(inside, sizeof inside, "%s/taxonomy.tct", pm->dir);
    const char *path = o->taxonomy ? o->taxonomy : access(inside, F_OK) == 0 ? inside : NULL;
    if (!path) {
        if (o->f.paths)
            tc_cli_usage_error(cli, "--paths needs the taxonomy: --taxonomy FILE (%s holds none)", pm->dir);
        return 0;
    }
    if (tc_taxonomy_load(tx, path)) tc_cli_die(cli);
    if (o->f.paths && tc_taxonomy_check_paths(tx, "tc-predict --paths", TC_PATHS_MAX, TC_PATH_CLASSES_MAX))
        tc_cli_fail(cli, "%s: %s", path, tc_error());
    if (tx->n_classes != pm->K)
        tc_cli_fail(cli, "%s: %d classes, but the checkpoint %s has %d", path, tx->n_classes, pm->dir, pm->K);
    // the checkpoint's names are the taxonomy's, or bare ids (trained without one)
    int ids = 1;
    for (int k = 0; k < pm->K && ids; k++) {
        char id[16];
        snprintf(id, sizeof id, "%d", k);
        ids = !strcmp(pm->class_names[k], id);
    }
    for (int k = 0; k < pm->K && !ids; k++)
        if (strcmp(pm->class_names[k], tx->names[k]))
            tc_cli_fail(cli, "%s: class %d is '%s', but in the checkpoint %s it is '%s'", path, k, tx->names[k], pm->dir,
                        pm->class_names[k]);
    return 1;
}

static void settle(tc_cli *cli, predict_options *o, const tc_predictor_model *pm, tc_predictor_options *po) {
    memset(po, 0, sizeof *po);
    po->batch_size = o->batch_size;
    po->threads = tc_cli_threads(cli);
    if (tc_devices_select(cli, &po->devices)) tc_cli_usage_error(cli, "%s", tc_error());
    if (tc_precision_select(o->precision, &po->devices, &po->precision)) {
        if (!tc_precision_known(o->precision)) tc_cli_usage_error(cli, "%s", tc_error());
        tc_cli_fail(cli, "%s", tc_error());
    }
    // enough rows for every device to take several batches of each window (as tc-encode)
    long workers = po->devices.n_gpus ? po->devices.n_gpus : 1, least = (long)o->batch_size * workers * 8;
    if (o->window < least) o->window = least;
    po->max_rows = (size_t)o->window;
    if (o->max_len > tc_bert_max_len(&pm->model.cfg))
        tc_cli_usage_error(cli, "--max-len %d: the model has %d positions", o->max_len, tc_bert_max_len(&pm->model.cfg));
    if (!o->max_len) o->max_len = pm->max_len;
    if (o->f.top_k > pm->K) {
        tc_note("--top-k %d: the checkpoint has %d classes; writing %d", o->f.top_k, pm->K, pm->K);
        o->f.top_k = pm->K;
    }
}

// Where the predictions go: a tensor stream, or text lines.
typedef struct {
    int text, opened;
    tc_tensor_output tensors;
    tc_output lines;
} destination;

static int open_destination(destination *d, const tc_cli *cli, int text) {
    memset(d, 0, sizeof *d);
    d->text = text;
    int rc = text ? tc_output_open(&d->lines, cli->output, 0, cli->force) : tc_tensor_output_open(&d->tensors, cli);
    d->opened = rc == 0;
    return rc;
}

static int commit_destination(destination *d) {
    d->opened = 0;
    return d->text ? tc_output_commit(&d->lines) : tc_tensor_output_commit(&d->tensors);
}

static void abort_destination(destination *d) {
    if (!d->opened) return;
    if (d->text) tc_output_abort(&d->lines);
    else tc_tensor_output_abort(&d->tensors);
    d->opened = 0;
}

static int begin_predictions(tc_prediction_writer *pw, destination *d, const predict_options *o,
                             const tc_predictor_model *pm, const tc_predictor_options *po, const char *const *names,
                             const tc_taxonomy *tx) {
    char device[64];
    if (po->devices.n_gpus) snprintf(device, sizeof device, "%d GPU%s", po->devices.n_gpus, po->devices.n_gpus > 1 ? "s" : "");
    else snprintf(device, sizeof device, "cpu");
    tct_attr attrs[] = {
        {"score", o->f.sigmoid ? "probability" : "logit"},
        {"model", pm->dir},
        {"model_fingerprint", pm->model.weights_fingerprint},
        {"vocab_fingerprint", pm->model.vocab_fingerprint},
        {"pooling", tc_pooling_name(pm->pooling)},
        {"normalized", pm->normalize ? "true" : "false"},
        {"precision", tc_precision_name(po->precision)},
        {"device", device},
    };
    return tc_prediction_writer_begin(pw, &o->f, pm->K, names, tx, po->max_rows, d->text ? NULL : d->tensors.writer,
                                      d->text ? d->lines.f : NULL, attrs, sizeof attrs / sizeof *attrs);
}

static int write_window(tc_prediction_writer *pw, const tc_token_window *w, const float *scores) {
    const char **ids = tc_malloc_array(w->n ? w->n : 1, sizeof *ids);
    if (!ids) return -1;
    for (size_t i = 0; i < w->n; i++) ids[i] = tc_token_window_id(w, i);
    int rc = tc_prediction_writer_append(pw, w->n, ids, scores);
    free(ids);
    return rc;
}

// The main loop: window k+1 is read while the devices encode window k; then
// k+1 is started, and k's head is computed and its predictions written
// while the devices encode k+1. The output is opened once the first window
// has been read and checked, so that a wrong input writes nothing at all.
static int predict_stream(tc_cli *cli, const predict_options *o, const tc_predictor_model *pm,
                          tc_predictor_options *po, tc_token_source *src, const char *const *names,
                          const tc_taxonomy *tx) {
    tc_token_window win[2];
    float *scores = tc_malloc_array((size_t)o->window * (size_t)pm->K, sizeof *scores);
    tc_predictor *p = NULL;
    tc_prediction_writer pw;
    destination dest = {0};
    int rc = -1;
    tc_progress progress;
    tc_progress_start(&progress, cli, "docs", 0);
    memset(win, 0, sizeof win);
    memset(&pw, 0, sizeof pw);
    if (!scores || tc_token_window_alloc(&win[0], (size_t)o->window) ||
        tc_token_window_alloc(&win[1], (size_t)o->window) || tc_token_source_read(src, &win[0]))
        goto done;
    progress.total = src->total;
    if (win[0].n) {
        po->max_len = src->width;
        if (tc_predictor_create(&p, pm, po)) goto done;
        tc_verbose("%s on %s, %d worker%s, batches of %d, windows of %zu rows, pooling %s%s, documents cut to %d "
                   "tokens",
                   pm->dir, po->devices.n_gpus ? "GPUs" : "the CPU", tc_predictor_workers(p),
                   tc_predictor_workers(p) > 1 ? "s" : "", po->batch_size, po->max_rows, tc_pooling_name(pm->pooling),
                   pm->normalize ? ", normalized" : "", src->max_len);
        tc_verbose_precision(po->precision, &po->devices);
    }
    if (open_destination(&dest, cli, o->text) || begin_predictions(&pw, &dest, o, pm, po, names, tx)) goto done;
    if (win[0].n && tc_predictor_start(p, win[0].n, win[0].rows, win[0].lengths)) goto done;
    for (int cur = 0; win[cur].n > 0; cur ^= 1) {
        tc_token_window *next = &win[cur ^ 1];
        int read_rc = tc_token_source_read(src, next);
        if (tc_predictor_wait(p) || read_rc || (next->n && tc_predictor_start(p, next->n, next->rows, next->lengths)) ||
            tc_predictor_head(p, scores) || write_window(&pw, &win[cur], scores))
            goto done;
        tc_progress_update(&progress, src->done - next->n);
    }
    rc = tc_prediction_writer_end(&pw) || commit_destination(&dest) ? -1 : 0;
    if (rc == 0) tc_progress_finish(&progress);
done:
    if (rc && dest.opened && dest.text && ferror(dest.lines.f)) tc_fail_context("%s", tc_output_name(&dest.lines));
    abort_destination(&dest);
    tc_prediction_writer_free(&pw);
    tc_predictor_free(p);
    tc_token_window_free(&win[0]), tc_token_window_free(&win[1]);
    free(scores);
    return rc;
}

int main(int argc, char **argv) {
    tc_cli cli;
    tc_cli_init(&cli, "tc-predict", usage, &argc, &argv, 1);
    predict_options o;
    parse_options(&cli, argc, argv, &o);
    tc_files_input(NULL, o.input);
    tc_files_input("--taxonomy", o.taxonomy);
    tc_files_input_model("--model", o.model);
    tc_cli_check_files(&cli);
    tc_predictor_model pm;
    if (tc_predictor_model_load(&pm, o.model)) tc_cli_die(&cli);
    tc_taxonomy tx;
    int has_taxonomy = load_taxonomy(&cli, &o, &pm, &tx);
    tc_predictor_options po;
    settle(&cli, &o, &pm, &po);
    const char *where = strcmp(o.input, "-") ? o.input : "(stdin)";
    FILE *in = tc_input_open(o.input);
    if (!in) tc_cli_die(&cli);
    tct_reader *reader;
    tc_token_source src;
    if (tct_reader_open(&reader, in, where) || tc_token_source_open(&src, reader, &pm.model, where, o.max_len, 1))
        tc_cli_die(&cli);
    const char *const *names = has_taxonomy ? (const char *const *)tx.names : (const char *const *)pm.class_names;
    int rc = predict_stream(&cli, &o, &pm, &po, &src, names, has_taxonomy ? &tx : NULL);
    tc_token_source_close(&src);
    tct_reader_close(reader);
    tc_input_close(in);
    if (has_taxonomy) tc_taxonomy_free(&tx);
    tc_predictor_model_free(&pm);
    if (rc) tc_cli_die(&cli);
    return 0;
}
