// tc-tokenize: text, one document a line, to WordPiece token ids (BERT,
// MPNet), the same as Hugging Face tokenizers with the model's tokenizer.json.
#include "common/cli/cli.h"
#include "common/cli/files.h"
#include "common/cli/io.h"
#include "common/cli/progress.h"
#include "common/text/tokenize_stream.h"
#include "common/text/wordpiece.h"

#include <string.h>
#include <sys/stat.h>

#define DEFAULT_MODEL "models/all-MiniLM-L6-v2"

static const char usage[] =
    "usage: tc-tokenize [options] [FILE]\n"
    "Turns text, one document a line as id<TAB>text, into the WordPiece token ids\n"
    "of a BERT or MPNet model exactly as Hugging Face tokenizers does. Reads stdin\n"
    "without FILE or with -; writes the tensors doc_ids str[N], input_ids i32[N,L]\n"
    "(the model's first token, e.g. [CLS] or <s>, the text's, its last, then its\n"
    "padding token) and lengths i32[N] (tokens before padding).\n"
    "\n"
    "      --model DIR         vocab.txt and the tokenizer files of a model\n"
    "                          (default " DEFAULT_MODEL ")\n"
    "      --vocab FILE        a vocab.txt alone; needs --lowercase or --no-lowercase\n"
    "      --lowercase, --no-lowercase\n"
    "                          lowercase the text (default: the model's do_lower_case)\n"
    "      --strip-accents, --no-strip-accents\n"
    "                          drop accents (default: the model's strip_accents, or\n"
    "                          as lowercasing when it says null)\n"
    "      --chinese-chars, --no-chinese-chars\n"
    "                          split CJK ideographs into words of their own (default on)\n"
    "      --max-len N         L, tokens per document with the first and last: longer\n"
    "                          documents are cut, shorter ones padded (default 128,\n"
    "                          at most the model's model_max_length, else 512)\n"
    "      --no-ids            lines are bare text; ids are line numbers from 0\n"
    "      --batch N           documents per batch (default 4096)\n"
    TC_CLI_COMMON_HELP;

enum {
    OPT_MODEL = TC_OPT_FIRST_PROGRAM,
    OPT_VOCAB,
    OPT_LOWERCASE,
    OPT_NO_LOWERCASE,
    OPT_STRIP,
    OPT_NO_STRIP,
    OPT_CHINESE,
    OPT_NO_CHINESE,
    OPT_MAX_LEN,
    OPT_NO_IDS,
    OPT_BATCH,
};

typedef struct {
    tc_wordpiece_settings settings;
    tc_tokenize_options stream;
    int max_len_given;
    const char *input;
} tokenize_options;

static void parse(tc_cli *cli, int argc, char **argv, tokenize_options *o) {
    static const struct option options[] = {
        {"model", required_argument, 0, OPT_MODEL},
        {"vocab", required_argument, 0, OPT_VOCAB},
        {"lowercase", no_argument, 0, OPT_LOWERCASE},
        {"no-lowercase", no_argument, 0, OPT_NO_LOWERCASE},
        {"strip-accents", no_argument, 0, OPT_STRIP},
        {"no-strip-accents", no_argument, 0, OPT_NO_STRIP},
        {"chinese-chars", no_argument, 0, OPT_CHINESE},
        {"no-chinese-chars", no_argument, 0, OPT_NO_CHINESE},
        {"max-len", required_argument, 0, OPT_MAX_LEN},
        {"no-ids", no_argument, 0, OPT_NO_IDS},
        {"batch", required_argument, 0, OPT_BATCH},
        TC_CLI_COMMON_OPTIONS,
        {0, 0, 0, 0}};
    tc_wordpiece_settings *s = &o->settings;
    *s = (tc_wordpiece_settings){NULL, NULL, TC_WORDPIECE_UNSET, TC_WORDPIECE_UNSET, TC_WORDPIECE_UNSET};
    o->stream = (tc_tokenize_options){.max_len = 128};
    int c;
    while ((c = tc_cli_getopt(cli, argc, argv, "", options)) != -1) {
        switch (c) {
        case OPT_MODEL: s->model_dir = optarg; break;
        case OPT_VOCAB: s->vocab_path = optarg; break;
        case OPT_LOWERCASE: s->lowercase = 1; break;
        case OPT_NO_LOWERCASE: s->lowercase = 0; break;
        case OPT_STRIP: s->strip_accents = 1; break;
        case OPT_NO_STRIP: s->strip_accents = 0; break;
        case OPT_CHINESE: s->chinese_chars = 1; break;
        case OPT_NO_CHINESE: s->chinese_chars = 0; break;
        case OPT_MAX_LEN:
            o->stream.max_len = (int)tc_cli_parse_int(cli, "--max-len", optarg, 2, 1 << 20);
            o->max_len_given = 1;
            break;
        case OPT_NO_IDS: o->stream.no_ids = 1; break;
        case OPT_BATCH: o->stream.batch_docs = (size_t)tc_cli_parse_int(cli, "--batch", optarg, 1, 1 << 20); break;
        default: tc_cli_option(cli, c, optarg);
        }
    }
    if (optind + 1 < argc) tc_cli_usage_error(cli, "one input at most (got '%s' and '%s')", argv[optind], argv[optind + 1]);
    o->input = optind < argc ? argv[optind] : "-";
    if (s->model_dir && s->vocab_path) tc_cli_usage_error(cli, "--model and --vocab do not go together");
    if (s->vocab_path && s->lowercase == TC_WORDPIECE_UNSET)
        tc_cli_usage_error(cli, "--vocab needs --lowercase or --no-lowercase (a vocabulary file does not say)");
    if (!s->model_dir && !s->vocab_path) {
        struct stat st;
        if (stat(DEFAULT_MODEL, &st) != 0)
            tc_cli_usage_error(cli, "no --model or --vocab, and the default model %s is missing (make model)",
                               DEFAULT_MODEL);
        s->model_dir = DEFAULT_MODEL;
    }
    o->stream.threads = tc_cli_threads(cli);
}

