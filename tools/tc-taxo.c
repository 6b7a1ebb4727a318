// tc-taxo: the label taxonomy: build and validate it, show it, list its
// paths, import and export key terms, list the strings to embed and gather
// their embeddings, build training targets, and enrich classes with key
// terms from the corpus.
#include "common/cli/cli.h"
#include "common/taxonomy/pairs.h"
#include "common/cli/files.h"
#include "common/taxonomy/enrich.h"
#include "common/error.h"
#include "common/cli/io.h"
#include "common/taxonomy/keyterms.h"
#include "common/taxonomy/labels.h"
#include "common/taxonomy/targets.h"
#include "common/taxonomy/taxonomy.h"
#include "common/taxonomy/taxonomy_read.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: tc-taxo COMMAND [options] [FILE]\n"
    "The label taxonomy of teleclass-c. Commands:\n"
    "  build            labels.txt + label_hierarchy.txt, or YAML -> taxonomy tensors\n"
    "  show             the tree with ids, depth, key terms and document counts\n"
    "  paths            root-to-leaf paths, one a line: a > b > c\n"
    "  terms            merge key-term files (name:term,...) into a taxonomy\n"
    "  export-terms     key terms as name:term,... text\n"
    "  texts            class names and key terms to embed, as id<TAB>text\n"
    "  term-embeddings  embeddings of those texts -> per-class term-embedding sets\n"
    "  targets          core classes -> training targets (positives, masks, weights)\n"
    "  candidates       candidate key terms of the corpus to embed, as id<TAB>text\n"
    "  enrich           key terms from the corpus (popularity, distinctiveness, similarity)\n"
    "  pairs            confident documents with their core classes' texts: pairs to\n"
    "                   train a sentence encoder on (tc-train --objective contrastive)\n"
    "Run 'tc-taxo COMMAND --help' for a command's options.\n"
    TC_CLI_COMMON_HELP;

enum {
    OPT_LABELS = TC_OPT_FIRST_PROGRAM, OPT_HIERARCHY, OPT_YAML, OPT_TERMS, OPT_NO_ISOLATED, OPT_COUNTS,
    OPT_SUMMARY, OPT_IDS, OPT_REPLACE, OPT_TAXONOMY, OPT_AUGMENTED, OPT_AUGMENTED_WEIGHT, OPT_PATHS, OPT_NAMES_ONLY, OPT_CORE, OPT_PHRASES, OPT_MIN_FREQ,
    OPT_TOP_K, OPT_STOPWORDS, OPT_EMBEDDINGS, OPT_MIN_PHRASE_SCORE, OPT_PHRASE_WORDS, OPT_CORPUS,
};

typedef struct {
    tc_cli cli;
    const char *input;           // the positional FILE, NULL for stdin
} command;

static void one_input(command *cmd, int argc, char **argv) {
    if (optind < argc - 1) tc_cli_usage_error(&cmd->cli, "too many arguments: '%s'", argv[optind + 1]);
    cmd->input = optind < argc ? argv[optind] : NULL;
}

static const char *input_name(const char *path) { return path && strcmp(path, "-") ? path : "-"; }

static void load_taxonomy(command *cmd, tc_taxonomy *t, const char *path) {
    if (tc_taxonomy_load(t, input_name(path))) tc_cli_die(&cmd->cli);
}

static void write_taxonomy(command *cmd, const tc_taxonomy *t) {
    tc_tensor_output out;
    if (tc_tensor_output_open(&out, &cmd->cli)) tc_cli_die(&cmd->cli);
    if (tc_taxonomy_write(t, out.writer)) {
        tc_tensor_output_abort(&out);
        tc_cli_die(&cmd->cli);
    }
    if (tc_tensor_output_commit(&out)) tc_cli_die(&cmd->cli);
}

// Text output to -o FILE (atomically) or stdout.
static FILE *text_open(command *cmd, tc_output *out) {
    if (tc_output_open(out, cmd->cli.output, 0, 1)) tc_cli_die(&cmd->cli);
    return out->f;
}

static void text_commit(command *cmd, tc_output *out) {
    if (tc_output_commit(out)) tc_cli_die(&cmd->cli);
}

// After a failure: a failed write names the output; no partial file stays.
static _Noreturn void text_abort(command *cmd, tc_output *out) {
    if (ferror(out->f)) tc_fail_context("%s", tc_output_name(out));
    tc_output_abort(out);
    tc_cli_die(&cmd->cli);
}

static void merge_terms(command *cmd, tc_taxonomy *t, const char *const *files, int n, int replace) {
    tc_keyterms k;
    if (tc_keyterms_begin(&k, t, replace)) tc_cli_die(&cmd->cli);
    for (int i = 0; i < n; i++) {
        int added;
        if (tc_keyterms_read(&k, t, files[i], &added)) tc_cli_die(&cmd->cli);
        tc_verbose("%s: %d key terms", files[i], added);
    }
    if (tc_keyterms_finish(&k, t)) tc_cli_die(&cmd->cli);
}

