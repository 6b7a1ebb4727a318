// Loading and joining training data; epoch orders and step shares.
#include "common/train/train_data.h"
#include "common/error.h"
#include "common/fingerprint.h"
#include "common/cli/io.h"
#include "common/taxonomy/labels.h"
#include "common/rng.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void tc_train_set_free(tc_train_set *s) {
    if (!s) return;
    for (uint64_t i = 0; s->doc_ids && i < s->n_docs; i++) free(s->doc_ids[i]);
    free(s->doc_ids);
    free(s->tok_offsets);
    free(s->tokens);
    free(s->pos_offsets);
    free(s->pos_classes);
    free(s->mask_offsets);
    free(s->mask_classes);
    free(s->weights);
    for (size_t i = 0; i < s->n_token_attrs; i++) {
        free((char *)s->token_attrs[i].key);
        free((char *)s->token_attrs[i].value);
    }
    free(s->token_attrs);
    memset(s, 0, sizeof *s);
}

// ---------------------------------------------------------------- doc id index

// Open addressing over the targets' document ids.
typedef struct {
    uint64_t cap;     // power of two
    int64_t *slot;    // target row, or -1
} id_index;

static uint64_t hash_id(const char *s) { return tc_fnv1a64(s, strlen(s), TC_FNV1A64_INIT); }

static int index_build(id_index *ix, char *const *ids, uint64_t n, const char *where) {
    ix->cap = 16;
    while (ix->cap < 2 * n) ix->cap *= 2;
    ix->slot = tc_malloc_array(ix->cap, sizeof *ix->slot);
    if (!ix->slot) return -1;
    for (uint64_t i = 0; i < ix->cap; i++) ix->slot[i] = -1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t h = hash_id(ids[i]) & (ix->cap - 1);
        while (ix->slot[h] >= 0) {
            if (!strcmp(ids[ix->slot[h]], ids[i])) {
                int64_t first = ix->slot[h];
                free(ix->slot);
                ix->slot = NULL;
                return tc_fail("%s: document id '%s' appears twice (rows %" PRId64 " and %" PRIu64 ")", where, ids[i],
                               first, i);
            }
            h = (h + 1) & (ix->cap - 1);
        }
        ix->slot[h] = (int64_t)i;
    }
    return 0;
}

static int64_t index_find(const id_index *ix, char *const *ids, const char *id) {
    uint64_t h = hash_id(id) & (ix->cap - 1);
    while (ix->slot[h] >= 0) {
        if (!strcmp(ids[ix->slot[h]], id)) return ix->slot[h];
        h = (h + 1) & (ix->cap - 1);
    }
    return -1;
}

// ---------------------------------------------------------------- growing arrays

typedef struct {
    void *p;
    size_t len, cap, item;
} grow_array;

static int grow_push(grow_array *a, const void *items, size_t n) {
    if (n == 0) return 0;
    if (a->len + n > a->cap) {
        size_t cap = a->cap ? a->cap : 256;
        while (cap < a->len + n) cap *= 2;
        void *q = tc_realloc(a->p, cap * a->item);
        if (!q) return -1;
        a->p = q;
        a->cap = cap;
    }
    memcpy((char *)a->p + a->len * a->item, items, n * a->item);
    a->len += n;
    return 0;
}

// ---------------------------------------------------------------- joining

typedef struct {
    tc_train_set *s;
    const tc_labels *targets;
    const id_index *index;
    uint8_t *used;          // [targets->n_docs]
    grow_array ids, tok_off, tok, pos_off, pos, mask_off, mask, weights;
    const tc_train_load_options *o;
    const char *where;
    uint64_t row;           // tokens row being read
    uint64_t hash;
} join_state;

static int copy_attrs(tc_train_set *s, const tct_tensor_info *t) {
    if (s->token_attrs || !t->n_attrs) return 0;
    s->token_attrs = tc_calloc(t->n_attrs, sizeof *s->token_attrs);
    if (!s->token_attrs) return -1;
    for (size_t i = 0; i < t->n_attrs; i++) {
        s->token_attrs[i].key = strdup(t->attrs[i].key);
        s->token_attrs[i].value = strdup(t->attrs[i].value);
        s->n_token_attrs++;
        if (!s->token_attrs[i].key || !s->token_attrs[i].value) return tc_fail("out of memory");
    }
    return 0;
}

