#include "common/refine/annotate.h"
#include "common/error.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void tc_candidates_free(tc_candidates *c) {
    free(c->classes), free(c->cosine), free(c->path_score);
    memset(c, 0, sizeof *c);
}

static int candidates_reserve(tc_candidates *c, int n) {
    if (n <= c->cap) return 0;
    int cap = c->cap ? c->cap : 16;
    while (cap < n) cap *= 2;
    int32_t *classes = tc_realloc(c->classes, (size_t)cap * sizeof *classes);
    if (!classes) return -1;
    c->classes = classes;
    float *cosine = tc_realloc(c->cosine, (size_t)cap * sizeof *cosine);
    if (!cosine) return -1;
    c->cosine = cosine;
    double *path = tc_realloc(c->path_score, (size_t)cap * sizeof *path);
    if (!path) return -1;
    c->path_score = path;
    c->cap = cap;
    return 0;
}

// ---------------------------------------------------------------- similarity

int tc_class_similarity_parse(const char *name, tc_class_similarity *out) {
    if (!strcmp(name, "subtree")) *out = TC_SIMILARITY_SUBTREE;
    else if (!strcmp(name, "own")) *out = TC_SIMILARITY_OWN;
    else return tc_fail("'%s' is not subtree or own", name);
    return 0;
}

void tc_subtree_max(const tc_taxonomy *t, const int32_t *bottom_up, float *cosine) {
    for (int i = 0; i < t->n_classes; i++) {
        int32_t c = bottom_up[i];
        for (int32_t k = t->child_offsets[c]; k < t->child_offsets[c + 1]; k++)
            if (cosine[t->children[k]] > cosine[c]) cosine[c] = cosine[t->children[k]];
    }
}

// ---------------------------------------------------------------- search

typedef struct {
    double key;
    int32_t position;  // ties keep this order: a stable sort, as Python's
    int32_t cls;
} ranked;

struct tc_search {
    const tc_taxonomy *t;
    double *similarity;     // [C] exp(max cosine)
    double *path_score;     // [C] 0 until scored, as the reference's fresh copy
    uint8_t *processed;     // [C] children already sorted once
    int32_t *candidate_at;  // [C] index in the candidate list, or -1
    ranked *buf;            // sort scratch
    int32_t *queue, *next;
    size_t cap;             // of buf, queue and next
};

int tc_search_create(tc_search **out, const tc_taxonomy *t) {
    *out = NULL;
    tc_search *s = tc_calloc(1, sizeof *s);
    if (!s) return -1;
    size_t c = (size_t)t->n_classes + 1;
    s->t = t;
    s->similarity = tc_calloc(c, sizeof *s->similarity);
    s->path_score = tc_calloc(c, sizeof *s->path_score);
    s->processed = tc_calloc(c, 1);
    s->candidate_at = tc_calloc(c, sizeof *s->candidate_at);
    if (!s->similarity || !s->path_score || !s->processed || !s->candidate_at) return tc_search_free(s), -1;
    *out = s;
    return 0;
}

void tc_search_free(tc_search *s) {
    if (!s) return;
    free(s->similarity), free(s->path_score), free(s->processed), free(s->candidate_at);
    free(s->buf), free(s->queue), free(s->next);
    free(s);
}

static int reserve(tc_search *s, size_t n) {
    if (n <= s->cap) return 0;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < n) cap *= 2;
    ranked *buf = tc_realloc(s->buf, cap * sizeof *buf);
    if (!buf) return -1;
    s->buf = buf;
    int32_t *q = tc_realloc(s->queue, cap * sizeof *q);
    if (!q) return -1;
    s->queue = q;
    int32_t *nx = tc_realloc(s->next, cap * sizeof *nx);
    if (!nx) return -1;
    s->next = nx;
    s->cap = cap;
    return 0;
}

static int by_key_descending(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->key != y->key) return x->key > y->key ? -1 : 1;
    return (x->position > y->position) - (x->position < y->position);
}

