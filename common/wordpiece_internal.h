// Internals shared by common/vocab.c, common/wordpiece.c and
// common/wordpiece_model.c. Not for programs: use common/wordpiece.h.
#ifndef TC_WORDPIECE_INTERNAL_H
#define TC_WORDPIECE_INTERNAL_H

#include "common/wordpiece.h"

#include <stdint.h>
#include <string.h>

// The vocabulary as a hash table keyed by token text. Lookups hash a key
// byte by byte with FNV-1a, so the WordPiece search gets the hash of every
// prefix of a word in one pass; "##" continuation keys start from the state
// after "##" instead of copying the piece behind a prefix.
#define TC_VOCAB_HASH_INIT 0xcbf29ce484222325ull

static inline uint64_t tc_vocab_hash_step(uint64_t h, unsigned char byte) {
    return (h ^ byte) * 0x100000001b3ull;
}

typedef struct {
    char *bytes;          // every token, NUL-terminated, in id order
    uint32_t *offsets;    // [n + 1]: token id starts at bytes + offsets[id]
    uint64_t *slots;      // [mask + 1]: (hash tag << 32) | (id + 1); 0 is empty
    uint32_t mask;
    int shift;            // slot index = (hash * golden) >> shift
    size_t n;             // lines, so ids 0..n-1
    size_t max_word_bytes;   // longest token that does not start with "##"
    size_t max_piece_bytes;  // longest "##" token, without the "##"
} tc_vocab;

// Parses the text of a vocab.txt: one token a line, its id the line number,
// trailing whitespace trimmed, a later duplicate replacing an earlier one
// (what tokenizers' WordPiece::read_file does).
int tc_vocab_parse(tc_vocab *v, const char *text, size_t size, const char *where);
void tc_vocab_free(tc_vocab *v);

// The id of the key whose hash (from TC_VOCAB_HASH_INIT, or from the state
// after "##" when continuation) is h, or -1. For a continuation key, s is the
// piece without "##".
static inline int32_t tc_vocab_find(const tc_vocab *v, uint64_t h, const unsigned char *s, size_t len,
                                    int continuation) {
    uint32_t tag = (uint32_t)(h >> 32);
    size_t at = (size_t)((h * 0x9e3779b97f4a7c15ull) >> v->shift);
    size_t want = len + (continuation ? 2 : 0);
    for (;;) {
        uint64_t slot = v->slots[at];
        if (!slot) return -1;
        if ((uint32_t)(slot >> 32) == tag) {
            uint32_t id = (uint32_t)slot - 1;
            const char *t = v->bytes + v->offsets[id];
            size_t tlen = v->offsets[id + 1] - v->offsets[id] - 1;
            if (tlen == want) {
                if (continuation) {
                    if (t[0] == '#' && t[1] == '#' && !memcmp(t + 2, s, len)) return (int32_t)id;
                } else if (!memcmp(t, s, len)) {
                    return (int32_t)id;
                }
            }
        }
        at = (at + 1) & v->mask;
    }
}

enum { TC_WORDPIECE_MAX_SPECIAL = 64 };
#define TC_KIND_SPECIAL 0x80  // flag in ascii_kind: the byte may start a special token

struct tc_wordpiece {
    tc_vocab vocab;
    tc_wordpiece_info info;
    uint64_t piece_seed;           // hash state after "##"
    uint8_t ascii_kind[128];       // TC_BERT_* of each ASCII byte, | TC_KIND_SPECIAL
    unsigned char ascii_lower[128];
    uint8_t ascii_word[256];       // 1 for ASCII bytes that are plain word characters
    int32_t ascii_punct_id[128];   // the id (or [UNK]'s) of each ASCII punctuation character
    uint8_t *bmp_kind;             // [0x10000] TC_BERT_* of each BMP code point
    uint8_t special_first[256];    // 1 for a byte that starts some special token
    struct {
        char *text;
        size_t len;
        int32_t id;
    } special[TC_WORDPIECE_MAX_SPECIAL];
    size_t n_special;
};

// Builds the character tables and the special-token list once the
// vocabulary and info.mode are set. names: special tokens to match, those
// absent from the vocabulary are skipped.
int tc_wordpiece_prepare(tc_wordpiece *wp, const char *const *names, size_t n_names, const char *where);

#endif
