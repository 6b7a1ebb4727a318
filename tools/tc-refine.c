// tc-refine: core class annotation (the top-down search of TELEClass, core
// classes by rule or by an LLM) and core class refinement (class embeddings,
// confidence, percentile cut). See tc-refine(1).
#include "common/cli/cli.h"
#include "common/cli/files.h"
#include "common/error.h"
#include "common/refine/refine_run.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: tc-refine annotate --taxonomy TAXO.tct --terms TERMS.tct [options] [EMBEDDINGS.tct]\n"
    "       tc-refine refine --taxonomy TAXO.tct --annotation CORE.tct --corpus CORPUS.txt [options]\n"
    "                        EMBEDDINGS.tct\n"
    "Core classes of each document (annotate), then the confident documents and their refined core\n"
    "classes (refine). Label tensors go to stdout or -o FILE.\n"
    "\n"
    "annotate:\n"
    "      --taxonomy FILE the taxonomy tensors (tc-taxo)\n"
    "      --terms FILE    class term embeddings: class_of_row i32[M] + embeddings [M,D], the name\n"
    "                      and key terms of every class embedded by the documents' model\n"
    "      --core RULE     core classes without an LLM: gap (default), path or top\n"
    "      --class-similarity S  subtree (default): a class's similarity is the largest cosine\n"
    "                      over the names and key terms of the class and its descendants;\n"
    "                      own: over its own name and key terms (TELEClass's rule)\n"
    "      --no-ancestors  write the core classes only (default: with their ancestors)\n"
    "      --candidates FILE  also write the search's candidates per document\n"
    "      --scores        also write every class's score, scores f32[N,C]: the document's cosine\n"
    "                      similarity to the class (max over its name and key terms), the score\n"
    "                      the search and label_scores use, so tc-eval ranks every class\n"
    "      --corpus FILE   the documents' text (id<TAB>text), needed with --llm\n"
    "      --prompt TEXT   instruction for the LLM; {classes} becomes the candidates' names\n"
    "      --prompt-style S  generic (default), review or encyclopedia: TELEClass's instructions\n"
    "      --max-chars N   longest document text sent to the LLM (default 16000 bytes)\n"
    TC_LLM_HELP
    "\n"
    "refine:\n"
    "      --taxonomy FILE the taxonomy tensors, with key terms\n"
    "      --annotation FILE  core classes from tc-refine annotate\n"
    "      --corpus FILE   the documents' text (id<TAB>text), same order as the embeddings\n"
    "      --keep-percentile P  drop documents whose confidence is under this percentile\n"
    "                      (default 25)\n"
    "      --match MODE    key terms in the text: word (default: whole words, any case) or exact\n"
    "                      (TELEClass's space-bounded, case-sensitive test)\n"
    "      --match-names   class names count as key terms too\n"
    "      --top N         similarities whose gaps give the confidence (default 4)\n"
    "\n"
    "both:\n"
    "      --batch-size N  documents per batch (default 1024)\n"
    "      --precision P   arithmetic of the similarities: fp32 (default), int8 or bf16 (the CPU,\n"
    "                      where it has the units), auto (fp32: int8 reorders near-tied classes)\n"
    TC_CLI_GPU_HELP TC_CLI_COMMON_HELP;

enum {
    OPT_TAXONOMY = TC_OPT_FIRST_PROGRAM,
    OPT_TERMS,
    OPT_CORE,
    OPT_CLASS_SIMILARITY,
    OPT_NO_ANCESTORS,
    OPT_CANDIDATES,
    OPT_SCORES,
    OPT_CORPUS,
    OPT_PROMPT,
    OPT_PROMPT_STYLE,
    OPT_MAX_CHARS,
    OPT_ANNOTATION,
    OPT_KEEP_PERCENTILE,
    OPT_MATCH,
    OPT_MATCH_NAMES,
    OPT_TOP,
    OPT_BATCH,
    OPT_PRECISION,
};

