// tc-augment: pseudo-documents for every root-to-leaf path of a taxonomy,
// labeled with the whole path, from an LLM, from TELEClass's generated
// files, or from the confident documents of refinement. See tc-augment(1).
#include "common/augment/augment_sources.h"
#include "common/cli/cli.h"
#include "common/cli/files.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: tc-augment --taxonomy TAXO.tct --docs-out DOCS.txt SOURCE [options] [-o LABELS.tct]\n"
    "Pseudo-documents for every root-to-leaf path, labeled with the path: their text goes to\n"
    "--docs-out (id<TAB>text), their labels to stdout or -o FILE.\n"
    "\n"
    "SOURCE, one of:\n"
    "      --llm URL       write them with an OpenAI-compatible chat endpoint\n"
    "      --import DIR    read TELEClass's generated_docs.txt and generated_doc2label.json\n"
    "      --from-corpus CORPUS  take them from the real corpus: the documents refinement was most\n"
    "                      confident of for each leaf (needs --refined)\n"
    "\n"
    "  -t, --taxonomy FILE the taxonomy tensors (tc-taxo)\n"
    "      --docs-out FILE where the documents' text goes\n"
    "      --docs-per-path N  documents per path (default 5, at most 64)\n"
    "      --id-prefix P   prefix of the documents' ids (default 'aug:')\n"
    "      --corpus FILE   the real corpus: refuse a prefix some of its ids start with\n"
    "      --report FILE   per-path counts as TSV\n"
    "\n"
    "with --llm:\n"
    "      --template STYLE  review (default) or encyclopedia: TELEClass's instructions\n"
    "      --prompt TEXT   instructions of your own; {path}, {leaf}, {n} and {words} are filled in\n"
    "      --format-prompt TEXT  a second message asking for the JSON layout ('' for none)\n"
    "      --words N       length asked for (default 100 for reviews, 300 for articles)\n"
    "      --min-words N   shorter documents are refused (default: half of --words)\n"
    "      --forbid-names / --no-forbid-names  refuse documents naming a class of the path\n"
    "                      (default: on with the built-in templates, off with --prompt)\n"
    "      --attempts N    requests per path at most, until enough valid documents (default 3)\n"
    TC_LLM_HELP
    "\n"
    "with --from-corpus:\n"
    "      --refined FILE  refined core classes (tc-refine refine)\n"
    "      --no-compose    do not fill a path's shortfall with documents composed of the\n"
    "                      sentences of its selected ones\n"
    "\n" TC_CLI_COMMON_HELP;

enum {
    OPT_TAXONOMY = TC_OPT_FIRST_PROGRAM,
    OPT_DOCS_OUT,
    OPT_IMPORT,
    OPT_FROM_CORPUS,
    OPT_DOCS_PER_PATH,
    OPT_ID_PREFIX,
    OPT_CORPUS,
    OPT_REPORT,
    OPT_TEMPLATE,
    OPT_PROMPT,
    OPT_FORMAT_PROMPT,
    OPT_WORDS,
    OPT_MIN_WORDS,
    OPT_FORBID,
    OPT_NO_FORBID,
    OPT_ATTEMPTS,
    OPT_REFINED,
    OPT_NO_COMPOSE,
};

static const struct option options[] = {
    {"taxonomy", required_argument, 0, 't'},
    {"docs-out", required_argument, 0, OPT_DOCS_OUT},
    {"import", required_argument, 0, OPT_IMPORT},
    {"from-corpus", required_argument, 0, OPT_FROM_CORPUS},
    {"docs-per-path", required_argument, 0, OPT_DOCS_PER_PATH},
    {"id-prefix", required_argument, 0, OPT_ID_PREFIX},
    {"corpus", required_argument, 0, OPT_CORPUS},
    {"report", required_argument, 0, OPT_REPORT},
    {"template", required_argument, 0, OPT_TEMPLATE},
    {"prompt", required_argument, 0, OPT_PROMPT},
    {"format-prompt", required_argument, 0, OPT_FORMAT_PROMPT},
    {"words", required_argument, 0, OPT_WORDS},
    {"min-words", required_argument, 0, OPT_MIN_WORDS},
    {"forbid-names", no_argument, 0, OPT_FORBID},
    {"no-forbid-names", no_argument, 0, OPT_NO_FORBID},
    {"attempts", required_argument, 0, OPT_ATTEMPTS},
    {"refined", required_argument, 0, OPT_REFINED},
    {"no-compose", no_argument, 0, OPT_NO_COMPOSE},
    TC_LLM_OPTIONS,
    TC_CLI_COMMON_OPTIONS,
    {0},
};

typedef struct {
    const char *taxonomy, *docs_out, *import_dir, *from_corpus, *corpus, *template_style;
    int forbid;            // -1: the template decides
    int sources;
    tc_aug_llm_options llm;
    tc_aug_corpus_options own;
} settings;

