#include "common/augment/augment.h"
#include "common/error.h"
#include "common/cli/io.h"
#include "common/taxonomy/label_stream.h"
#include "common/refine/refine_io.h"

#include <errno.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    tc_paths *paths;
    tc_path_totals room;  // counted before the walk
} path_builder;

static int add_path(const int32_t *path, int length, void *context) {
    path_builder *b = context;
    tc_paths *p = b->paths;
    int64_t used = p->offsets[p->n];
    if (p->n >= b->room.paths || used + length > b->room.classes)  // a guard: the walk agrees with the count
        return tc_fail("the taxonomy has more root-to-leaf paths than counted");
    memcpy(p->classes + used, path, (size_t)length * sizeof *path);
    p->offsets[++p->n] = (int32_t)(used + length);
    return 0;
}

int tc_paths_collect(tc_paths *p, const tc_taxonomy *t) {
    memset(p, 0, sizeof *p);
    path_builder b = {.paths = p};
    // the counts size the arrays, so they are checked before anything is allocated
    if (tc_taxonomy_check_paths(t, "path-based augmentation", TC_PATHS_MAX, TC_PATH_CLASSES_MAX) ||
        tc_taxonomy_path_totals(t, &b.room))
        return -1;
    p->offsets = tc_calloc((size_t)b.room.paths + 1, sizeof *p->offsets);
    p->classes = tc_malloc_array((size_t)b.room.classes, sizeof *p->classes);
    if (!p->offsets || !p->classes || tc_taxonomy_paths(t, add_path, &b) < 0) {
        tc_paths_free(p);
        return -1;
    }
    return 0;
}

void tc_paths_free(tc_paths *p) {
    free(p->offsets), free(p->classes);
    memset(p, 0, sizeof *p);
}

char *tc_path_text(const tc_taxonomy *t, const tc_paths *p, int i) {
    size_t size = 1;
    for (int32_t k = p->offsets[i]; k < p->offsets[i + 1]; k++) size += strlen(t->names[p->classes[k]]) + 3;
    char *text = tc_malloc(size);
    if (!text) return NULL;
    size_t at = 0;
    for (int32_t k = p->offsets[i]; k < p->offsets[i + 1]; k++) {
        if (k > p->offsets[i]) memcpy(text + at, " > ", 3), at += 3;
        for (const char *s = t->names[p->classes[k]]; *s; s++) text[at++] = *s == '_' ? ' ' : *s;
    }
    text[at] = 0;
    return text;
}

int tc_aug_set_add(tc_aug_set *set, const char *id, const char *text, const int32_t *classes, int n_classes,
                   int32_t core) {
    if (set->n == set->cap) {
        size_t cap = set->cap ? 2 * set->cap : 256;
        tc_aug_doc *d = tc_realloc(set->docs, cap * sizeof *d);
        if (!d) return -1;
        set->docs = d, set->cap = cap;
    }
    tc_aug_doc *d = &set->docs[set->n];
    d->id = strdup(id);
    d->text = tc_aug_clean_text(text);
    d->classes = tc_malloc_array((size_t)n_classes + 1, sizeof *d->classes);
    if (!d->id || !d->text || !d->classes) {
        free(d->id), free(d->text), free(d->classes);
        return tc_fail("out of memory");
    }
    memcpy(d->classes, classes, (size_t)n_classes * sizeof *classes);
    d->n_classes = n_classes;
    d->core = core;
    set->n++;
    return 0;
}

void tc_aug_set_free(tc_aug_set *set) {
    for (size_t i = 0; i < set->n; i++) free(set->docs[i].id), free(set->docs[i].text), free(set->docs[i].classes);
    free(set->docs);
    memset(set, 0, sizeof *set);
}

char *tc_aug_clean_text(const char *text) {
    char *out = tc_malloc(strlen(text) + 1);
    if (!out) return NULL;
    size_t at = 0;
    int space = 0;
    for (const char *p = text; *p; p++) {
        if (isspace((unsigned char)*p)) {
            space = at > 0;
            continue;
        }
        if (space) out[at++] = ' ';
        space = 0;
        out[at++] = *p;
    }
    out[at] = 0;
    return out;
}

int tc_aug_word_count(const char *text) {
    int n = 0, in_word = 0;
    for (const char *p = text; *p; p++) {
        int space = isspace((unsigned char)*p);
        if (!space && !in_word) n++;
        in_word = !space;
    }
    return n;
}

int tc_aug_check_prefix(const char *corpus, const char *prefix) {
    tc_corpus_reader r;
    if (tc_corpus_open(&r, corpus)) return -1;
    const char *id, *text;
    int rc;
    size_t len = strlen(prefix);
    while ((rc = tc_corpus_next(&r, NULL, &id, &text)) == 0)
        if (!strncmp(id, prefix, len)) {
            rc = tc_fail("%s: line %llu: document '%s' starts with the id prefix '%s': choose another with --id-prefix",
                         corpus, (unsigned long long)r.line_no, id, prefix);
            break;
        }
    tc_corpus_close(&r);
    return rc < 0 ? -1 : 0;
}

static int write_labels(const tc_aug_set *set, tct_writer *w, const char *source) {
    tc_label_stream labels;
    tct_attr attrs[2] = {{"labels", "root-to-leaf paths of pseudo-documents (label_core marks the leaf)"},
                         {"source", source}};
    if (tc_label_stream_begin(&labels, w, 0, 1, attrs, 2)) return -1;
    uint8_t *core = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < set->n; i++) {
        const tc_aug_doc *d = &set->docs[i];
        if ((size_t)d->n_classes > cap) {
            uint8_t *p = tc_realloc(core, (size_t)d->n_classes);
            if (!p) return free(core), -1;
            core = p, cap = (size_t)d->n_classes;
        }
        for (int k = 0; k < d->n_classes; k++) core[k] = d->classes[k] == d->core;
        if (tc_label_stream_add(&labels, d->id, d->classes, NULL, core, d->n_classes)) return free(core), -1;
    }
    free(core);
    return tc_label_stream_end(&labels);
}

int tc_aug_write(const tc_cli *cli, const char *docs_out, const tc_aug_set *set, const char *source) {
    tc_output text;
    if (tc_output_open(&text, docs_out, 0, 1)) return -1;
    for (size_t i = 0; i < set->n; i++)
        if (fprintf(text.f, "%s\t%s\n", set->docs[i].id, set->docs[i].text) < 0) break;
    if (ferror(text.f)) {
        tc_output_abort(&text);
        return tc_fail("%s: write failed: %s", docs_out, strerror(errno ? errno : EIO));
    }
    tc_tensor_output out;
    if (tc_tensor_output_open(&out, cli)) {
        tc_output_abort(&text);
        return -1;
    }
    if (write_labels(set, out.writer, source) || tc_tensor_output_commit(&out)) {
        tc_tensor_output_abort(&out);
        tc_output_abort(&text);
        return -1;
    }
    if (tc_output_commit(&text)) {
        if (cli->output && strcmp(cli->output, "-")) unlink(cli->output);  // both or neither
        return -1;
    }
    return 0;
}
