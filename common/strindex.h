// A string interner: each distinct string gets a dense id 0, 1, 2, ... in
// the order first seen. Used for vocabularies and for matching documents by
// id. Open addressing on a power-of-two table; keys live in one arena.
#ifndef TC_STRINDEX_H
#define TC_STRINDEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t n;             // distinct strings
    int64_t *slots;        // [capacity]: id, or -1 for empty
    uint64_t *hashes;      // [n]
    size_t *offsets;       // [n + 1] key i is arena[offsets[i] .. offsets[i+1] - 1), NUL-terminated
    char *arena;
    size_t capacity, arena_used, arena_cap, id_cap;
} tc_strindex;

int tc_strindex_init(tc_strindex *index);
void tc_strindex_free(tc_strindex *index);
// Id of the key (len bytes), or -1 when absent.
int64_t tc_strindex_find(const tc_strindex *index, const char *key, size_t len);
// Id of the key, adding it if new (*added = 1 then; added may be NULL); -1 on failure.
int64_t tc_strindex_add(tc_strindex *index, const char *key, size_t len, int *added);
// The key of an id (NUL-terminated; valid until the next add).
const char *tc_strindex_key(const tc_strindex *index, int64_t id);
size_t tc_strindex_key_length(const tc_strindex *index, int64_t id);

#endif