// Appends a CSR row of classes (target row r) to offsets/classes.
static int push_csr(grow_array *off, grow_array *cls, const int64_t *offsets, const int32_t *classes, int64_t r) {
    if (!offsets) {
        int64_t end = off->len ? ((int64_t *)off->p)[off->len - 1] : 0;
        return grow_push(off, &end, 1);
    }
    int64_t n = offsets[r + 1] - offsets[r];
    if (grow_push(cls, classes + offsets[r], (size_t)n)) return -1;
    int64_t end = (int64_t)cls->len;
    return grow_push(off, &end, 1);
}

// One tokens row: checked, truncated, joined to its targets.
static int join_row(join_state *j, const char *id, const int32_t *ids, int32_t len, uint64_t width) {
    const tc_train_load_options *o = j->o;
    if (len < 1 || (uint64_t)len > width)
        return tc_fail("%s: row %" PRIu64 " ('%s'): length %" PRId32 " outside 1..%" PRIu64, j->where, j->row, id, len,
                       width);
    for (int32_t t = 0; t < len; t++)
        if (ids[t] < 0 || ids[t] >= o->vocab_size)
            return tc_fail("%s: row %" PRIu64 " ('%s'), token %" PRId32 ": id %" PRId32
                           " outside the model's vocabulary (0..%d)",
                           j->where, j->row, id, t, ids[t], o->vocab_size - 1);
    int64_t r = j->targets ? index_find(j->index, j->targets->doc_ids, id) : -1;  // no targets: every row
    if (r < 0 && j->targets) {
        j->s->n_without_targets++;
        return 0;
    }
    if (j->targets) j->used[r] = 1;
    int keep = len > o->max_len ? o->max_len : len;
    char *copy = strdup(id);
    if (!copy) return tc_fail("out of memory");
    if (grow_push(&j->ids, &copy, 1) || grow_push(&j->tok, ids, (size_t)(keep - 1)) ||
        grow_push(&j->tok, ids + len - 1, 1))
        return -1;
    int64_t end = (int64_t)j->tok.len;
    const tc_labels *l = j->targets;
    float w = l && l->doc_weights ? l->doc_weights[r] : 1.0f;
    if (grow_push(&j->tok_off, &end, 1) || grow_push(&j->weights, &w, 1) ||
        push_csr(&j->pos_off, &j->pos, l ? l->offsets : NULL, l ? l->classes : NULL, r) ||
        push_csr(&j->mask_off, &j->mask, l ? l->mask_offsets : NULL, l ? l->mask_classes : NULL, r))
        return -1;
    if (keep > j->s->longest) j->s->longest = keep;
    return 0;
}

static int read_tokens(join_state *j, const char *path) {
    FILE *f = tc_input_open(path);
    if (!f) return -1;
    tct_reader *r = NULL;
    tct_table *t = NULL;
    static const char *names[3] = {"doc_ids", "input_ids", "lengths"};
    int rc = tct_reader_open(&r, f, path) || tct_table_open(&t, r, names, 3) ? -1 : 0;
    while (rc == 0) {
        tct_column col[3];
        int64_t n = tct_table_next(t, 4096, col);
        if (n <= 0) {
            rc = (int)n;
            break;
        }
        if (col[0].tensor->dtype != TCT_STR || col[1].tensor->dtype != TCT_I32 || col[1].tensor->rank != 2 ||
            col[2].tensor->dtype != TCT_I32) {
            rc = tc_fail("%s: expected doc_ids str[N], input_ids i32[N,L], lengths i32[N]", path);
            break;
        }
        if (copy_attrs(j->s, col[1].tensor)) rc = -1;
        uint64_t width = col[1].tensor->row_elements;
        for (int64_t i = 0; rc == 0 && i < n; i++, j->row++)
            rc = join_row(j, col[0].strings[i], (const int32_t *)col[1].data + (uint64_t)i * width,
                          ((const int32_t *)col[2].data)[i], width);
    }
    tct_table_close(t);
    tct_reader_close(r);
    tc_input_close(f);
    return rc;
}

static int load_targets(tc_labels *l, const char *path, int n_classes) {
    size_t n = strlen(path);
    if (n > 4 && !strcmp(path + n - 4, ".txt")) return tc_labels_read_text(l, path, n_classes);
    return tc_labels_load(l, path, n_classes);
}

// A document weight scales its loss: a negative one trains by gradient
// ascent on that document, a NaN or infinite one poisons every step it is
// in. Every row of the targets is checked, used or not.
static int check_weights(const tc_labels *l, const char *path) {
    for (uint64_t r = 0; l->doc_weights && r < l->n_docs; r++) {
        float w = l->doc_weights[r];
        if (!isfinite(w) || w < 0)
            return tc_fail("%s: row %" PRIu64 " ('%s'): doc_weights %g is not a finite weight >= 0", path, r,
                           l->doc_ids[r], (double)w);
    }
    return 0;
}

