#include "common/refine/refine.h"
#include "common/error.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

struct tc_term_matcher {
    tc_match_mode mode;
    int n_classes;
    int32_t *offsets;     // [C+1] into terms
    char **terms;         // prepared for the mode
    size_t *lengths;
    char *text;           // the current document, prepared
    size_t text_len, text_cap;
};

int tc_match_mode_parse(const char *name, tc_match_mode *mode) {
    if (!strcmp(name, "word")) *mode = TC_MATCH_WORD;
    else if (!strcmp(name, "exact")) *mode = TC_MATCH_EXACT;
    else return tc_fail("unknown term match '%s' (word or exact)", name);
    return 0;
}

// WORD: case-folded, white space runs as one space, trimmed. Invalid UTF-8
// falls back to ASCII lowercasing so that a stray byte never loses a document.
static char *fold(const char *s, size_t *length) {
    utf8proc_uint8_t *folded = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, 0, &folded,
                                      UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_CASEFOLD);
    char *src = n >= 0 ? (char *)folded : strdup(s);
    if (!src) return NULL;
    if (n < 0)
        for (char *p = src; *p; p++) *p = (char)tolower((unsigned char)*p);
    size_t at = 0;
    int space = 0;
    for (const char *p = src; *p; p++) {
        if (isspace((unsigned char)*p)) {
            space = at > 0;
            continue;
        }
        if (space) src[at++] = ' ';
        space = 0;
        src[at++] = *p;
    }
    src[at] = 0;
    *length = at;
    return src;
}

static char *prepare_term(const char *term, tc_match_mode mode, size_t *length) {
    char *copy = strdup(term);
    if (!copy) return NULL;
    for (char *p = copy; *p; p++)
        if (*p == '_') *p = ' ';
    if (mode == TC_MATCH_EXACT) {
        *length = strlen(copy);
        return copy;
    }
    char *folded = fold(copy, length);
    free(copy);
    return folded;
}

int tc_term_matcher_create(tc_term_matcher **out, const tc_taxonomy *t, tc_match_mode mode, int names_as_terms) {
    *out = NULL;
    tc_term_matcher *m = tc_calloc(1, sizeof *m);
    if (!m) return -1;
    m->mode = mode;
    m->n_classes = t->n_classes;
    size_t total = (size_t)t->n_terms + (names_as_terms ? (size_t)t->n_classes : 0);
    m->offsets = tc_calloc((size_t)t->n_classes + 1, sizeof *m->offsets);
    m->terms = tc_calloc(total + 1, sizeof *m->terms);
    m->lengths = tc_calloc(total + 1, sizeof *m->lengths);
    if (!m->offsets || !m->terms || !m->lengths) goto fail;
    for (int i = 0; i < t->n_terms; i++) m->offsets[t->term_class[i] + 1]++;
    if (names_as_terms)
        for (int c = 0; c < t->n_classes; c++) m->offsets[c + 1]++;
    for (int c = 0; c < t->n_classes; c++) m->offsets[c + 1] += m->offsets[c];
    int32_t *fill = tc_calloc((size_t)t->n_classes, sizeof *fill);
    if (!fill) goto fail;
    int failed = 0;
    for (int c = 0; names_as_terms && c < t->n_classes && !failed; c++) {
        int32_t at = m->offsets[c] + fill[c]++;
        failed = !(m->terms[at] = prepare_term(t->names[c], mode, &m->lengths[at]));
    }
    for (int i = 0; i < t->n_terms && !failed; i++) {
        int c = t->term_class[i];
        int32_t at = m->offsets[c] + fill[c]++;
        failed = !(m->terms[at] = prepare_term(t->terms[i], mode, &m->lengths[at]));
    }
    free(fill);
    if (failed) {
        tc_fail("out of memory");
        goto fail;
    }
    *out = m;
    return 0;
fail:
    tc_term_matcher_free(m);
    return -1;
}

void tc_term_matcher_free(tc_term_matcher *m) {
    if (!m) return;
    if (m->terms && m->offsets)
        for (int32_t i = 0; i < m->offsets[m->n_classes]; i++) free(m->terms[i]);
    free(m->terms), free(m->lengths), free(m->offsets), free(m->text);
    free(m);
}

int tc_term_matcher_count(const tc_term_matcher *m, int c) { return m->offsets[c + 1] - m->offsets[c]; }

int tc_term_matcher_set_text(tc_term_matcher *m, const char *text) {
    free(m->text);
    m->text = NULL;
    if (m->mode == TC_MATCH_WORD) {
        m->text = fold(text, &m->text_len);
    } else {
        m->text = strdup(text);
        m->text_len = m->text ? strlen(m->text) : 0;
    }
    return m->text ? 0 : tc_fail("out of memory");
}

static int word_char(unsigned char c) { return isalnum(c) || c >= 0x80; }

static int bounded(const tc_term_matcher *m, size_t at, size_t len) {
    size_t end = at + len;
    if (m->mode == TC_MATCH_EXACT)
        return (at == 0 || m->text[at - 1] == ' ') && (end == m->text_len || m->text[end] == ' ');
    return (at == 0 || !word_char((unsigned char)m->text[at - 1])) &&
           (end == m->text_len || !word_char((unsigned char)m->text[end]));
}

int tc_term_matcher_has(const tc_term_matcher *m, int c) {
    if (!m->text) return 0;
    for (int32_t i = m->offsets[c]; i < m->offsets[c + 1]; i++) {
        size_t len = m->lengths[i];
        if (len == 0) continue;
        for (const char *p = m->text; (p = strstr(p, m->terms[i])); p++)
            if (bounded(m, (size_t)(p - m->text), len)) return 1;
    }
    return 0;
}

float tc_refine_confidence(const float *top, int k, int *n_keep) {
    *n_keep = 1;
    if (k < 2) return 0.0f;
    float widest = top[0] - top[1];
    for (int r = 1; r + 1 < k; r++)
        if (top[r] - top[r + 1] > widest) widest = top[r] - top[r + 1], *n_keep = r + 1;
    return widest;
}

static int by_value(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double tc_percentile(float *values, size_t n, double q) {
    if (n == 0) return NAN;
    qsort(values, n, sizeof *values, by_value);
    // numpy.percentile(float32 array, q) step by step, so that the documents
    // kept at the threshold are the reference's to the last bit: the index in
    // double, the interpolation in float (numpy's weak promotion of the
    // Python-float weight), from the upper end when the weight is >= 0.5.
    double quantile = q / 100.0;
    double virtual_index = (double)n * quantile + (1.0 + quantile * (1.0 - 1.0 - 1.0)) - 1.0;
    double below = floor(virtual_index);
    size_t lo = below < 0 ? 0 : (size_t)below;
    if (lo > n - 1) lo = n - 1;
    size_t hi = lo + 1 < n ? lo + 1 : n - 1;
    double gamma = virtual_index - below;
    float a = values[lo], b = values[hi], diff = b - a;
    if (gamma >= 0.5) {
        float part = diff * (float)(1.0 - gamma);
        return (float)(b - part);
    }
    float part = diff * (float)gamma;
    return (float)(a + part);
}
