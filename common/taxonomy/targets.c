#include "common/taxonomy/targets.h"
#include "common/error.h"
#include "common/strindex.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    tc_labels *out;
    uint64_t doc_cap, pos_cap, mask_cap;
    uint8_t *positive, *masked;  // [n_classes] scratch
} target_builder;

static int grow(void *pp, uint64_t *cap, uint64_t need, size_t item) {
    if (need <= *cap) return 0;
    uint64_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    void *q = tc_realloc(*(void **)pp, (size_t)c * item);
    if (!q) return -1;
    *(void **)pp = q;
    *cap = c;
    return 0;
}

// Appends the classes marked in `mark` (in id order) to a CSR row.
static int append_marked(const uint8_t *mark, int n, int32_t **classes, uint64_t *cap, int64_t *offsets, uint64_t row) {
    int64_t at = offsets[row];
    int count = 0;
    for (int c = 0; c < n; c++) count += mark[c];
    if (grow(classes, cap, (uint64_t)at + (uint64_t)count, sizeof **classes)) return -1;
    for (int c = 0; c < n; c++)
        if (mark[c]) (*classes)[at++] = c;
    offsets[row + 1] = at;
    return 0;
}

// Room for `need` documents: ids and weights [need], offsets [need + 1].
static int reserve_docs(target_builder *b, uint64_t need) {
    if (need <= b->doc_cap) return 0;
    uint64_t cap = b->doc_cap ? b->doc_cap : 1024;
    while (cap < need) cap *= 2;
    tc_labels *o = b->out;
    char **ids = tc_realloc(o->doc_ids, (size_t)cap * sizeof *ids);
    if (!ids) return -1;
    o->doc_ids = ids;
    float *w = tc_realloc(o->doc_weights, (size_t)cap * sizeof *w);
    if (!w) return -1;
    o->doc_weights = w;
    int64_t *off = tc_realloc(o->offsets, (size_t)(cap + 1) * sizeof *off);
    if (!off) return -1;
    o->offsets = off;
    int64_t *moff = tc_realloc(o->mask_offsets, (size_t)(cap + 1) * sizeof *moff);
    if (!moff) return -1;
    o->mask_offsets = moff;
    b->doc_cap = cap;
    return 0;
}

static int add_document(target_builder *b, const tc_taxonomy *t, const char *id, const int32_t *classes, int64_t n,
                        int with_mask, float weight) {
    tc_labels *o = b->out;
    uint64_t row = o->n_docs;
    if (reserve_docs(b, row + 1)) return -1;
    int nc = t->n_classes;
    memset(b->positive, 0, (size_t)nc);
    memset(b->masked, 0, (size_t)nc);
    for (int64_t k = 0; k < n; k++) {
        b->positive[classes[k]] = 1;
        tc_taxonomy_mark_ancestors(t, classes[k], b->positive);
    }
    if (with_mask) {
        for (int64_t k = 0; k < n; k++) tc_taxonomy_mark_descendants(t, classes[k], b->masked);
        for (int c = 0; c < nc; c++)
            if (b->positive[c]) b->masked[c] = 0;
    }
    if (!(o->doc_ids[row] = strdup(id))) return tc_fail("out of memory");
    o->n_docs = row + 1;  // from here on the id is owned by the output
    if (append_marked(b->positive, nc, &o->classes, &b->pos_cap, o->offsets, row) ||
        append_marked(b->masked, nc, &o->mask_classes, &b->mask_cap, o->mask_offsets, row))
        return -1;
    o->doc_weights[row] = weight;
    return 0;
}

static uint64_t non_empty(const tc_labels *l) {
    uint64_t n = 0;
    for (uint64_t i = 0; i < l->n_docs; i++) n += l->offsets[i + 1] > l->offsets[i];
    return n;
}