static double best_parent_score(const tc_taxonomy *t, const double *path_score, int32_t c) {
    int32_t lo = t->parent_offsets[c], hi = t->parent_offsets[c + 1];
    if (lo == hi) return 1.0;  // a top-level class: its parent is the root
    double best = 0;
    for (int32_t k = lo; k < hi; k++)
        if (path_score[t->parents[k]] > best) best = path_score[t->parents[k]];
    return best;
}

// Scores the children of `node` (-1: the root above the top-level classes)
// and appends the `keep` most similar to next[*n_next].
static int expand(tc_search *s, int32_t node, const float *cosine, int keep, size_t *n_next) {
    const tc_taxonomy *t = s->t;
    const int32_t *children = node < 0 ? t->roots : t->children + t->child_offsets[node];
    int n = node < 0 ? t->n_roots : t->child_offsets[node + 1] - t->child_offsets[node];
    if (n == 0) return 0;
    if (reserve(s, *n_next + (size_t)n + 1)) return -1;
    ranked *order = s->buf;
    for (int i = 0; i < n; i++) order[i] = (ranked){0, i, children[i]};
    // The reference sorts a class's children in place: a class expanded a
    // second time walks them in that sorted order.
    int sorted_before = node >= 0 && s->processed[node];
    for (int i = 0; i < n; i++) {
        s->similarity[children[i]] = exp((double)cosine[children[i]]);
        order[i].key = s->similarity[children[i]];
    }
    if (sorted_before) qsort(order, (size_t)n, sizeof *order, by_key_descending);
    for (int i = 0; i < n; i++) {
        int32_t c = order[i].cls;
        s->path_score[c] = s->similarity[c] * best_parent_score(t, s->path_score, c);
    }
    for (int i = 0; i < n; i++) order[i].position = i;
    qsort(order, (size_t)n, sizeof *order, by_key_descending);
    if (node >= 0) s->processed[node] = 1;
    for (int i = 0; i < n && i < keep; i++) s->next[(*n_next)++] = order[i].cls;
    return 0;
}

static int record(tc_search *s, tc_candidates *out, int32_t c, const float *cosine) {
    if (s->candidate_at[c] >= 0) return 0;
    if (candidates_reserve(out, out->n + 1)) return -1;
    s->candidate_at[c] = out->n;
    out->classes[out->n] = c;
    out->cosine[out->n] = cosine[c];
    out->path_score[out->n] = s->path_score[c];
    out->n++;
    return 0;
}

int tc_search_run(tc_search *s, const float *cosine, tc_candidates *out) {
    const tc_taxonomy *t = s->t;
    size_t C = (size_t)t->n_classes;
    memset(s->similarity, 0, C * sizeof *s->similarity);
    memset(s->path_score, 0, C * sizeof *s->path_score);
    memset(s->processed, 0, C);
    for (size_t c = 0; c < C; c++) s->candidate_at[c] = -1;
    out->n = 0;
    if (reserve(s, 64)) return -1;
    size_t n_queue = 1, n_next;
    s->queue[0] = -1;
    for (int level = 0; n_queue > 0; level++) {
        n_next = 0;
        for (size_t q = 0; q < n_queue; q++)
            if (expand(s, s->queue[q], cosine, level + 3, &n_next)) return -1;
        if (level > 0 && n_next > 0) {
            ranked *order = s->buf;
            if (reserve(s, n_next)) return -1;
            order = s->buf;
            for (size_t i = 0; i < n_next; i++) order[i] = (ranked){s->path_score[s->next[i]], (int32_t)i, s->next[i]};
            qsort(order, n_next, sizeof *order, by_key_descending);
            size_t keep = (size_t)(level + 2) * (size_t)(level + 2);
            if (n_next > keep) n_next = keep;
            for (size_t i = 0; i < n_next; i++) s->next[i] = order[i].cls;
        }
        int32_t *swap = s->queue;
        s->queue = s->next, s->next = swap;
        n_queue = n_next;
        for (size_t q = 0; q < n_queue; q++)
            if (record(s, out, s->queue[q], cosine)) return -1;
    }
    // the path scores a candidate ends the search with (as the reference's
    // nodes hold them)
    for (int i = 0; i < out->n; i++) out->path_score[i] = s->path_score[out->classes[i]];
    return 0;
}