typedef struct {
    const tc_cli *cli;
    tc_tensor_output out;
    int opened;
} output;

static int open_output(void *context, tct_writer **writer) {
    output *o = context;
    if (tc_tensor_output_open(&o->out, o->cli)) return -1;
    o->opened = 1;
    *writer = o->out.writer;
    return 0;
}

int main(int argc, char **argv) {
    tc_cli cli;
    tc_cli_init(&cli, "tc-tokenize", usage, &argc, &argv, 1);
    tokenize_options o;
    parse(&cli, argc, argv, &o);
    tc_files_input(NULL, o.input);
    tc_files_input("--vocab", o.settings.vocab_path);
    tc_files_input_model("--model", o.settings.model_dir);
    tc_cli_check_files(&cli);

    tc_wordpiece *wp;
    if (tc_wordpiece_open(&wp, &o.settings)) tc_cli_die(&cli);
    const tc_wordpiece_info *info = tc_wordpiece_info_of(wp);
    const char *mismatch = tc_bert_unicode_mismatch();
    if (mismatch) tc_warn("%s: characters new since may tokenize differently from Hugging Face tokenizers", mismatch);
    if (o.stream.max_len > info->max_length)
        tc_cli_usage_error(&cli, "--max-len %d is above the model's limit of %d", o.stream.max_len, info->max_length);
    tc_verbose("%s: %zu tokens, lowercase %s, strip accents %s, CJK splitting %s, %d threads", info->vocab_path,
               info->vocab_size, info->mode.lowercase ? "on" : "off", info->mode.strip_accents ? "on" : "off",
               info->mode.chinese_chars ? "on" : "off", o.stream.threads);

    const char *where = strcmp(o.input, "-") ? o.input : "(stdin)";
    FILE *in = tc_input_open(o.input);
    if (!in) tc_cli_die(&cli);
    output out = {.cli = &cli};
    tc_progress progress;
    tc_progress_start(&progress, &cli, "docs", 0);
    tc_tokenize_counts counts;
    int rc = tc_tokenize_stream(wp, in, where, open_output, &out, &o.stream, &progress, &counts);
    if (rc == 0) rc = tc_tensor_output_commit(&out.out);
    else if (out.opened) tc_tensor_output_abort(&out.out);
    tc_progress_finish(&progress);
    tc_input_close(in);
    tc_wordpiece_close(wp);
    if (rc) tc_cli_die(&cli);
    if (counts.cut)
        tc_note("%llu document%s longer than %d KiB: tokenized from %s first %d KiB", (unsigned long long)counts.cut,
                counts.cut == 1 ? "" : "s", TC_LINE_MAX >> 10, counts.cut == 1 ? "its" : "their", TC_LINE_MAX >> 10);
    tc_verbose("%llu documents, %llu bytes, %llu tokens; %llu filled all %d positions",
               (unsigned long long)counts.docs, (unsigned long long)counts.bytes, (unsigned long long)counts.tokens,
               (unsigned long long)counts.full, o.stream.max_len);
    return 0;
}
