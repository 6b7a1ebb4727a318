// Key terms: import and merge of `name:term,...` files, export, the strings
// to embed, and the per-class sets of their embeddings.
#include "common/taxonomy/keyterms.h"
#include "common/embeddings/embedding_stream.h"
#include "common/error.h"
#include "common/cli/io.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void tc_keyterms_free(tc_keyterms *k) {
    for (int i = 0; i < k->n; i++) free(k->terms[i]);
    free(k->terms);
    free(k->classes);
    tc_strindex_free(&k->seen);
    memset(k, 0, sizeof *k);
}

int tc_keyterms_begin(tc_keyterms *k, const tc_taxonomy *t, int replace) {
    memset(k, 0, sizeof *k);
    if (tc_strindex_init(&k->seen)) return -1;
    for (int i = 0; !replace && i < t->n_terms; i++)
        if (tc_keyterms_add(k, t->term_class[i], t->terms[i]) < 0) {
            tc_keyterms_free(k);
            return -1;
        }
    return 0;
}

// Trims both ends and joins the words inside with single underscores.
static char *canonical_term(const char *s) {
    size_t n = strlen(s);
    char *out = tc_malloc(n + 1), *o = out;
    if (!out) return NULL;
    int gap = 0;
    for (const char *p = s; *p; p++) {
        if (*p == ' ' || *p == '\t') {
            gap = 1;
            continue;
        }
        if (gap && o > out) *o++ = '_';
        gap = 0;
        *o++ = *p;
    }
    *o = 0;
    return out;
}

int tc_keyterms_add(tc_keyterms *k, int c, const char *term) {
    char *canon = canonical_term(term);
    if (!canon) return -1;
    if (!canon[0] || !tct_utf8_valid(canon, strlen(canon))) {
        free(canon);
        return 0;
    }
    if (tc_unprintable(canon)) {  // the one rule of names (tc_taxonomy_set_terms), here with the line
        char shown[256];
        tc_fail("key term '%s' has a control character in it", tc_escape(shown, sizeof shown, canon));
        free(canon);
        return -1;
    }
    size_t len = strlen(canon);
    char *key = tc_malloc(len + 16);
    if (!key) {
        free(canon);
        return -1;
    }
    int key_len = snprintf(key, len + 16, "%d\t%s", c, canon), added;
    int64_t id = tc_strindex_add(&k->seen, key, (size_t)key_len, &added);
    free(key);
    if (id < 0 || !added) {
        free(canon);
        return id < 0 ? -1 : 0;
    }
    if (k->n == k->cap) {
        int cap = k->cap ? k->cap * 2 : 256;
        char **terms = tc_realloc(k->terms, (size_t)cap * sizeof *terms);
        if (!terms) return free(canon), -1;
        k->terms = terms;
        int32_t *classes = tc_realloc(k->classes, (size_t)cap * sizeof *classes);
        if (!classes) return free(canon), -1;
        k->classes = classes;
        k->cap = cap;
    }
    k->terms[k->n] = canon;
    k->classes[k->n++] = c;
    return 1;
}

// Lower case, with spaces, hyphens and underscores all as '_'.
static void loose_form(const char *s, char *out, size_t size) {
    size_t o = 0;
    for (; *s && o + 1 < size; s++) {
        unsigned char ch = (unsigned char)*s;
        out[o++] = ch == ' ' || ch == '-' ? '_' : (char)tolower(ch);
    }
    out[o] = 0;
}

int tc_keyterms_find_class(const tc_taxonomy *t, const char *name) {
    int c = tc_taxonomy_find(t, name);
    if (c >= 0) return c;
    char want[1024], have[1024];
    loose_form(name, want, sizeof want);
    int found = -1;
    for (int i = 0; i < t->n_classes; i++) {
        loose_form(t->names[i], have, sizeof have);
        if (strcmp(want, have)) continue;
        if (found >= 0) return -2;
        found = i;
    }
    return found;
}