// ---------------------------------------------------------------- build

static const char build_usage[] =
    "usage: tc-taxo build [options] [DIR]\n"
    "Reads a taxonomy, checks it and writes the taxonomy tensors.\n"
    "  DIR                  TELEClass layout: DIR/labels.txt and DIR/label_hierarchy.txt\n"
    "      --labels FILE    id<TAB>name lines (ids 0..C-1)\n"
    "      --hierarchy FILE parent<TAB>child lines of ids (omit for a flat taxonomy)\n"
    "      --yaml FILE      a YAML tree of class names instead (see tc-taxo(1))\n"
    "      --terms FILE     key terms to import (name:term,...); repeatable\n"
    "      --no-isolated    refuse a class that is in no edge of the hierarchy (by default\n"
    "                       it is a top-level class without children, and a note says so)\n"
    TC_CLI_COMMON_HELP;

static int cmd_build(command *cmd, int argc, char **argv) {
    static const struct option options[] = {
        {"labels", required_argument, 0, OPT_LABELS}, {"hierarchy", required_argument, 0, OPT_HIERARCHY},
        {"yaml", required_argument, 0, OPT_YAML}, {"terms", required_argument, 0, OPT_TERMS},
        {"no-isolated", no_argument, 0, OPT_NO_ISOLATED}, TC_CLI_COMMON_OPTIONS, {0}};
    const char *labels = NULL, *hierarchy = NULL, *yaml = NULL, *terms[64];
    int n_terms = 0, allow_isolated = 1, c;
    cmd->cli.usage = build_usage;
    while ((c = tc_cli_getopt(&cmd->cli, argc, argv, "", options)) != -1) switch (c) {
        case OPT_LABELS: labels = optarg; break;
        case OPT_HIERARCHY: hierarchy = optarg; break;
        case OPT_YAML: yaml = optarg; break;
        case OPT_NO_ISOLATED: allow_isolated = 0; break;
        case OPT_TERMS:
            if (n_terms == 64) tc_cli_usage_error(&cmd->cli, "--terms: at most 64 files");
            terms[n_terms++] = optarg;
            break;
        default: tc_cli_option(&cmd->cli, c, optarg);
        }
    one_input(cmd, argc, argv);
    char labels_path[4096], hierarchy_path[4096];
    if (cmd->input) {
        if (labels || hierarchy || yaml) tc_cli_usage_error(&cmd->cli, "give DIR or --labels/--hierarchy/--yaml, not both");
        snprintf(labels_path, sizeof labels_path, "%s/labels.txt", cmd->input);
        snprintf(hierarchy_path, sizeof hierarchy_path, "%s/label_hierarchy.txt", cmd->input);
        labels = labels_path;
        hierarchy = hierarchy_path;
    }
    if (yaml && (labels || hierarchy)) tc_cli_usage_error(&cmd->cli, "--yaml reads the whole taxonomy; drop --labels/--hierarchy");
    if (!yaml && !labels) tc_cli_usage_error(&cmd->cli, "no taxonomy: give DIR, --labels [--hierarchy] or --yaml");
    tc_files_input("--labels", labels);
    tc_files_input("--hierarchy", hierarchy);
    tc_files_input("--yaml", yaml);
    for (int i = 0; i < n_terms; i++) tc_files_input("--terms", terms[i]);
    tc_cli_check_files(&cmd->cli);
    tc_taxonomy t;
    int rc = yaml ? tc_taxonomy_read_yaml(&t, yaml) : tc_taxonomy_read_teleclass(&t, labels, hierarchy, allow_isolated);
    if (rc) tc_cli_die(&cmd->cli);
    if (!yaml && hierarchy && t.n_edges)
        for (int i = 0; i < t.n_classes; i++)
            if (t.child_offsets[i] == t.child_offsets[i + 1] && t.parent_offsets[i] == t.parent_offsets[i + 1])
                tc_note("class '%s' (%d) is in no edge: a top-level class without children", t.names[i], i);
    merge_terms(cmd, &t, terms, n_terms, 0);
    tc_note("%d classes, %d edges, %d top-level classes, depth %d, %d key terms", t.n_classes, t.n_edges, t.n_roots,
            t.max_depth, t.n_terms);
    write_taxonomy(cmd, &t);
    tc_taxonomy_free(&t);
    return 0;
}

// ---------------------------------------------------------------- show

static const char show_usage[] =
    "usage: tc-taxo show [options] [TAXONOMY]\n"
    "Prints the taxonomy as an indented tree: name [id] depth, key terms, documents.\n"
    "A class with several parents is shown in full under its first parent.\n"
    "      --counts LABELS  count documents per class from doc2labels.txt or a label file\n"
    "      --summary        counts only: classes, edges, roots, leaves, depth histogram, paths\n"
    TC_CLI_COMMON_HELP;

