// tc-encode: sentence embeddings of a tokens file with a BERT model, on the
// CPU or on GPUs. Reads doc_ids, input_ids and lengths in windows
// (common/model/token_window.h), encodes each window (common/model/encoder.h) while
// reading the next, and streams out doc_ids and embeddings in the input's
// order.
#include "common/model/bert_model.h"
#include "common/cli/cli.h"
#include "common/cli/files.h"
#include "common/comm/devices.h"
#include "common/model/encoder.h"
#include "common/error.h"
#include "common/cli/io.h"
#include "common/cli/progress.h"
#include "common/model/token_window.h"
#include "formats/tct.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: tc-encode [options] [TOKENS.tct]\n"
    "Sentence embeddings of tokenized documents (tc-tokenize's output) with a BERT\n"
    "model; reads stdin without TOKENS.tct or with -. Writes doc_ids and embeddings\n"
    "f32[N,D] in the input's order.\n"
    "\n"
    "  -m, --model DIR       Hugging Face model directory (default models/all-MiniLM-L6-v2)\n"
    "      --batch-size N    sequences per batch (default 32)\n"
    "      --precision P     arithmetic of the matrix products: fp32 (default), bf16, fp16\n"
    "                        (GPUs), int8 (the CPU), auto (the fastest this device has)\n"
    "      --pooling P       mean, cls or pooler (default: the model's sentence-transformers\n"
    "                        setting, else mean)\n"
    "      --normalize       L2-normalize the embeddings (default: on when the model's\n"
    "      --no-normalize    modules.json has a Normalize module)\n"
    "      --dtype T         embeddings stored as f32, f16 or bf16 (default f32)\n"
    "      --window N        rows sorted by length together (default 4096)\n"
    TC_CLI_GPU_HELP TC_CLI_COMMON_HELP;

enum { OPT_BATCH = TC_OPT_FIRST_PROGRAM, OPT_PRECISION, OPT_POOLING, OPT_NORMALIZE, OPT_NO_NORMALIZE, OPT_DTYPE,
       OPT_WINDOW };

typedef struct {
    const char *model, *input, *pooling, *precision;
    int batch_size, normalize;  // normalize: -1 the model's default
    long window;
    tct_dtype dtype;
} encode_options;

static int write_window(tct_writer *wr, int id_tensor, int emb_tensor, const tc_token_window *w, const float *out,
                        int D, tct_dtype dtype, void *convert) {
    const char **ids = tc_malloc_array(w->n ? w->n : 1, sizeof *ids);
    if (!ids) return -1;
    for (size_t i = 0; i < w->n; i++) ids[i] = tc_token_window_id(w, i);
    int rc = tct_writer_append_strings(wr, id_tensor, ids, NULL, w->n);
    free(ids);
    const void *rows = out;
    if (!rc && dtype != TCT_F32) {
        uint16_t *half = convert;
        for (size_t i = 0; i < w->n * (size_t)D; i++)
            half[i] = dtype == TCT_F16 ? tct_f32_to_f16(out[i]) : tct_f32_to_bf16(out[i]);
        rows = half;
    }
    return rc || tct_writer_append(wr, emb_tensor, rows, w->n) || tct_writer_flush(wr) ? -1 : 0;
}

static void parse_options(tc_cli *cli, int argc, char **argv, encode_options *o) {
    static const struct option options[] = {
        {"model", required_argument, 0, 'm'},           {"batch-size", required_argument, 0, OPT_BATCH},
        {"precision", required_argument, 0, OPT_PRECISION}, {"pooling", required_argument, 0, OPT_POOLING},
        {"normalize", no_argument, 0, OPT_NORMALIZE},    {"no-normalize", no_argument, 0, OPT_NO_NORMALIZE},
        {"dtype", required_argument, 0, OPT_DTYPE},      {"window", required_argument, 0, OPT_WINDOW},
        TC_CLI_COMMON_OPTIONS, TC_CLI_GPU_OPTIONS, {0, 0, 0, 0}};
    *o = (encode_options){.model = "models/all-MiniLM-L6-v2", .batch_size = 32, .normalize = -1, .window = 4096,
                          .dtype = TCT_F32, .precision = "fp32"};
    int c;
    while ((c = tc_cli_getopt(cli, argc, argv, "m:", options)) != -1) {
        switch (c) {
        case 'm': o->model = optarg; break;
        case OPT_BATCH: o->batch_size = (int)tc_cli_parse_int(cli, "--batch-size", optarg, 1, 65536); break;
        case OPT_PRECISION: o->precision = optarg; break;
        case OPT_POOLING: o->pooling = optarg; break;
        case OPT_NORMALIZE: o->normalize = 1; break;
        case OPT_NO_NORMALIZE: o->normalize = 0; break;
        case OPT_WINDOW: o->window = (long)tc_cli_parse_int(cli, "--window", optarg, 1, 1L << 24); break;
        case OPT_DTYPE:
            if (tct_dtype_parse(optarg, &o->dtype) || (o->dtype != TCT_F32 && o->dtype != TCT_F16 && o->dtype != TCT_BF16))
                tc_cli_usage_error(cli, "--dtype: '%s' is not f32, f16 or bf16", optarg);
            break;
        default: tc_cli_option(cli, c, optarg);
        }
    }
    if (optind + 1 < argc) tc_cli_usage_error(cli, "one input at most (got '%s' and '%s')", argv[optind], argv[optind + 1]);
    o->input = optind < argc ? argv[optind] : "-";
}