static const struct option options[] = {
    {"taxonomy", required_argument, 0, OPT_TAXONOMY},
    {"terms", required_argument, 0, OPT_TERMS},
    {"core", required_argument, 0, OPT_CORE},
    {"class-similarity", required_argument, 0, OPT_CLASS_SIMILARITY},
    {"no-ancestors", no_argument, 0, OPT_NO_ANCESTORS},
    {"candidates", required_argument, 0, OPT_CANDIDATES},
    {"scores", no_argument, 0, OPT_SCORES},
    {"corpus", required_argument, 0, OPT_CORPUS},
    {"prompt", required_argument, 0, OPT_PROMPT},
    {"prompt-style", required_argument, 0, OPT_PROMPT_STYLE},
    {"max-chars", required_argument, 0, OPT_MAX_CHARS},
    {"annotation", required_argument, 0, OPT_ANNOTATION},
    {"keep-percentile", required_argument, 0, OPT_KEEP_PERCENTILE},
    {"match", required_argument, 0, OPT_MATCH},
    {"match-names", no_argument, 0, OPT_MATCH_NAMES},
    {"top", required_argument, 0, OPT_TOP},
    {"batch-size", required_argument, 0, OPT_BATCH},
    {"precision", required_argument, 0, OPT_PRECISION},
    TC_LLM_OPTIONS,
    TC_CLI_COMMON_OPTIONS,
    TC_CLI_GPU_OPTIONS,
    {0},
};

typedef struct {
    int annotate;
    tc_annotate_options a;
    tc_refine_options r;
    const char *prompt_style;
    const char *wrong_option;
} settings;

static void parse(tc_cli *cli, settings *s) {
    int c;
    while ((c = tc_cli_getopt(cli, cli->argc, cli->argv, "", options)) != -1) {
        if (tc_llm_settings_option(&s->a.llm, cli, c, optarg)) {
            if (!s->annotate) s->wrong_option = "--llm and its settings";
            continue;
        }
        switch (c) {
        case OPT_TAXONOMY: s->a.taxonomy = s->r.taxonomy = optarg; break;
        case OPT_CORPUS: s->a.corpus = s->r.corpus = optarg; break;
        case OPT_BATCH: s->a.batch = s->r.batch = (int)tc_cli_parse_int(cli, "--batch-size", optarg, 1, 1 << 20); break;
        case OPT_PRECISION:
            if (!tc_precision_known(optarg))
                tc_cli_usage_error(cli, "--precision: '%s' is not fp32, bf16, int8 or auto", optarg);
            s->a.precision = s->r.precision = optarg;
            break;
        case OPT_TERMS: s->a.terms = optarg; if (!s->annotate) s->wrong_option = "--terms"; break;
        case OPT_CORE:
            if (tc_core_rule_parse(optarg, &s->a.rule)) tc_cli_usage_error(cli, "--core: %s", tc_error());
            if (!s->annotate) s->wrong_option = "--core";
            break;
        case OPT_CLASS_SIMILARITY:
            if (tc_class_similarity_parse(optarg, &s->a.similarity))
                tc_cli_usage_error(cli, "--class-similarity: %s", tc_error());
            if (!s->annotate) s->wrong_option = "--class-similarity";
            break;
        case OPT_NO_ANCESTORS: s->a.ancestors = 0; break;
        case OPT_CANDIDATES:
            if (!strcmp(optarg, "-")) tc_cli_usage_error(cli, "--candidates needs a file name (stdout carries the labels)");
            s->a.candidates = optarg;
            break;
        case OPT_SCORES: s->a.scores = 1; if (!s->annotate) s->wrong_option = "--scores"; break;
        case OPT_PROMPT: s->a.prompt = optarg; break;
        case OPT_PROMPT_STYLE: s->prompt_style = optarg; break;
        case OPT_MAX_CHARS: s->a.max_chars = (size_t)tc_cli_parse_int(cli, "--max-chars", optarg, 1, 1LL << 30); break;
        case OPT_ANNOTATION: s->r.annotation = optarg; if (s->annotate) s->wrong_option = "--annotation"; break;
        case OPT_KEEP_PERCENTILE: s->r.keep_percentile = tc_cli_parse_double(cli, "--keep-percentile", optarg, 0, 100); break;
        case OPT_MATCH:
            if (tc_match_mode_parse(optarg, &s->r.match)) tc_cli_usage_error(cli, "--match: %s", tc_error());
            break;
        case OPT_MATCH_NAMES: s->r.match_names = 1; break;
        case OPT_TOP: s->r.top = (int)tc_cli_parse_int(cli, "--top", optarg, 2, 32); break;
        default: tc_cli_option(cli, c, optarg);
        }
    }
}