typedef struct {
    const tc_taxonomy *t;
    const int64_t *docs;   // per class, or NULL
    int *terms;            // per class
    uint8_t *shown;
    FILE *f;
} tree_printer;

// One class's line; 1 if its children come next (the first time it is shown).
static int print_class(tree_printer *p, int c, int indent) {
    fprintf(p->f, "%*s", 2 * indent, "");
    tc_fputs_escaped(p->t->names[c], p->f);  // names were checked on load: escaping is a second guard
    fprintf(p->f, " [%d]  depth %d  terms %d", c, p->t->depth[c], p->terms[c]);
    if (p->docs) fprintf(p->f, "  docs %" PRId64, p->docs[c]);
    if (p->shown[c]) {
        fputs("  (shown above)\n", p->f);
        return 0;
    }
    fputc('\n', p->f);
    p->shown[c] = 1;
    return 1;
}

// Depth first with a stack of its own: a chain of classes is as deep as the
// taxonomy is large, too deep for recursion.
static int print_tree(tree_printer *p, int root) {
    const tc_taxonomy *t = p->t;
    int32_t *stack = tc_malloc_array((size_t)t->n_classes + 1, sizeof *stack);  // the classes above, root first
    int32_t *next = tc_malloc_array((size_t)t->n_classes + 1, sizeof *next);    // each one's next child
    if (!stack || !next) {
        free(stack);
        free(next);
        return -1;
    }
    int top = 0;
    stack[0] = root;
    next[0] = print_class(p, root, 0) ? t->child_offsets[root] : t->child_offsets[root + 1];
    while (top >= 0) {
        int v = stack[top];
        if (next[top] == t->child_offsets[v + 1]) {
            top--;
            continue;
        }
        int w = t->children[next[top]++];
        stack[++top] = w;  // on the path from a root at most once: the taxonomy is acyclic
        next[top] = print_class(p, w, top) ? t->child_offsets[w] : t->child_offsets[w + 1];
    }
    free(stack);
    free(next);
    return 0;
}

static int print_summary(FILE *f, const tc_taxonomy *t) {
    int leaves = 0, multi = 0;
    for (int c = 0; c < t->n_classes; c++) {
        leaves += tc_taxonomy_is_leaf(t, c);
        multi += t->parent_offsets[c + 1] - t->parent_offsets[c] > 1;
    }
    fprintf(f, "classes\t%d\nedges\t%d\nroots\t%d\nvirtual_root\t%s\nleaves\t%d\nmulti_parent\t%d\nmax_depth\t%d\n",
            t->n_classes, t->n_edges, t->n_roots, t->n_roots > 1 ? "yes" : "no", leaves, multi, t->max_depth);
    for (int d = 1; d <= t->max_depth; d++) {
        int n = 0;
        for (int c = 0; c < t->n_classes; c++) n += t->depth[c] == d;
        fprintf(f, "depth_%d\t%d\n", d, n);
    }
    tc_path_totals totals;
    char paths[32];
    if (tc_taxonomy_path_totals(t, &totals)) return -1;
    fprintf(f, "paths\t%s\nterms\t%d\n", tc_path_count_text(totals.paths, paths), t->n_terms);
    return 0;
}

static int cmd_show(command *cmd, int argc, char **argv) {
    static const struct option options[] = {
        {"counts", required_argument, 0, OPT_COUNTS}, {"summary", no_argument, 0, OPT_SUMMARY},
        TC_CLI_COMMON_OPTIONS, {0}};
    const char *counts = NULL;
    int summary = 0, c;
    cmd->cli.usage = show_usage;
    while ((c = tc_cli_getopt(&cmd->cli, argc, argv, "", options)) != -1) switch (c) {
        case OPT_COUNTS: counts = optarg; break;
        case OPT_SUMMARY: summary = 1; break;
        default: tc_cli_option(&cmd->cli, c, optarg);
        }
    one_input(cmd, argc, argv);
    tc_files_input(NULL, input_name(cmd->input));
    tc_files_input("--counts", counts);
    tc_cli_check_files(&cmd->cli);
    tc_taxonomy t;
    load_taxonomy(cmd, &t, cmd->input);
    tc_output out;
    FILE *f = text_open(cmd, &out);
    if (summary) {
        if (print_summary(f, &t)) {
            tc_output_abort(&out);
            tc_cli_die(&cmd->cli);
        }
    } else {
        tree_printer p = {.t = &t, .f = f};
        p.terms = calloc((size_t)t.n_classes, sizeof *p.terms);
        p.shown = calloc((size_t)t.n_classes, 1);
        int64_t *docs = NULL;
        if (!p.terms || !p.shown) tc_cli_fail(&cmd->cli, "out of memory");
        for (int k = 0; k < t.n_terms; k++) p.terms[t.term_class[k]]++;
        if (counts) {
            tc_labels l;
            if (tc_labels_read_any(&l, counts, t.n_classes)) tc_cli_die(&cmd->cli);
            if (!(docs = calloc((size_t)t.n_classes, sizeof *docs))) tc_cli_fail(&cmd->cli, "out of memory");
            for (int64_t k = 0; k < l.offsets[l.n_docs]; k++) docs[l.classes[k]]++;
            tc_note("%s: %" PRIu64 " documents", counts, l.n_docs);
            tc_labels_free(&l);
        }
        p.docs = docs;
        for (int r = 0; r < t.n_roots; r++)
            if (print_tree(&p, t.roots[r])) {
                tc_output_abort(&out);
                tc_cli_die(&cmd->cli);
            }
        free(p.terms);
        free(p.shown);
        free(docs);
    }
    text_commit(cmd, &out);
    tc_taxonomy_free(&t);
    return 0;
}