// Weights all 0 leave no loss to learn from: every step would be a no-op.
static int check_some_weight(const tc_train_set *s, const char *path) {
    for (uint64_t i = 0; i < s->n_docs; i++)
        if (s->weights[i] > 0) return 0;
    return tc_fail("%s: doc_weights are 0 for all %" PRIu64 " documents being trained on: nothing to learn from", path,
                   s->n_docs);
}

static uint64_t content_fingerprint(const tc_train_set *s) {
    uint64_t h = TC_FNV1A64_INIT;
    for (uint64_t i = 0; i < s->n_docs; i++) h = tc_fnv1a64(s->doc_ids[i], strlen(s->doc_ids[i]) + 1, h);
    uint64_t n = s->n_docs + 1;
    h = tc_fnv1a64(s->tok_offsets, n * 8, h);
    h = tc_fnv1a64(s->tokens, (size_t)s->tok_offsets[s->n_docs] * 4, h);
    h = tc_fnv1a64(s->pos_offsets, n * 8, h);
    h = tc_fnv1a64(s->pos_classes, (size_t)s->pos_offsets[s->n_docs] * 4, h);
    h = tc_fnv1a64(s->mask_offsets, n * 8, h);
    h = tc_fnv1a64(s->mask_classes, (size_t)s->mask_offsets[s->n_docs] * 4, h);
    return tc_fnv1a64(s->weights, s->n_docs * 4, h);
}

static void take_arrays(tc_train_set *s, join_state *j) {
    s->n_docs = j->ids.len;
    s->doc_ids = j->ids.p;
    s->tok_offsets = j->tok_off.p;
    s->tokens = j->tok.p;
    s->pos_offsets = j->pos_off.p;
    s->pos_classes = j->pos.p;
    s->mask_offsets = j->mask_off.p;
    s->mask_classes = j->mask.p;
    s->weights = j->weights.p;
}

int tc_train_set_load(tc_train_set *s, const char *tokens_path, const char *targets_path,
                      const tc_train_load_options *o) {
    memset(s, 0, sizeof *s);
    if (o->max_len < 2) return tc_fail("a maximum length of %d tokens leaves no room for [CLS] and [SEP]", o->max_len);
    tc_labels targets;
    if (load_targets(&targets, targets_path, o->n_classes)) return -1;
    id_index ix = {0};
    join_state j = {.s = s, .targets = &targets, .index = &ix, .o = o, .where = tokens_path};
    j.ids.item = sizeof(char *);
    j.tok_off.item = j.pos_off.item = j.mask_off.item = 8;
    j.tok.item = j.pos.item = j.mask.item = j.weights.item = 4;
    int64_t zero = 0;
    int rc = check_weights(&targets, targets_path) || index_build(&ix, targets.doc_ids, targets.n_docs, targets_path)
                 ? -1
                 : 0;
    if (rc == 0) {
        j.used = tc_calloc(targets.n_docs + 1, 1);
        rc = !j.used || grow_push(&j.tok_off, &zero, 1) || grow_push(&j.pos_off, &zero, 1) ||
                     grow_push(&j.mask_off, &zero, 1) || read_tokens(&j, tokens_path)
                 ? -1
                 : 0;
    }
    for (uint64_t i = 0; rc == 0 && i < targets.n_docs; i++) s->n_targets_unused += !j.used[i];
    take_arrays(s, &j);
    free(j.used);
    free(ix.slot);
    tc_labels_free(&targets);
    if (rc == 0 && s->n_docs == 0)
        rc = tc_fail("%s: no document has targets in %s: the training set is empty", tokens_path, targets_path);
    if (rc == 0) rc = check_some_weight(s, targets_path);
    if (rc) {
        tc_train_set_free(s);
        return -1;
    }
    s->fingerprint = content_fingerprint(s);
    return 0;
}

int tc_train_set_load_tokens(tc_train_set *s, const char *tokens_path, const tc_train_load_options *o) {
    memset(s, 0, sizeof *s);
    if (o->max_len < 2) return tc_fail("a maximum length of %d tokens leaves no room for [CLS] and [SEP]", o->max_len);
    join_state j = {.s = s, .o = o, .where = tokens_path};
    j.ids.item = sizeof(char *);
    j.tok_off.item = j.pos_off.item = j.mask_off.item = 8;
    j.tok.item = j.pos.item = j.mask.item = j.weights.item = 4;
    int64_t zero = 0;
    int rc = grow_push(&j.tok_off, &zero, 1) || grow_push(&j.pos_off, &zero, 1) || grow_push(&j.mask_off, &zero, 1) ||
                     read_tokens(&j, tokens_path)
                 ? -1
                 : 0;
    take_arrays(s, &j);
    if (rc == 0 && s->n_docs == 0) rc = tc_fail("%s: no rows: the training set is empty", tokens_path);
    if (rc) {
        tc_train_set_free(s);
        return -1;
    }
    s->fingerprint = content_fingerprint(s);
    return 0;
}