// ---------------------------------------------------------------- core classes

int tc_core_rule_parse(const char *name, tc_core_rule *rule) {
    if (!strcmp(name, "gap")) *rule = TC_CORE_GAP;
    else if (!strcmp(name, "path")) *rule = TC_CORE_PATH;
    else if (!strcmp(name, "top")) *rule = TC_CORE_TOP;
    else return tc_fail("unknown core-class rule '%s' (gap, path or top)", name);
    return 0;
}

static int by_cosine(const void *a, const void *b) { return by_key_descending(a, b); }

static int select_gap(const tc_taxonomy *t, const tc_candidates *cand, int32_t *core, uint8_t *mark) {
    int n = cand->n;
    ranked *order = tc_malloc_array((size_t)n, sizeof *order);
    if (!order) return -1;
    for (int i = 0; i < n; i++) order[i] = (ranked){cand->cosine[i], i, cand->classes[i]};
    qsort(order, (size_t)n, sizeof *order, by_cosine);
    int above = 1, top = n < TC_CORE_GAP_TOP ? n : TC_CORE_GAP_TOP;
    double widest = -1;
    for (int i = 0; i + 1 < top; i++)
        if (order[i].key - order[i + 1].key > widest) widest = order[i].key - order[i + 1].key, above = i + 1;
    for (int i = 0; i < above; i++) tc_taxonomy_mark_ancestors(t, order[i].cls, mark);
    int k = 0;
    for (int i = 0; i < above; i++)
        if (!mark[order[i].cls]) core[k++] = order[i].cls;
    memset(mark, 0, (size_t)t->n_classes);
    free(order);
    return k;
}

int tc_core_select(const tc_taxonomy *t, const tc_candidates *cand, tc_core_rule rule, int32_t *core, uint8_t *mark) {
    if (cand->n == 0) return 0;
    if (rule == TC_CORE_GAP) return select_gap(t, cand, core, mark);
    int best = 0;
    for (int i = 1; i < cand->n; i++) {
        double a = rule == TC_CORE_PATH ? cand->path_score[i] : cand->cosine[i];
        double b = rule == TC_CORE_PATH ? cand->path_score[best] : cand->cosine[best];
        if (a > b) best = i;
    }
    core[0] = cand->classes[best];
    return 1;
}

int tc_with_ancestors(const tc_taxonomy *t, const int32_t *core, int n_core, int32_t *out, uint8_t *is_core,
                      uint8_t *mark) {
    for (int i = 0; i < n_core; i++) tc_taxonomy_mark_ancestors(t, core[i], mark);
    int k = 0;
    for (int i = 0; i < n_core; i++) {
        if (mark[core[i]] == 2) continue;
        mark[core[i]] = 2;
        out[k] = core[i], is_core[k++] = 1;
    }
    for (int c = 0; c < t->n_classes; c++)
        if (mark[c] == 1) out[k] = c, is_core[k++] = 0;
    memset(mark, 0, (size_t)t->n_classes);
    return k;
}

// ---------------------------------------------------------------- LLM prompt and answer