// ---------------------------------------------------------------- paths

static const char paths_usage[] =
    "usage: tc-taxo paths [options] [TAXONOMY]\n"
    "Prints every root-to-leaf path, one a line: a > b > c (roots in id order,\n"
    "children in edge order; a class with several parents is on several paths).\n"
    "      --ids            class ids instead of names\n"
    TC_CLI_COMMON_HELP;

typedef struct {
    const tc_taxonomy *t;
    FILE *f;
    int ids;
} path_printer;

static int print_path(const int32_t *path, int length, void *context) {
    path_printer *p = context;
    for (int i = 0; i < length; i++) {
        if (i) fputs(" > ", p->f);
        if (p->ids) fprintf(p->f, "%d", path[i]);
        else tc_fputs_escaped(p->t->names[path[i]], p->f);
    }
    fputc('\n', p->f);
    return ferror(p->f) ? 1 : 0;
}

static int cmd_paths(command *cmd, int argc, char **argv) {
    static const struct option options[] = {{"ids", no_argument, 0, OPT_IDS}, TC_CLI_COMMON_OPTIONS, {0}};
    path_printer p = {0};
    int c;
    cmd->cli.usage = paths_usage;
    while ((c = tc_cli_getopt(&cmd->cli, argc, argv, "", options)) != -1) switch (c) {
        case OPT_IDS: p.ids = 1; break;
        default: tc_cli_option(&cmd->cli, c, optarg);
        }
    one_input(cmd, argc, argv);
    tc_files_input(NULL, input_name(cmd->input));
    tc_cli_check_files(&cmd->cli);
    tc_taxonomy t;
    load_taxonomy(cmd, &t, cmd->input);
    if (tc_taxonomy_check_paths(&t, "tc-taxo paths", TC_PATHS_MAX, TC_PATH_CLASSES_MAX))
        tc_cli_fail(&cmd->cli, "%s: %s", input_name(cmd->input), tc_error());
    tc_output out;
    p.t = &t;
    p.f = text_open(cmd, &out);
    if (tc_taxonomy_paths(&t, print_path, &p) < 0) {
        if (ferror(p.f)) tc_fail("write failed: %s", strerror(errno ? errno : EIO));
        text_abort(cmd, &out);
    }
    text_commit(cmd, &out);
    tc_taxonomy_free(&t);
    return 0;
}

// ---------------------------------------------------------------- key terms

static const char terms_usage[] =
    "usage: tc-taxo terms [options] --taxonomy TAXONOMY FILE...\n"
    "Merges key-term files (name:term,term,... a line, as TELEClass's\n"
    "llm_enrichment.txt and enrichment.txt) into the taxonomy and writes it.\n"
    "Terms already in the taxonomy are kept, repeats dropped.\n"
    "  -t, --taxonomy FILE  the taxonomy (default: stdin)\n"
    "      --replace        drop the terms the taxonomy had\n"
    TC_CLI_COMMON_HELP;

static int cmd_terms(command *cmd, int argc, char **argv) {
    static const struct option options[] = {
        {"taxonomy", required_argument, 0, 't'}, {"replace", no_argument, 0, OPT_REPLACE}, TC_CLI_COMMON_OPTIONS, {0}};
    const char *taxonomy = NULL;
    int replace = 0, c;
    cmd->cli.usage = terms_usage;
    while ((c = tc_cli_getopt(&cmd->cli, argc, argv, "t:", options)) != -1) switch (c) {
        case 't': taxonomy = optarg; break;
        case OPT_REPLACE: replace = 1; break;
        default: tc_cli_option(&cmd->cli, c, optarg);
        }
    if (optind >= argc && !replace) tc_cli_usage_error(&cmd->cli, "no key-term file");
    tc_files_input("--taxonomy", input_name(taxonomy));
    for (int i = optind; i < argc; i++) tc_files_input(NULL, argv[i]);
    tc_cli_check_files(&cmd->cli);
    tc_taxonomy t;
    load_taxonomy(cmd, &t, taxonomy);
    int before = t.n_terms;
    merge_terms(cmd, &t, (const char *const *)argv + optind, argc - optind, replace);
    tc_note("%d key terms (%+d)", t.n_terms, t.n_terms - before);
    write_taxonomy(cmd, &t);
    tc_taxonomy_free(&t);
    return 0;
}