int tc_train_pairs_check(tc_train_set *anchors, const tc_train_set *positives, const char *anchors_path,
                         const char *positives_path) {
    if (anchors->n_docs != positives->n_docs)
        return tc_fail("%s: %" PRIu64 " rows, but %s has %" PRIu64 ": pairs are joined by row", positives_path,
                       positives->n_docs, anchors_path, anchors->n_docs);
    for (uint64_t i = 0; i < anchors->n_docs; i++)
        if (strcmp(anchors->doc_ids[i], positives->doc_ids[i]))
            return tc_fail("%s: row %" PRIu64 " is '%s', but it is '%s' in %s: the files must list the same documents "
                           "in the same order",
                           positives_path, i, positives->doc_ids[i], anchors->doc_ids[i], anchors_path);
    anchors->fingerprint = tc_fnv1a64(&positives->fingerprint, sizeof positives->fingerprint, anchors->fingerprint);
    return 0;
}

void tc_train_set_targets(const tc_train_set *s, const uint32_t *docs, int B, int K, float *y, float *w) {
    for (int b = 0; b < B; b++) {
        uint32_t d = docs[b];
        float *yb = y + (size_t)b * K, *wb = w + (size_t)b * K;
        for (int k = 0; k < K; k++) {
            yb[k] = 0.0f;
            wb[k] = s->weights[d];
        }
        for (int64_t i = s->pos_offsets[d]; i < s->pos_offsets[d + 1]; i++) yb[s->pos_classes[i]] = 1.0f;
        for (int64_t i = s->mask_offsets[d]; i < s->mask_offsets[d + 1]; i++) wb[s->mask_classes[i]] = 0.0f;
    }
}

// ---------------------------------------------------------------- orders

int tc_split_indices(uint64_t n, double fraction, uint64_t seed, uint32_t **train, uint64_t *n_train, uint32_t **val,
                     uint64_t *n_val) {
    *train = *val = NULL;
    if (n > UINT32_MAX) return tc_fail("%" PRIu64 " documents: at most %u are supported", n, UINT32_MAX);
    uint64_t nv = (uint64_t)llround(fraction * (double)n);
    if (nv > n) nv = n;
    uint32_t *perm = tc_malloc_array(n ? n : 1, sizeof *perm);
    uint8_t *is_val = tc_calloc(n ? n : 1, 1);
    *train = tc_malloc_array(n - nv ? n - nv : 1, sizeof **train);
    *val = tc_malloc_array(nv ? nv : 1, sizeof **val);
    if (!perm || !is_val || !*train || !*val) {
        free(perm), free(is_val), free(*train), free(*val);
        *train = *val = NULL;
        return -1;
    }
    for (uint64_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    tc_rng rng;
    tc_rng_derive(&rng, seed, TC_RNG_VAL_SPLIT, 0);
    tc_rng_shuffle(&rng, perm, n);
    for (uint64_t i = 0; i < nv; i++) is_val[perm[i]] = 1;
    uint64_t a = 0, b = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (is_val[i]) (*val)[b++] = (uint32_t)i;
        else (*train)[a++] = (uint32_t)i;
    }
    *n_train = a;
    *n_val = b;
    free(perm);
    free(is_val);
    return 0;
}

void tc_epoch_order(uint32_t *order, const uint32_t *idx, uint64_t n, uint64_t seed, uint64_t epoch) {
    memcpy(order, idx, n * sizeof *order);
    tc_rng rng;
    tc_rng_derive(&rng, seed, TC_RNG_EPOCH, epoch);
    tc_rng_shuffle(&rng, order, n);
}

void tc_micro_batch_range(uint64_t step_docs, int ranks, int accumulate, int rank, int micro, uint64_t *begin,
                          uint64_t *end) {
    uint64_t parts = (uint64_t)ranks * (uint64_t)accumulate, j = (uint64_t)micro * (uint64_t)ranks + (uint64_t)rank;
    *begin = step_docs * j / parts;
    *end = step_docs * (j + 1) / parts;
}