static int add_all(target_builder *b, const tc_taxonomy *t, const tc_labels *in, int with_mask, float weight,
                   tc_strindex *ids, const char *what) {
    for (uint64_t i = 0; i < in->n_docs; i++) {
        int64_t start = in->offsets[i], n = in->offsets[i + 1] - start;
        if (!n) continue;
        for (int64_t k = 0; k < n; k++)
            if (in->classes[start + k] < 0 || in->classes[start + k] >= t->n_classes)
                return tc_fail("%s document '%s': class id %d is not in the taxonomy", what, in->doc_ids[i],
                               (int)in->classes[start + k]);
        int added;
        if (tc_strindex_add(ids, in->doc_ids[i], strlen(in->doc_ids[i]), &added) < 0) return -1;
        if (!added) return tc_fail("document id '%s' appears twice (%s documents)", in->doc_ids[i], what);
        if (add_document(b, t, in->doc_ids[i], in->classes + start, n, with_mask, weight)) return -1;
    }
    return 0;
}

int64_t tc_labels_keep_deepest(tc_labels *l, const tc_taxonomy *t) {
    uint8_t *below = tc_calloc((size_t)t->n_classes + 1, 1);
    int32_t *set = tc_malloc_array((size_t)t->n_classes + 1, sizeof *set);  // a document's classes, as read
    if (!below || !set) return free(below), free(set), -1;
    int64_t kept = 0, dropped = 0, start = 0;
    for (uint64_t d = 0; d < l->n_docs; d++) {
        int64_t end = l->offsets[d + 1], n = end - start;
        if (n > t->n_classes) n = t->n_classes;  // ids are checked: a longer set repeats a class
        memcpy(set, l->classes + start, (size_t)n * sizeof *set);
        for (int64_t k = start; k < end; k++) {
            memset(below, 0, (size_t)t->n_classes);
            tc_taxonomy_mark_descendants(t, l->classes[k], below);
            int has_descendant = 0;
            for (int64_t j = 0; j < n && !has_descendant; j++) has_descendant = below[set[j]];
            if (has_descendant) {
                dropped++;
                continue;
            }
            l->classes[kept] = l->classes[k];
            if (l->scores) l->scores[kept] = l->scores[k];
            if (l->core) l->core[kept] = l->core[k];
            kept++;
        }
        start = end;
        l->offsets[d + 1] = kept;
    }
    free(below), free(set);
    return dropped;
}

int tc_targets_build(const tc_taxonomy *t, const tc_labels *core, const tc_labels *aug, double aug_weight,
                     tc_labels *out, tc_targets_summary *s) {
    memset(out, 0, sizeof *out);
    memset(s, 0, sizeof *s);
    target_builder b = {.out = out};
    tc_strindex ids;
    if (tc_strindex_init(&ids)) return -1;
    b.positive = tc_malloc((size_t)t->n_classes);
    b.masked = tc_malloc((size_t)t->n_classes);
    out->offsets = tc_calloc(1, sizeof *out->offsets);
    out->mask_offsets = tc_calloc(1, sizeof *out->mask_offsets);
    int rc = b.positive && b.masked && out->offsets && out->mask_offsets ? 0 : -1;
    s->core_docs = non_empty(core);
    s->core_empty = core->n_docs - s->core_docs;
    if (aug) {
        s->augmented_docs = non_empty(aug);
        s->augmented_empty = aug->n_docs - s->augmented_docs;
        s->augmented_weight = aug_weight >= 0 ? (float)aug_weight
                              : s->augmented_docs ? (float)((double)s->core_docs / (double)s->augmented_docs) : 0.0f;
    }
    if (rc == 0 && !s->core_docs) rc = tc_fail("no core document has a class");
    if (rc == 0) rc = add_all(&b, t, core, 1, 1.0f, &ids, "core");
    if (rc == 0 && aug) rc = add_all(&b, t, aug, 0, s->augmented_weight, &ids, "augmented");
    // keep valid pointers for empty arrays
    if (rc == 0 && !out->classes && !(out->classes = tc_calloc(1, sizeof *out->classes))) rc = -1;
    if (rc == 0 && !out->mask_classes && !(out->mask_classes = tc_calloc(1, sizeof *out->mask_classes))) rc = -1;
    free(b.positive);
    free(b.masked);
    tc_strindex_free(&ids);
    if (rc) tc_labels_free(out);
    return rc;
}
