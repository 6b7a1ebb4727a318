#include "common/taxonomy/pairs.h"
#include "common/cli/io.h"
#include "common/error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void put_spaced(FILE *out, const char *s) {
    for (; *s; s++) fputc(*s == '_' ? ' ' : *s, out);
}

// NAME: TERM, TERM, ...
static void class_text(const tc_taxonomy *t, int c, FILE *out) {
    put_spaced(out, t->names[c]);
    int first = 1;
    for (int k = 0; k < t->n_terms; k++) {
        if (t->term_class[k] != c) continue;
        fputs(first ? ": " : ", ", out);
        put_spaced(out, t->terms[k]);
        first = 0;
    }
}

int tc_pairs_write(const tc_taxonomy *t, const tc_labels *l, const char *labels_path, FILE *corpus,
                   const char *corpus_path, FILE *out, uint64_t *pairs) {
    char *line = NULL;
    size_t cap = 0;
    long n = 0;
    uint64_t next = 0, line_no = 0;
    *pairs = 0;
    while (next < l->n_docs && (n = tc_read_line(corpus, &line, &cap)) >= 0) {
        line_no++;
        char *tab = strchr(line, '\t');
        if (!tab) continue;  // not a document line: tc-tokenize's own checks apply to it
        *tab = 0;
        if (strcmp(line, l->doc_ids[next])) continue;
        for (int64_t e = l->offsets[next]; e < l->offsets[next + 1]; e++) {
            fprintf(out, "%s#%" PRId64 "\t", line, e - l->offsets[next]);
            class_text(t, l->classes[e], out);
            fprintf(out, "\t%s\n", tab + 1);
            ++*pairs;
        }
        next++;
    }
    free(line);
    if (n == -2) return tc_fail_context("%s: line %" PRIu64, corpus_path, line_no + 1);
    if (ferror(corpus)) return tc_fail("%s: read error: %s", corpus_path, strerror(errno));
    if (next < l->n_docs)
        return tc_fail("%s: document '%s' (row %" PRIu64 ") is not in %s, or not in its order", labels_path,
                       l->doc_ids[next], next, corpus_path);
    return ferror(out) ? tc_fail("write failed: %s", strerror(errno)) : 0;
}