const char *tc_annotate_prompt_template(const char *style) {
    // The review and encyclopedia texts are TELEClass's own (Amazon-531 and
    // DBPedia-298); generic says the same of any document.
    if (!style || !strcmp(style, "generic"))
        return "You will be provided with a document, and please select its classes from the following "
               "categories: {classes}. Just give the category names as shown in the provided list.";
    if (!strcmp(style, "review"))
        return "You will be provided with an Amazon product review, and please select its product types from the "
               "following categories: {classes}. Just give the category names as shown in the provided list.";
    if (!strcmp(style, "encyclopedia"))
        return "You will be provided with a Wikipedia article describing an entity at the beginning, and please "
               "select the entity types from the following categories: {classes}. Just give the category names as "
               "shown in the provided list.";
    return NULL;
}

char *tc_annotate_prompt(const char *template_text, const tc_taxonomy *t, const tc_candidates *cand) {
    size_t names = 1;
    for (int i = 0; i < cand->n; i++) names += strlen(t->names[cand->classes[i]]) + 2;
    char *list = tc_malloc(names);
    if (!list) return NULL;
    size_t at = 0;
    for (int i = 0; i < cand->n; i++) {
        const char *name = t->names[cand->classes[i]];
        if (i) list[at++] = ',', list[at++] = ' ';
        for (const char *p = name; *p; p++) list[at++] = *p == '_' ? ' ' : *p;
    }
    list[at] = 0;
    const char *slot = strstr(template_text, "{classes}");
    size_t size = strlen(template_text) + at + 1;
    char *text = tc_malloc(size);
    if (text) {
        if (slot) snprintf(text, size, "%.*s%s%s", (int)(slot - template_text), template_text, list, slot + 9);
        else snprintf(text, size, "%s", template_text);
    }
    free(list);
    return text;
}

// Lowercase, underscores and hyphens as spaces, single spaces, trimmed of
// bullets, quotes and final punctuation.
static void normalise_name(const char *s, size_t n, char *out, size_t size) {
    size_t at = 0;
    const char *colon = memchr(s, ':', n);  // "Categories: space" -> "space"
    if (colon) n -= (size_t)(colon + 1 - s), s = colon + 1;
    while (n > 0 && (isspace((unsigned char)*s) || strchr("-*\"'`[(", *s) || (unsigned char)*s >= 0x80))
        s++, n--;
    while (n > 0 && isdigit((unsigned char)*s)) {  // "1. space"
        size_t k = 0;
        while (k < n && isdigit((unsigned char)s[k])) k++;
        if (k < n && (s[k] == '.' || s[k] == ')')) s += k + 1, n -= k + 1;
        else break;
        while (n > 0 && isspace((unsigned char)*s)) s++, n--;
    }
    while (n > 0 && (isspace((unsigned char)s[n - 1]) || strchr(".\"'`])!", s[n - 1]))) n--;
    int space = 0;
    for (size_t i = 0; i < n && at + 1 < size; i++) {
        char c = s[i] == '_' || s[i] == '-' ? ' ' : (char)tolower((unsigned char)s[i]);
        if (isspace((unsigned char)c)) {
            space = at > 0;
            continue;
        }
        if (space && at + 2 < size) out[at++] = ' ';
        space = 0;
        out[at++] = c;
    }
    out[at] = 0;
}

int tc_annotate_parse_reply(const char *reply, const tc_taxonomy *t, const tc_candidates *cand, int32_t *core,
                            int *n_not_candidates) {
    *n_not_candidates = 0;
    int k = 0;
    const char *p = reply;
    while (*p) {
        size_t len = strcspn(p, ",;\n");
        char item[512], name[512];
        normalise_name(p, len, item, sizeof item);
        p += len + (p[len] != 0);
        if (!item[0]) continue;
        int found = -1;
        for (int i = 0; i < cand->n && found < 0; i++) {
            const char *cn = t->names[cand->classes[i]];
            normalise_name(cn, strlen(cn), name, sizeof name);
            if (!strcmp(name, item)) found = cand->classes[i];
        }
        if (found < 0) {
            (*n_not_candidates)++;
            continue;
        }
        int dup = 0;
        for (int i = 0; i < k; i++) dup |= core[i] == found;
        if (!dup) core[k++] = found;
    }
    return k;
}