static void check_annotate(tc_cli *cli, settings *s) {
    tc_annotate_options *a = &s->a;
    if (!a->taxonomy) tc_cli_usage_error(cli, "annotate needs --taxonomy FILE");
    if (!a->terms) tc_cli_usage_error(cli, "annotate needs --terms FILE (the class term embeddings)");
    if (a->llm.config.url && !a->corpus) tc_cli_usage_error(cli, "--llm needs --corpus FILE: the model reads the documents");
    if (!a->prompt) {
        a->prompt = tc_annotate_prompt_template(s->prompt_style);
        if (!a->prompt) tc_cli_usage_error(cli, "--prompt-style: unknown style '%s' (generic, review or encyclopedia)", s->prompt_style);
    } else if (!strstr(a->prompt, "{classes}")) {
        tc_cli_usage_error(cli, "--prompt must contain {classes}, where the candidates' names go");
    }
    if (optind + 1 < cli->argc) tc_cli_usage_error(cli, "annotate reads one embeddings file, not %d", cli->argc - optind);
    a->embeddings = optind < cli->argc ? cli->argv[optind] : NULL;
}

static void check_refine(tc_cli *cli, settings *s) {
    tc_refine_options *r = &s->r;
    if (!r->taxonomy) tc_cli_usage_error(cli, "refine needs --taxonomy FILE");
    if (!r->annotation) tc_cli_usage_error(cli, "refine needs --annotation FILE (from tc-refine annotate)");
    if (!r->corpus) tc_cli_usage_error(cli, "refine needs --corpus FILE: key terms are matched in the text");
    if (optind + 1 != cli->argc) tc_cli_usage_error(cli, "refine needs one embeddings file");
    r->embeddings = cli->argv[optind];
    if (!strcmp(r->embeddings, "-"))
        tc_cli_usage_error(cli, "refine reads the embeddings twice: name a file, not stdin");
}

// Every file read or written, checked before any work: no output may
// replace an input (--candidates over -o, -o over the embeddings).
static void check_files(tc_cli *cli, const settings *s) {
    tc_files_input("--taxonomy", s->a.taxonomy);
    tc_files_input("--corpus", s->a.corpus);
    if (s->annotate) {
        tc_files_input("--terms", s->a.terms);
        tc_files_input(NULL, s->a.embeddings ? s->a.embeddings : "-");
        tc_files_output("--candidates", s->a.candidates);
    } else {
        tc_files_input("--annotation", s->r.annotation);
        tc_files_input(NULL, s->r.embeddings);
    }
    tc_cli_check_files(cli);
}

int main(int argc, char **argv) {
    tc_cli cli;
    tc_cli_init(&cli, "tc-refine", usage, &argc, &argv, 2);
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "--version")))
            tc_cli_option(&cli, argv[1][2] == 'v' ? TC_OPT_VERSION : 'h', NULL);
        tc_cli_usage_error(&cli, "name a job: annotate or refine");
    }
    settings s = {0};
    s.annotate = !strcmp(argv[1], "annotate");
    if (!s.annotate && strcmp(argv[1], "refine")) tc_cli_usage_error(&cli, "unknown job '%s' (annotate or refine)", argv[1]);
    s.a = (tc_annotate_options){.rule = TC_CORE_GAP, .similarity = TC_SIMILARITY_SUBTREE, .ancestors = 1, .batch = 1024,
                                .max_chars = 16000, .precision = "fp32"};
    tc_llm_settings_init(&s.a.llm, 0.0, 0);
    s.r = (tc_refine_options){.keep_percentile = 25, .match = TC_MATCH_WORD, .top = 4, .batch = 1024, .precision = "fp32"};
    cli.argv++, cli.argc--;  // options follow the job's name
    parse(&cli, &s);
    if (s.wrong_option)
        tc_cli_usage_error(&cli, "%s belongs to tc-refine %s", s.wrong_option, s.annotate ? "refine" : "annotate");
    if (s.annotate) check_annotate(&cli, &s);
    else check_refine(&cli, &s);
    check_files(&cli, &s);
    int rc = s.annotate ? tc_annotate_run(&cli, &s.a) : tc_refine_run(&cli, &s.r);
    tc_llm_settings_free(&s.a.llm);
    if (rc) tc_cli_die(&cli);
    return 0;
}