static const char export_usage[] =
    "usage: tc-taxo export-terms [options] [TAXONOMY]\n"
    "Prints the key terms as name:term,term,... one class a line (every class).\n"
    TC_CLI_COMMON_HELP;

static const char texts_usage[] =
    "usage: tc-taxo texts [options] [TAXONOMY]\n"
    "Prints the strings to embed as id<TAB>text for tc-tokenize: for each class,\n"
    "c<ID><TAB>its name, then t<INDEX><TAB>each of its key terms (underscores as spaces).\n"
    "      --names-only    the class names alone, one line per class (the class vectors\n"
    "                      of tc-train --class-vectors, once embedded)\n"
    TC_CLI_COMMON_HELP;

static int cmd_text_out(command *cmd, int argc, char **argv, int texts) {
    static const struct option options[] = {{"names-only", no_argument, 0, OPT_NAMES_ONLY}, TC_CLI_COMMON_OPTIONS, {0}};
    int c, names_only = 0;
    cmd->cli.usage = texts ? texts_usage : export_usage;
    while ((c = tc_cli_getopt(&cmd->cli, argc, argv, "", options)) != -1) {
        if (c == OPT_NAMES_ONLY && texts) names_only = 1;
        else if (c == OPT_NAMES_ONLY) tc_cli_usage_error(&cmd->cli, "--names-only belongs to tc-taxo texts");
        else tc_cli_option(&cmd->cli, c, optarg);
    }
    one_input(cmd, argc, argv);
    tc_files_input(NULL, input_name(cmd->input));
    tc_cli_check_files(&cmd->cli);
    tc_taxonomy t;
    load_taxonomy(cmd, &t, cmd->input);
    tc_output out;
    FILE *f = text_open(cmd, &out);
    if (texts ? tc_keyterms_write_texts(&t, f, names_only) : tc_keyterms_write_text(&t, f)) text_abort(cmd, &out);
    text_commit(cmd, &out);
    tc_taxonomy_free(&t);
    return 0;
}

static const char pairs_usage[] =
    "usage: tc-taxo pairs --taxonomy TAXONOMY --corpus CORPUS.txt [options] [LABELS]\n"
    "Training pairs for a sentence encoder from the pipeline's outputs: for each\n"
    "confident document of LABELS (tc-refine refine) and each of its core classes, the\n"
    "line DOCID#K<TAB>NAME: TERM, TERM, ...<TAB>TEXT (the class's name and key terms,\n"
    "underscores as spaces; the document's text from CORPUS, in whose order LABELS is).\n"
    "cut -f1,2 and cut -f1,3 are the two sides to tokenize for tc-train --objective\n"
    "contrastive.\n"
    "  -t, --taxonomy FILE  the taxonomy, with key terms\n"
    "      --corpus FILE    the documents' text, id<TAB>text\n"
    TC_CLI_COMMON_HELP;

static int cmd_pairs(command *cmd, int argc, char **argv) {
    static const struct option options[] = {
        {"taxonomy", required_argument, 0, 't'}, {"corpus", required_argument, 0, OPT_CORPUS}, TC_CLI_COMMON_OPTIONS, {0}};
    const char *taxonomy = NULL, *corpus = NULL;
    int c;
    cmd->cli.usage = pairs_usage;
    while ((c = tc_cli_getopt(&cmd->cli, argc, argv, "t:", options)) != -1) switch (c) {
        case 't': taxonomy = optarg; break;
        case OPT_CORPUS: corpus = optarg; break;
        default: tc_cli_option(&cmd->cli, c, optarg);
        }
    one_input(cmd, argc, argv);
    if (!taxonomy || !corpus) tc_cli_usage_error(&cmd->cli, "--taxonomy and --corpus are required");
    tc_files_input("--taxonomy", taxonomy);
    tc_files_input("--corpus", corpus);
    tc_files_input(NULL, input_name(cmd->input));
    tc_cli_check_files(&cmd->cli);
    tc_taxonomy t;
    load_taxonomy(cmd, &t, taxonomy);
    tc_labels core;
    if (tc_labels_read_any(&core, input_name(cmd->input), t.n_classes)) tc_cli_die(&cmd->cli);
    tc_labels_keep_core(&core);  // refine's rows may list ancestors (label_core 0)
    FILE *in = tc_input_open(corpus);
    if (!in) tc_cli_die(&cmd->cli);
    tc_output out;
    FILE *f = text_open(cmd, &out);
    uint64_t pairs;
    if (tc_pairs_write(&t, &core, input_name(cmd->input), in, corpus, f, &pairs)) text_abort(cmd, &out);
    tc_input_close(in);
    text_commit(cmd, &out);
    tc_note("%" PRIu64 " pairs of %" PRIu64 " documents", pairs, core.n_docs);
    tc_labels_free(&core);
    tc_taxonomy_free(&t);
    return 0;
}