int tc_keyterms_read(tc_keyterms *k, const tc_taxonomy *t, const char *path, int *added) {
    FILE *f = tc_input_open(path);
    if (!f) return -1;
    char *line = NULL;
    size_t cap = 0;
    long n, line_no = 0;
    int rc = 0;
    *added = 0;
    while (rc == 0 && (n = tc_read_text_line(f, &line, &cap, &line_no)) >= 0) {
        char *s = line;
        while (*s == ' ') s++;
        if (!*s) continue;
        char *colon = strchr(s, ':');
        if (!colon) {
            rc = tc_fail("%s: line %ld: expected 'class name:term,term,...'", path, line_no);
            break;
        }
        *colon = 0;
        char *name = canonical_term(s);  // trimmed; inner spaces matched loosely
        if (!name) {
            rc = -1;
            break;
        }
        int c = tc_keyterms_find_class(t, name);
        if (c == -1) rc = tc_fail("%s: line %ld: unknown class '%s'", path, line_no, name);
        else if (c == -2) rc = tc_fail("%s: line %ld: class '%s' matches several classes", path, line_no, name);
        free(name);
        char *save = NULL;
        for (char *term = strtok_r(colon + 1, ",", &save); rc == 0 && term; term = strtok_r(NULL, ",", &save)) {
            int r = tc_keyterms_add(k, c, term);
            if (r < 0) rc = tc_fail_context("%s: line %ld", path, line_no);
            else *added += r;
        }
    }
    if (rc == 0 && n == -2) rc = tc_fail_context("%s: line %ld", path, line_no + 1);
    free(line);
    tc_input_close(f);
    return rc;
}

int tc_keyterms_finish(tc_keyterms *k, tc_taxonomy *t) {
    // stable counting sort by class
    int64_t *start = tc_calloc((size_t)t->n_classes + 1, sizeof *start);
    const char **terms = tc_malloc_array((size_t)(k->n ? k->n : 1), sizeof *terms);
    int32_t *classes = tc_malloc_array((size_t)(k->n ? k->n : 1), sizeof *classes);
    int rc = start && terms && classes ? 0 : -1;
    if (rc == 0) {
        for (int i = 0; i < k->n; i++) start[k->classes[i] + 1]++;
        for (int c = 0; c < t->n_classes; c++) start[c + 1] += start[c];
        for (int i = 0; i < k->n; i++) {
            int64_t at = start[k->classes[i]]++;
            terms[at] = k->terms[i];
            classes[at] = k->classes[i];
        }
        rc = tc_taxonomy_set_terms(t, k->n, terms, classes);
    }
    free(start);
    free(terms);
    free(classes);
    tc_keyterms_free(k);
    return rc;
}

int tc_keyterms_write_text(const tc_taxonomy *t, FILE *f) {
    for (int c = 0; c < t->n_classes; c++) {
        fprintf(f, "%s:", t->names[c]);
        // terms are grouped by class, but a file made elsewhere may not be: scan
        for (int k = 0, first = 1; k < t->n_terms; k++)
            if (t->term_class[k] == c) {
                fprintf(f, "%s%s", first ? "" : ",", t->terms[k]);
                first = 0;
            }
        fputc('\n', f);
    }
    return ferror(f) ? tc_fail("write failed: %s", strerror(errno)) : 0;
}

char *tc_keyterms_display(const char *s) {
    char *d = strdup(s);
    if (!d) {
        tc_fail("out of memory");
        return NULL;
    }
    for (char *p = d; *p; p++)
        if (*p == '_') *p = ' ';
    return d;
}

static void write_text_line(FILE *f, char kind, int64_t id, const char *s) {
    fprintf(f, "%c%" PRId64 "\t", kind, id);
    for (; *s; s++) fputc(*s == '_' || *s == '\t' || *s == '\n' ? ' ' : *s, f);
    fputc('\n', f);
}

int tc_keyterms_write_texts(const tc_taxonomy *t, FILE *f, int names_only) {
    for (int c = 0; c < t->n_classes; c++) {
        write_text_line(f, 'c', c, t->names[c]);
        for (int k = 0; !names_only && k < t->n_terms; k++)
            if (t->term_class[k] == c) write_text_line(f, 't', k, t->terms[k]);
    }
    return ferror(f) ? tc_fail("write failed: %s", strerror(errno)) : 0;
}

// ---------------------------------------------------------------- embeddings

// Row of the output for an embeddings id ("c12", "t40"), or -1.
static int64_t output_row(const char *id, const int64_t *class_row, const int64_t *term_row, int n_classes,
                          int n_terms) {
    if (id[0] != 'c' && id[0] != 't') return -1;
    char *end;
    errno = 0;
    long long v = strtoll(id + 1, &end, 10);
    if (errno || end == id + 1 || *end || v < 0) return -1;
    if (id[0] == 'c') return v < n_classes ? class_row[v] : -1;
    return v < n_terms ? term_row[v] : -1;
}

typedef struct {
    int64_t *class_row, *term_row;  // output row of class c's name / of term k
    int32_t *class_of_row;
    int64_t *offsets;
    char **texts;
    float *rows;
    uint8_t *filled;
    int64_t m;
    uint64_t dim;
} gather_plan;

