#include "common/strindex.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_bytes(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a, then a final mix
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

int tc_strindex_init(tc_strindex *x) {
    memset(x, 0, sizeof *x);
    x->capacity = 1024;
    x->slots = tc_malloc_array(x->capacity, sizeof *x->slots);
    x->offsets = tc_calloc(1, sizeof *x->offsets);
    if (!x->slots || !x->offsets) {
        tc_strindex_free(x);
        return -1;
    }
    memset(x->slots, 0xff, x->capacity * sizeof *x->slots);
    return 0;
}

void tc_strindex_free(tc_strindex *x) {
    free(x->slots);
    free(x->hashes);
    free(x->offsets);
    free(x->arena);
    memset(x, 0, sizeof *x);
}

static size_t probe(const tc_strindex *x, const char *key, size_t len, uint64_t h) {
    size_t mask = x->capacity - 1, at = (size_t)h & mask;
    for (;;) {
        int64_t id = x->slots[at];
        if (id < 0) return at;
        if (x->hashes[id] == h && x->offsets[id + 1] - x->offsets[id] - 1 == len &&
            !memcmp(x->arena + x->offsets[id], key, len))
            return at;
        at = (at + 1) & mask;
    }
}

int64_t tc_strindex_find(const tc_strindex *x, const char *key, size_t len) {
    return x->slots[probe(x, key, len, hash_bytes(key, len))];
}

static int grow_table(tc_strindex *x) {
    size_t cap = x->capacity * 2;
    int64_t *slots = tc_malloc_array(cap, sizeof *slots);
    if (!slots) return -1;
    memset(slots, 0xff, cap * sizeof *slots);
    for (int64_t id = 0; id < x->n; id++) {
        size_t at = (size_t)x->hashes[id] & (cap - 1);
        while (slots[at] >= 0) at = (at + 1) & (cap - 1);
        slots[at] = id;
    }
    free(x->slots);
    x->slots = slots;
    x->capacity = cap;
    return 0;
}

static int reserve(tc_strindex *x, size_t len) {
    if ((size_t)x->n + 1 >= x->id_cap) {
        size_t cap = x->id_cap ? x->id_cap * 2 : 1024;
        uint64_t *h = tc_realloc(x->hashes, cap * sizeof *h);
        if (!h) return -1;
        x->hashes = h;
        size_t *o = tc_realloc(x->offsets, (cap + 1) * sizeof *o);
        if (!o) return -1;
        x->offsets = o;
        x->id_cap = cap;
    }
    if (x->arena_used + len + 1 > x->arena_cap) {
        size_t cap = x->arena_cap ? x->arena_cap : 4096;
        while (cap < x->arena_used + len + 1) cap *= 2;
        char *a = tc_realloc(x->arena, cap);
        if (!a) return -1;
        x->arena = a;
        x->arena_cap = cap;
    }
    return 0;
}

int64_t tc_strindex_add(tc_strindex *x, const char *key, size_t len, int *added) {
    if (added) *added = 0;
    uint64_t h = hash_bytes(key, len);
    size_t at = probe(x, key, len, h);
    if (x->slots[at] >= 0) return x->slots[at];
    if (reserve(x, len)) return -1;
    if ((size_t)(x->n + 1) * 2 > x->capacity) {  // load at most 1/2
        if (grow_table(x)) return -1;
        at = probe(x, key, len, h);
    }
    int64_t id = x->n++;
    memcpy(x->arena + x->arena_used, key, len);
    x->arena[x->arena_used + len] = 0;
    x->arena_used += len + 1;
    x->offsets[id + 1] = x->arena_used;
    x->hashes[id] = h;
    x->slots[at] = id;
    if (added) *added = 1;
    return id;
}

const char *tc_strindex_key(const tc_strindex *x, int64_t id) { return x->arena + x->offsets[id]; }

size_t tc_strindex_key_length(const tc_strindex *x, int64_t id) { return x->offsets[id + 1] - x->offsets[id] - 1; }