static const char gather_usage[] =
    "usage: tc-taxo term-embeddings [options] --taxonomy TAXONOMY [EMBEDDINGS]\n"
    "Gathers the embeddings of 'tc-taxo texts' (as tc-encode wrote them: doc_ids,\n"
    "embeddings) into per-class sets: class_of_row i32[M], row_offsets i64[C+1],\n"
    "row_texts str[M], embeddings f32[M,D]; each class's name row first, then its terms.\n"
    "  -t, --taxonomy FILE  the taxonomy whose texts were embedded\n"
    TC_CLI_COMMON_HELP;

static int cmd_gather(command *cmd, int argc, char **argv) {
    static const struct option options[] = {{"taxonomy", required_argument, 0, 't'}, TC_CLI_COMMON_OPTIONS, {0}};
    const char *taxonomy = NULL;
    int c;
    cmd->cli.usage = gather_usage;
    while ((c = tc_cli_getopt(&cmd->cli, argc, argv, "t:", options)) != -1) switch (c) {
        case 't': taxonomy = optarg; break;
        default: tc_cli_option(&cmd->cli, c, optarg);
        }
    one_input(cmd, argc, argv);
    if (!taxonomy) tc_cli_usage_error(&cmd->cli, "--taxonomy is required");
    tc_files_input("--taxonomy", taxonomy);
    tc_files_input(NULL, input_name(cmd->input));
    tc_cli_check_files(&cmd->cli);
    tc_taxonomy t;
    load_taxonomy(cmd, &t, taxonomy);
    tc_tensor_output out;
    if (tc_tensor_output_open(&out, &cmd->cli)) tc_cli_die(&cmd->cli);
    int64_t rows;
    if (tc_keyterms_gather_embeddings(&t, input_name(cmd->input), out.writer, &rows)) {
        tc_tensor_output_abort(&out);
        tc_cli_die(&cmd->cli);
    }
    if (tc_tensor_output_commit(&out)) tc_cli_die(&cmd->cli);
    tc_note("%" PRId64 " rows: %d class names, %d key terms", rows, t.n_classes, t.n_terms);
    tc_taxonomy_free(&t);
    return 0;
}

// ---------------------------------------------------------------- targets

static const char targets_usage[] =
    "usage: tc-taxo targets [options] --taxonomy TAXONOMY [CORE]\n"
    "Training targets from core classes (a label file or doc2labels.txt): positives are\n"
    "the core classes and their ancestors; their other descendants are masked out of\n"
    "the loss; the rest are negatives. Writes doc_ids, label_offsets, label_classes,\n"
    "mask_offsets, mask_classes, doc_weights.\n"
    "  -t, --taxonomy FILE  the taxonomy\n"
    "      --augmented FILE documents from path-based augmentation, labeled with their\n"
    "                       paths; they weigh |core documents| / |augmented documents|\n"
    "      --augmented-weight W  their weight instead (>= 0)\n"
    "      --paths          CORE's sets are whole paths (gold labels): each set's deepest\n"
    "                       classes are its core classes, so nothing above them is masked\n"
    TC_CLI_COMMON_HELP;