// Everything the model and the options decide before any input is read.
static void settle(tc_cli *cli, const encode_options *o, const tc_bert_model *m, tc_encoder_options *eo) {
    memset(eo, 0, sizeof *eo);
    eo->batch_size = o->batch_size;
    eo->threads = tc_cli_threads(cli);
    if (o->pooling) {
        if (tc_pooling_parse(o->pooling, &eo->pooling)) tc_cli_usage_error(cli, "--pooling: %s", tc_error());
    } else if (m->st_unsupported_pooling[0]) {
        tc_cli_fail(cli, "%s/1_Pooling/config.json: %s is not supported; choose --pooling mean, cls or pooler", m->dir,
                    m->st_unsupported_pooling);
    } else {
        eo->pooling = m->default_pooling;
    }
    if (m->st_unsupported_module[0])
        tc_cli_fail(cli, "%s/modules.json: module %s is not supported", m->dir, m->st_unsupported_module);
    if (eo->pooling == TC_POOL_POOLER && !m->cfg.has_pooler)
        tc_cli_fail(cli, "%s: the model has no pooler (pooler.dense.weight); use --pooling mean or cls", m->dir);
    eo->normalize = o->normalize >= 0 ? o->normalize : m->default_normalize;
    if (!m->st_has_modules && (!o->pooling || o->normalize < 0))
        tc_verbose("%s/modules.json: none: assuming %s pooling, %s (what sentence-transformers does without it)", m->dir,
                   tc_pooling_name(eo->pooling), eo->normalize ? "normalized" : "not normalized");
    if (tc_devices_select(cli, &eo->devices)) tc_cli_usage_error(cli, "%s", tc_error());
    if (tc_precision_select(o->precision, &eo->devices, &eo->precision)) {
        if (!tc_precision_known(o->precision)) tc_cli_usage_error(cli, "%s", tc_error());
        tc_cli_fail(cli, "%s", tc_error());
    }
}

static int begin_output(tct_writer *wr, const tc_bert_model *m, const tc_encoder_options *eo, tct_dtype dtype,
                        int *id_tensor, int *emb_tensor) {
    char device[64];
    if (eo->devices.n_gpus) snprintf(device, sizeof device, "%d GPU%s", eo->devices.n_gpus, eo->devices.n_gpus > 1 ? "s" : "");
    else snprintf(device, sizeof device, "cpu");
    tct_attr attrs[] = {
        {"model", m->name},
        {"model_fingerprint", m->weights_fingerprint},
        {"vocab_fingerprint", m->vocab_fingerprint},
        {"pooling", tc_pooling_name(eo->pooling)},
        {"normalized", eo->normalize ? "true" : "false"},
        {"precision", tc_precision_name(eo->precision)},
        {"device", device},
    };
    uint64_t id_dims[1] = {TCT_ROWS_UNKNOWN}, emb_dims[2] = {TCT_ROWS_UNKNOWN, (uint64_t)m->cfg.hidden};
    *id_tensor = tct_writer_begin(wr, "doc_ids", TCT_STR, 1, id_dims, NULL, 0);
    *emb_tensor = tct_writer_begin(wr, "embeddings", dtype, 2, emb_dims, attrs, sizeof attrs / sizeof *attrs);
    return *id_tensor < 0 || *emb_tensor < 0 ? -1 : 0;
}