static void plan_free(gather_plan *p) {
    free(p->class_row);
    free(p->term_row);
    free(p->class_of_row);
    free(p->offsets);
    for (int64_t i = 0; p->texts && i < p->m; i++) free(p->texts[i]);
    free(p->texts);
    free(p->rows);
    free(p->filled);
}

// Lays out the output rows: per class, its name then its terms.
static int plan_rows(gather_plan *p, const tc_taxonomy *t) {
    memset(p, 0, sizeof *p);
    p->m = t->n_classes + t->n_terms;
    p->class_row = tc_malloc_array((size_t)t->n_classes, sizeof *p->class_row);
    p->term_row = tc_malloc_array((size_t)(t->n_terms ? t->n_terms : 1), sizeof *p->term_row);
    p->class_of_row = tc_malloc_array((size_t)p->m, sizeof *p->class_of_row);
    p->offsets = tc_malloc_array((size_t)t->n_classes + 1, sizeof *p->offsets);
    p->texts = tc_calloc((size_t)p->m, sizeof *p->texts);
    p->filled = tc_calloc((size_t)p->m, 1);
    if (!p->class_row || !p->term_row || !p->class_of_row || !p->offsets || !p->texts || !p->filled) return -1;
    int64_t row = 0;
    for (int c = 0; c < t->n_classes; c++) {
        p->offsets[c] = row;
        p->class_row[c] = row;
        p->class_of_row[row] = c;
        if (!(p->texts[row++] = tc_keyterms_display(t->names[c]))) return -1;
        for (int k = 0; k < t->n_terms; k++)
            if (t->term_class[k] == c) {
                p->term_row[k] = row;
                p->class_of_row[row] = c;
                if (!(p->texts[row++] = tc_keyterms_display(t->terms[k]))) return -1;
            }
    }
    p->offsets[t->n_classes] = row;
    return 0;
}

static int read_rows(gather_plan *p, const tc_taxonomy *t, const char *path) {
    tc_embedding_stream in;
    if (tc_embedding_stream_open(&in, path)) return -1;
    char *const *ids;
    const float *x;
    int64_t got;
    int rc = 0;
    while (rc == 0 && (got = tc_embedding_stream_next(&in, 4096, &ids, &x)) > 0) {
        if (!p->rows) {
            p->dim = (uint64_t)in.d;
            if (!(p->rows = tc_malloc_array((size_t)p->m, (size_t)p->dim * sizeof *p->rows))) rc = -1;
        }
        for (int64_t i = 0; rc == 0 && i < got; i++) {
            int64_t row = output_row(ids[i], p->class_row, p->term_row, t->n_classes, t->n_terms);
            if (row < 0) continue;
            memcpy(p->rows + (uint64_t)row * p->dim, x + (uint64_t)i * p->dim, p->dim * sizeof *p->rows);
            p->filled[row] = 1;
        }
    }
    if (rc == 0 && got < 0) rc = -1;
    tc_embedding_stream_close(&in);
    return rc;
}

int tc_keyterms_gather_embeddings(const tc_taxonomy *t, const char *path, tct_writer *w, int64_t *rows_written) {
    gather_plan p;
    int rc = plan_rows(&p, t);
    const char *where = strcmp(path, "-") ? path : "(stdin)";
    if (rc == 0) rc = read_rows(&p, t, path);
    if (rc == 0 && !p.rows) rc = tc_fail("%s: no embeddings", where);
    for (int64_t row = 0; rc == 0 && row < p.m; row++)
        if (!p.filled[row]) {
            int c = p.class_of_row[row];
            rc = row == p.class_row[c]
                     ? tc_fail("%s: no embedding of class '%s' (id c%d)", where, t->names[c], c)
                     : tc_fail("%s: no embedding of key term '%s' of class '%s'", where, p.texts[row], t->names[c]);
        }
    if (rc == 0) {
        uint64_t m = (uint64_t)p.m, c1 = (uint64_t)t->n_classes + 1, dims[2] = {m, p.dim};
        rc = tct_writer_tensor(w, "class_of_row", TCT_I32, 1, &m, p.class_of_row, NULL, 0) ||
                     tct_writer_tensor(w, "row_offsets", TCT_I64, 1, &c1, p.offsets, NULL, 0) ||
                     tct_writer_string_tensor(w, "row_texts", (const char *const *)p.texts, m, NULL, 0) ||
                     tct_writer_tensor(w, "embeddings", TCT_F32, 2, dims, p.rows, NULL, 0)
                 ? -1
                 : 0;
        *rows_written = p.m;
    }
    plan_free(&p);
    return rc;
}