static int cmd_targets(command *cmd, int argc, char **argv) {
    static const struct option options[] = {
        {"taxonomy", required_argument, 0, 't'}, {"augmented", required_argument, 0, OPT_AUGMENTED},
        {"augmented-weight", required_argument, 0, OPT_AUGMENTED_WEIGHT}, {"paths", no_argument, 0, OPT_PATHS},
        TC_CLI_COMMON_OPTIONS, {0}};
    const char *taxonomy = NULL, *augmented = NULL;
    double augmented_weight = -1;
    int paths = 0;
    int c;
    cmd->cli.usage = targets_usage;
    while ((c = tc_cli_getopt(&cmd->cli, argc, argv, "t:", options)) != -1) switch (c) {
        case 't': taxonomy = optarg; break;
        case OPT_AUGMENTED: augmented = optarg; break;
        case OPT_AUGMENTED_WEIGHT:
            augmented_weight = tc_cli_parse_double(&cmd->cli, "--augmented-weight", optarg, 0, 1e30);
            break;
        case OPT_PATHS: paths = 1; break;
        default: tc_cli_option(&cmd->cli, c, optarg);
        }
    one_input(cmd, argc, argv);
    if (!taxonomy) tc_cli_usage_error(&cmd->cli, "--taxonomy is required");
    if (augmented_weight >= 0 && !augmented) tc_cli_usage_error(&cmd->cli, "--augmented-weight needs --augmented");
    tc_files_input("--taxonomy", taxonomy);
    tc_files_input(NULL, input_name(cmd->input));
    tc_files_input("--augmented", augmented);
    tc_cli_check_files(&cmd->cli);
    tc_taxonomy t;
    load_taxonomy(cmd, &t, taxonomy);
    tc_labels core, aug, targets;
    if (tc_labels_read_any(&core, input_name(cmd->input), t.n_classes)) tc_cli_die(&cmd->cli);
    // annotation output lists ancestors too (label_core = 0): they are not core classes
    int64_t ancestors = tc_labels_keep_core(&core);
    if (ancestors) tc_note("%" PRId64 " classes marked as ancestors (label_core 0) left to the taxonomy", ancestors);
    if (paths) {
        int64_t above = tc_labels_keep_deepest(&core, &t);
        if (above < 0) tc_cli_die(&cmd->cli);
        tc_note("%" PRId64 " classes above a deeper class of their set left to the taxonomy (--paths)", above);
    }
    if (augmented && tc_labels_read_any(&aug, augmented, t.n_classes)) tc_cli_die(&cmd->cli);
    tc_targets_summary s;
    if (tc_targets_build(&t, &core, augmented ? &aug : NULL, augmented_weight, &targets, &s)) tc_cli_die(&cmd->cli);
    tc_note("%" PRIu64 " core documents%s, %" PRIu64 " augmented documents (weight %.6g)", s.core_docs,
            s.core_empty ? " (some without classes left out)" : "", s.augmented_docs, (double)s.augmented_weight);
    if (s.core_empty || s.augmented_empty)
        tc_warn("left out %" PRIu64 " core and %" PRIu64 " augmented documents without classes", s.core_empty,
                s.augmented_empty);
    tc_tensor_output out;
    if (tc_tensor_output_open(&out, &cmd->cli)) tc_cli_die(&cmd->cli);
    if (tc_labels_write(&targets, out.writer)) {
        tc_tensor_output_abort(&out);
        tc_cli_die(&cmd->cli);
    }
    if (tc_tensor_output_commit(&out)) tc_cli_die(&cmd->cli);
    tc_labels_free(&core);
    if (augmented) tc_labels_free(&aug);
    tc_labels_free(&targets);
    tc_taxonomy_free(&t);
    return 0;
}

// ---------------------------------------------------------------- enrichment

static const char candidates_usage[] =
    "usage: tc-taxo candidates [options] --taxonomy TAXONOMY --core LABELS [CORPUS]\n"
    "First step of corpus-based enrichment: lists the candidate terms of every sibling\n"
    "set and the class names, as id<TAB>text for tc-tokenize and tc-encode (the id is\n"
    "the term, the text has spaces for underscores). CORPUS is id<TAB>text lines.\n"
    ENRICH_OPTIONS_HELP
    TC_CLI_COMMON_HELP;

static const char enrich_usage[] =
    "usage: tc-taxo enrich [options] --taxonomy TAXONOMY --core LABELS --embeddings FILE [CORPUS]\n"
    "Second step: scores the candidates of each sibling set by popularity,\n"
    "distinctiveness (BM25 contrast among siblings, softmaxed) and similarity to the\n"
    "class name (embeddings of 'tc-taxo candidates'), keeps the top k of each class, a\n"
    "term shared by siblings only with the higher scorer, and prints name:term,...\n"
    "      --embeddings FILE  embeddings of the candidates (doc_ids, embeddings)\n"
    "      --top-k K          terms per class (default 20)\n"
    ENRICH_OPTIONS_HELP
    TC_CLI_COMMON_HELP;