// The main loop, over two window buffers: while window k is encoded, k+1 is
// read; once k is done, k+1 starts and k is written while it computes. The
// devices never wait for the file. The output is opened once the first
// window has been read and checked, so that a wrong input writes nothing.
static int encode_stream(tc_cli *cli, const encode_options *o, const tc_bert_model *m, tc_encoder_options *eo,
                         tc_token_source *src) {
    tc_token_window win[2];
    float *emb[2] = {NULL, NULL};
    int D = m->cfg.hidden, id_tensor, emb_tensor, rc = -1, opened = 0;
    int workers = eo->devices.n_gpus ? eo->devices.n_gpus : 1;
    // enough rows for every device to take several batches of each window
    long rows = o->window > (long)o->batch_size * workers * 8 ? o->window : (long)o->batch_size * workers * 8;
    uint64_t written = 0;
    tc_encoder *enc = NULL;
    tc_tensor_output out;
    void *convert = tc_malloc_array((size_t)rows * (size_t)D, 2);
    tc_progress progress;
    tc_progress_start(&progress, cli, "docs", 0);
    memset(win, 0, sizeof win);
    for (int i = 0; i < 2; i++) emb[i] = tc_malloc_array((size_t)rows * (size_t)D, sizeof(float));
    if (!convert || !emb[0] || !emb[1] || tc_token_window_alloc(&win[0], (size_t)rows) ||
        tc_token_window_alloc(&win[1], (size_t)rows) || tc_token_source_read(src, &win[0]))
        goto done;
    progress.total = src->total;
    if (win[0].n) {
        eo->max_len = src->width;
        if (tc_encoder_create(&enc, m, eo)) goto done;
        tc_verbose("%s on %s, %d worker%s, batches of %d, windows of %ld rows, pooling %s%s", m->name,
                   eo->devices.n_gpus ? "GPUs" : "the CPU", tc_encoder_workers(enc),
                   tc_encoder_workers(enc) > 1 ? "s" : "", eo->batch_size, rows, tc_pooling_name(eo->pooling),
                   eo->normalize ? ", normalized" : "");
        tc_verbose_precision(eo->precision, &eo->devices);
    }
    if (tc_tensor_output_open(&out, cli)) goto done;
    opened = 1;
    if (begin_output(out.writer, m, eo, o->dtype, &id_tensor, &emb_tensor)) goto done;
    tc_encoder_window job[2];
    for (int k = 0; k < 2; k++) job[k] = (tc_encoder_window){0, win[k].rows, win[k].lengths, emb[k]};
    job[0].n = win[0].n;
    if (win[0].n && tc_encoder_start(enc, &job[0])) goto done;
    for (int cur = 0; win[cur].n > 0; cur ^= 1) {
        int next = cur ^ 1, read_rc = tc_token_source_read(src, &win[next]);
        if (tc_encoder_finish(enc) || read_rc) goto done;
        job[next].n = win[next].n;
        if (win[next].n && tc_encoder_start(enc, &job[next])) goto done;
        if (write_window(out.writer, id_tensor, emb_tensor, &win[cur], emb[cur], D, o->dtype, convert)) {
            tc_encoder_finish(enc);
            goto done;
        }
        written += win[cur].n;
        tc_progress_update(&progress, written);
    }
    rc = tct_writer_end(out.writer, id_tensor) || tct_writer_end(out.writer, emb_tensor) ||
                 tc_tensor_output_commit(&out)
             ? -1
             : 0;
    opened = 0;
    if (rc == 0) tc_progress_finish(&progress);
done:
    if (opened) tc_tensor_output_abort(&out);
    tc_encoder_free(enc);
    tc_token_window_free(&win[0]), tc_token_window_free(&win[1]);
    free(emb[0]), free(emb[1]);
    free(convert);
    return rc;
}

int main(int argc, char **argv) {
    tc_cli cli;
    tc_cli_init(&cli, "tc-encode", usage, &argc, &argv, 1);
    encode_options o;
    parse_options(&cli, argc, argv, &o);
    tc_files_input(NULL, o.input);
    tc_files_input_model("--model", o.model);
    tc_cli_check_files(&cli);
    tc_bert_model model;
    if (tc_bert_model_load(&model, o.model)) tc_cli_die(&cli);
    tc_encoder_options eo;
    settle(&cli, &o, &model, &eo);
    const char *where = strcmp(o.input, "-") ? o.input : "(stdin)";
    FILE *in = tc_input_open(o.input);
    if (!in) tc_cli_die(&cli);
    tct_reader *reader;
    tc_token_source src;
    if (tct_reader_open(&reader, in, where) || tc_token_source_open(&src, reader, &model, where, 0, 0))
        tc_cli_die(&cli);
    int rc = encode_stream(&cli, &o, &model, &eo, &src);
    tc_token_source_close(&src);
    tct_reader_close(reader);
    tc_input_close(in);
    tc_bert_model_free(&model);
    if (rc) tc_cli_die(&cli);
    return 0;
}
