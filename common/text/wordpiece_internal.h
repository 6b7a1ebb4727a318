// Internals shared by common/text/vocab.c, common/text/wordpiece.c and
// common/text/wordpiece_model.c. Not for programs: use common/text/wordpiece.h.
#ifndef TC_WORDPIECE_INTERNAL_H
#define TC_WORDPIECE_INTERNAL_H

#include "common/text/wordpiece.h"

#include <stdint.h>
#include <string.h>

// The vocabulary as a hash table keyed by token text. Lookups hash a key
// byte by byte with FNV-1a, so the WordPiece search gets the hash of every
// prefix of a word in one pass; "##" pieces are keyed without their "##"
// and hashed from the state after "##", so the search never copies a piece
// behind a prefix.
//
// A slot holds the key's first 8 bytes, so the lookup of a key of up to 8
// bytes (most of any vocabulary) touches one cache line; longer keys compare
// the rest with the token text.
#define TC_VOCAB_HASH_INIT 0xcbf29ce484222325ull

static inline uint64_t tc_vocab_hash_step(uint64_t h, unsigned char byte) {
    return (h ^ byte) * 0x100000001b3ull;
}

typedef struct {
    uint64_t head;  // the key's first 8 bytes, zero-padded, little-endian
    uint32_t tag;   // hash bits 31..9 | piece (a "##" token) << 8 | min(key length, 255)
    int32_t id;     // -1: empty
} tc_vocab_slot;

typedef struct {
    char *bytes;          // every token, NUL-terminated, in id order
    uint32_t *offsets;    // [n + 1]: token id starts at bytes + offsets[id]
    tc_vocab_slot *slots; // [mask + 1]
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

static inline uint32_t tc_vocab_tag(uint64_t h, size_t len, int piece) {
    return ((uint32_t)(h >> 32) & ~0x1ffu) | (uint32_t)piece << 8 | (uint32_t)(len < 255 ? len : 255);
}

// The first 8 bytes of a key of len bytes at s, zero-padded. s must have 8
// readable bytes (callers keep slack after their buffers).
static inline uint64_t tc_vocab_head(const unsigned char *s, size_t len) {
    uint64_t v;
    memcpy(&v, s, 8);
    return len >= 8 ? v : v & ((1ull << (8 * len)) - 1);
}

// tc_vocab_find for a key of at most 8 bytes: the slot alone decides.
static inline int32_t tc_vocab_find_short(const tc_vocab *v, uint64_t h, const unsigned char *s, size_t len,
                                          int piece) {
    uint32_t tag = tc_vocab_tag(h, len, piece);
    uint64_t head = tc_vocab_head(s, len);
    size_t at = (size_t)((h * 0x9e3779b97f4a7c15ull) >> v->shift);
    for (;; at = (at + 1) & v->mask) {
        const tc_vocab_slot *slot = &v->slots[at];
        if (slot->id < 0) return -1;
        if (slot->tag == tag && slot->head == head) return slot->id;
    }
}

// The id of the key whose hash (from TC_VOCAB_HASH_INIT, or from the state
// after "##" for a piece) is h, or -1. For a piece, s is the text without
// "##". s must have 8 readable bytes.
static inline int32_t tc_vocab_find(const tc_vocab *v, uint64_t h, const unsigned char *s, size_t len, int piece) {
    uint32_t tag = tc_vocab_tag(h, len, piece);
    uint64_t head = tc_vocab_head(s, len);
    size_t at = (size_t)((h * 0x9e3779b97f4a7c15ull) >> v->shift);
    for (;;) {
        const tc_vocab_slot *slot = &v->slots[at];
        if (slot->id < 0) return -1;
        if (slot->tag == tag && slot->head == head) {
            if (len <= 8) return slot->id;
            const char *t = v->bytes + v->offsets[slot->id] + (piece ? 2 : 0);
            size_t tlen = v->offsets[slot->id + 1] - v->offsets[slot->id] - 1 - (piece ? 2 : 0);
            if (tlen == len && !memcmp(t + 8, s + 8, len - 8)) return slot->id;
        }
        at = (at + 1) & v->mask;
    }
}

enum { TC_WORDPIECE_MAX_SPECIAL = 64 };

typedef struct {
    char *text;
    size_t len;
    int32_t id;
} tc_wordpiece_special;
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
    tc_wordpiece_special special[TC_WORDPIECE_MAX_SPECIAL];
    size_t n_special;
    // Added tokens matched in the normalized text (tokenizer.json's
    // "normalized": true, e.g. MPNet's <unk>), their text normalized. A
    // stretch of text between spaces that holds a byte of normalized_trigger
    // (an ASCII byte that may begin one once normalized, or any non-ASCII
    // byte) is normalized whole and searched; the rest takes the fast path.
    tc_wordpiece_special normalized[TC_WORDPIECE_MAX_SPECIAL];
    size_t n_normalized;
    uint8_t normalized_trigger[256];
    int special_spaces;  // some special token holds a space: stretches are not cut at spaces
};

// The text as BertNormalizer makes it (cleaning, CJK spacing, accent
// stripping, lowercasing), in s's buffer (valid until the next call with s);
// NULL when out of memory.
const unsigned char *tc_wordpiece_normalize(const tc_wordpiece *wp, tc_wordpiece_scratch *s, const char *text,
                                            size_t len, size_t *out_len);

// Registers an added token matched after normalization (its text is
// normalized here), once tc_wordpiece_prepare has run.
int tc_wordpiece_add_normalized(tc_wordpiece *wp, const char *text, int32_t id, const char *where);

// Builds the character tables and the special-token list once the
// vocabulary and info.mode are set. names: special tokens to match, those
// absent from the vocabulary are skipped.
int tc_wordpiece_prepare(tc_wordpiece *wp, const char *const *names, size_t n_names, const char *where);

#endif