static int cmd_enrich(command *cmd, int argc, char **argv, int score) {
    static const struct option options[] = {
        {"taxonomy", required_argument, 0, 't'}, {"core", required_argument, 0, OPT_CORE},
        {"phrases", required_argument, 0, OPT_PHRASES}, {"min-phrase-score", required_argument, 0, OPT_MIN_PHRASE_SCORE},
        {"phrase-words", required_argument, 0, OPT_PHRASE_WORDS}, {"min-freq", required_argument, 0, OPT_MIN_FREQ},
        {"stopwords", required_argument, 0, OPT_STOPWORDS}, {"embeddings", required_argument, 0, OPT_EMBEDDINGS},
        {"top-k", required_argument, 0, OPT_TOP_K}, TC_CLI_COMMON_OPTIONS, {0}};
    tc_enrich_options o;
    tc_enrich_defaults(&o);
    const char *taxonomy = NULL, *core = NULL;
    int c;
    cmd->cli.usage = score ? enrich_usage : candidates_usage;
    while ((c = tc_cli_getopt(&cmd->cli, argc, argv, "t:", options)) != -1) switch (c) {
        case 't': taxonomy = optarg; break;
        case OPT_CORE: core = optarg; break;
        case OPT_PHRASES: o.phrases = optarg; break;
        case OPT_MIN_PHRASE_SCORE: o.min_phrase_score = tc_cli_parse_double(&cmd->cli, "--min-phrase-score", optarg, -1e9, 1e9); break;
        case OPT_PHRASE_WORDS: o.max_phrase_words = (int)tc_cli_parse_int(&cmd->cli, "--phrase-words", optarg, 1, 16); break;
        case OPT_MIN_FREQ: o.min_freq = (int)tc_cli_parse_int(&cmd->cli, "--min-freq", optarg, 1, 1000000000); break;
        case OPT_STOPWORDS: o.stopwords = optarg; break;
        case OPT_EMBEDDINGS:
            if (!score) tc_cli_usage_error(&cmd->cli, "--embeddings belongs to 'tc-taxo enrich'");
            o.embeddings = optarg;
            break;
        case OPT_TOP_K:
            if (!score) tc_cli_usage_error(&cmd->cli, "--top-k belongs to 'tc-taxo enrich'");
            o.top_k = (int)tc_cli_parse_int(&cmd->cli, "--top-k", optarg, 1, 100000);
            break;
        default: tc_cli_option(&cmd->cli, c, optarg);
        }
    one_input(cmd, argc, argv);
    if (!taxonomy) tc_cli_usage_error(&cmd->cli, "--taxonomy is required");
    if (!core) tc_cli_usage_error(&cmd->cli, "--core is required (the documents' core classes)");
    if (score && !o.embeddings) tc_cli_usage_error(&cmd->cli, "--embeddings is required (see 'tc-taxo candidates')");
    tc_files_input("--taxonomy", taxonomy);
    tc_files_input("--core", core);
    tc_files_input("--phrases", o.phrases);
    tc_files_input("--stopwords", o.stopwords);
    tc_files_input("--embeddings", o.embeddings);
    tc_files_input(NULL, input_name(cmd->input));
    tc_cli_check_files(&cmd->cli);
    tc_taxonomy t;
    load_taxonomy(cmd, &t, taxonomy);
    tc_labels labels;
    if (tc_labels_read_any(&labels, core, t.n_classes)) tc_cli_die(&cmd->cli);
    o.corpus = input_name(cmd->input);
    tc_output out;
    FILE *f = text_open(cmd, &out);
    int rc = tc_enrich_run(&t, &labels, &o, &cmd->cli, score ? TC_ENRICH_SCORE : TC_ENRICH_CANDIDATES, f);
    if (rc) text_abort(cmd, &out);
    text_commit(cmd, &out);
    tc_labels_free(&labels);
    tc_taxonomy_free(&t);
    return 0;
}

// ---------------------------------------------------------------- main

int main(int argc, char **argv) {
    command cmd = {0};
    tc_cli_init(&cmd.cli, "tc-taxo", usage, &argc, &argv, 2);
    if (argc < 2 || argv[1][0] == '-') {
        // options before any command: --help, --version, or a mistake
        static const struct option options[] = {TC_CLI_COMMON_OPTIONS, {0}};
        int c;
        while ((c = tc_cli_getopt(&cmd.cli, argc, argv, "", options)) != -1) tc_cli_option(&cmd.cli, c, optarg);
        tc_cli_usage_error(&cmd.cli, "no command (build, show, paths, terms, export-terms, texts, term-embeddings, "
                                     "targets, candidates, enrich, pairs)");
    }
    const char *name = argv[1];
    optind = 2;
    if (!strcmp(name, "build")) return cmd_build(&cmd, argc, argv);
    if (!strcmp(name, "show")) return cmd_show(&cmd, argc, argv);
    if (!strcmp(name, "paths")) return cmd_paths(&cmd, argc, argv);
    if (!strcmp(name, "terms")) return cmd_terms(&cmd, argc, argv);
    if (!strcmp(name, "export-terms")) return cmd_text_out(&cmd, argc, argv, 0);
    if (!strcmp(name, "texts")) return cmd_text_out(&cmd, argc, argv, 1);
    if (!strcmp(name, "term-embeddings")) return cmd_gather(&cmd, argc, argv);
    if (!strcmp(name, "targets")) return cmd_targets(&cmd, argc, argv);
    if (!strcmp(name, "candidates")) return cmd_enrich(&cmd, argc, argv, 0);
    if (!strcmp(name, "enrich")) return cmd_enrich(&cmd, argc, argv, 1);
    if (!strcmp(name, "pairs")) return cmd_pairs(&cmd, argc, argv);
    tc_cli_usage_error(&cmd.cli, "unknown command '%s'", name);
}