static void parse(tc_cli *cli, settings *s) {
    int c;
    while ((c = tc_cli_getopt(cli, cli->argc, cli->argv, "t:", options)) != -1) {
        if (tc_llm_settings_option(&s->llm.llm, cli, c, optarg)) continue;
        switch (c) {
        case 't': s->taxonomy = optarg; break;
        case OPT_DOCS_OUT: s->docs_out = optarg; break;
        case OPT_IMPORT: s->import_dir = optarg; break;
        case OPT_FROM_CORPUS: s->from_corpus = optarg; break;
        case OPT_DOCS_PER_PATH:
            s->llm.docs_per_path = s->own.docs_per_path =
                (int)tc_cli_parse_int(cli, "--docs-per-path", optarg, 1, TC_AUG_MAX_PER_PATH);
            break;
        case OPT_ID_PREFIX: s->llm.id_prefix = s->own.id_prefix = optarg; break;
        case OPT_CORPUS: s->corpus = optarg; break;
        case OPT_REPORT: s->llm.report = s->own.report = optarg; break;
        case OPT_TEMPLATE: s->template_style = optarg; break;
        case OPT_PROMPT: s->llm.prompt = optarg; break;
        case OPT_FORMAT_PROMPT: s->llm.format_prompt = optarg; break;
        case OPT_WORDS: s->llm.words = (int)tc_cli_parse_int(cli, "--words", optarg, 1, 100000); break;
        case OPT_MIN_WORDS: s->llm.min_words = (int)tc_cli_parse_int(cli, "--min-words", optarg, 0, 100000); break;
        case OPT_FORBID: s->forbid = 1; break;
        case OPT_NO_FORBID: s->forbid = 0; break;
        case OPT_ATTEMPTS: s->llm.attempts = (int)tc_cli_parse_int(cli, "--attempts", optarg, 1, 100); break;
        case OPT_REFINED: s->own.refined = optarg; break;
        case OPT_NO_COMPOSE: s->own.compose = 0; break;
        default: tc_cli_option(cli, c, optarg);
        }
    }
}

static void check(tc_cli *cli, settings *s) {
    if (optind < cli->argc) tc_cli_usage_error(cli, "unexpected argument '%s'", cli->argv[optind]);
    if (!s->taxonomy) tc_cli_usage_error(cli, "--taxonomy FILE is required");
    if (!s->docs_out || !strcmp(s->docs_out, "-"))
        tc_cli_usage_error(cli, "--docs-out FILE is required (stdout carries the labels)");
    s->sources = !!s->llm.llm.config.url + !!s->import_dir + !!s->from_corpus;
    if (s->sources != 1) tc_cli_usage_error(cli, "name one source: --llm URL, --import DIR or --from-corpus CORPUS");
    if (s->from_corpus && !s->own.refined) tc_cli_usage_error(cli, "--from-corpus needs --refined FILE (tc-refine refine)");
    if (!s->llm.id_prefix[0]) tc_cli_usage_error(cli, "--id-prefix must not be empty: ids could collide with the corpus");
    if (!s->llm.llm.config.url) return;
    const char *builtin = tc_aug_prompt_template(s->template_style);
    if (!builtin) tc_cli_usage_error(cli, "--template: unknown style '%s' (review or encyclopedia)", s->template_style);
    if (s->forbid < 0) s->forbid = s->llm.prompt == NULL;
    if (!s->llm.prompt) s->llm.prompt = builtin;
    if (s->llm.words == 0) s->llm.words = tc_aug_default_words(s->template_style);
    if (s->llm.min_words < 0) s->llm.min_words = s->llm.words / 2;
    if (!s->llm.format_prompt) s->llm.format_prompt = tc_aug_format_prompt();
    s->llm.forbid_names = s->forbid;
}

// Every file read or written, checked before any work: no output may
// replace an input (--docs-out over the corpus or the imported documents).
static void check_files(tc_cli *cli, const settings *s) {
    static char import_docs[4096], import_labels[4096];
    tc_files_input("--taxonomy", s->taxonomy);
    tc_files_input("--corpus", s->corpus);
    tc_files_input("--from-corpus", s->from_corpus);
    tc_files_input("--refined", s->own.refined);
    if (s->import_dir) {
        tc_aug_import_paths(s->import_dir, import_docs, import_labels, sizeof import_docs);
        tc_files_input("--import", import_docs);
        tc_files_input("--import", import_labels);
    }
    tc_files_output("--docs-out", s->docs_out);
    tc_files_output("--report", s->llm.report);
    tc_cli_check_files(cli);
}

int main(int argc, char **argv) {
    tc_cli cli;
    tc_cli_init(&cli, "tc-augment", usage, &argc, &argv, 1);
    settings s = {.forbid = -1};
    s.llm = (tc_aug_llm_options){.docs_per_path = 5, .min_words = -1, .attempts = 3, .id_prefix = "aug:"};
    tc_llm_settings_init(&s.llm.llm, 1.0, 3000);  // TELEClass's generation settings
    s.own = (tc_aug_corpus_options){.docs_per_path = 5, .compose = 1, .id_prefix = "aug:"};
    parse(&cli, &s);
    check(&cli, &s);
    check_files(&cli, &s);
    tc_taxonomy t;
    tc_paths paths = {0};
    tc_aug_set set = {0};
    int rc = tc_taxonomy_load(&t, s.taxonomy) || (tc_paths_collect(&paths, &t) && tc_fail_context("%s", s.taxonomy));
    const char *corpus = s.corpus ? s.corpus : s.from_corpus;
    if (!rc && corpus) rc = tc_aug_check_prefix(corpus, s.llm.id_prefix);
    const char *source = s.import_dir ? "import" : s.from_corpus ? "corpus" : "llm";
    if (!rc) {
        s.own.corpus = s.from_corpus;
        if (s.import_dir) rc = tc_aug_import(&t, s.import_dir, s.llm.id_prefix, &set);
        else if (s.from_corpus) rc = tc_aug_from_corpus(&t, &paths, &s.own, &set);
        else rc = tc_aug_from_llm(&cli, &t, &paths, &s.llm, &set);
    }
    if (!rc) rc = tc_aug_write(&cli, s.docs_out, &set, source);
    tc_aug_set_free(&set);
    tc_paths_free(&paths);
    tc_taxonomy_free(&t);
    tc_llm_settings_free(&s.llm.llm);
    if (rc) tc_cli_die(&cli);
    return 0;
}
