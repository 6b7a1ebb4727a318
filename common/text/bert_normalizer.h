// The character rules of BERT's text normalization and pre-tokenization,
// exactly as Hugging Face tokenizers applies them (BertNormalizer followed by
// BertPreTokenizer):
//
//   1. cleaning: U+0000, U+FFFD and "other" characters (control, format,
//      private use) are removed; whitespace (and \t \n \r) becomes a space;
//   2. CJK ideographs get a space on each side;
//   3. with accent stripping: canonical decomposition (NFD), then nonspacing
//      marks (Mn) are removed;
//   4. with lowercasing: each character is replaced by its full lowercase
//      mapping (U+0130 becomes two characters);
//   5. words split at spaces; each punctuation character is a word of its own.
//
// Character properties come from utf8proc, corrected where tokenizers' own
// Unicode tables (of another Unicode version) disagree: see
// common/text/bert_unicode_compat.h and the script that generates it.
#ifndef TC_BERT_NORMALIZER_H
#define TC_BERT_NORMALIZER_H

#include <stddef.h>
#include <stdint.h>

// Longest output of tc_bert_decompose (canonical decompositions have at most 4).
#define TC_BERT_MAX_DECOMPOSITION 8
// Longest output of tc_bert_lowercase.
#define TC_BERT_MAX_LOWERCASE 3

typedef struct {
    int lowercase;      // lowercase every character
    int strip_accents;  // NFD, then drop nonspacing marks
    int chinese_chars;  // a word boundary on each side of a CJK ideograph
} tc_bert_mode;

// What one code point does in a given mode, as far as a per-character table
// can tell. TC_BERT_SLOW characters need tc_bert_decompose/tc_bert_lowercase
// (their text changes, or they take part in canonical reordering).
enum {
    TC_BERT_WORD = 0,   // kept as it is, part of a word
    TC_BERT_DROP,       // removed (cleaning, or wholly a nonspacing mark when stripping)
    TC_BERT_SPACE,      // a word boundary
    TC_BERT_PUNCT_CHAR, // kept as it is, a word of its own
    TC_BERT_CJK,        // an ideograph with boundaries around it
    TC_BERT_SLOW,
};

int tc_bert_removed(uint32_t cp);     // removed by cleaning
int tc_bert_whitespace(uint32_t cp);  // becomes a space when cleaning (includes \t \n \r)
int tc_bert_punct(uint32_t cp);       // split off as a word of its own
int tc_bert_mark(uint32_t cp);        // nonspacing mark, removed when stripping accents
int tc_bert_cjk(uint32_t cp);         // in the CJK ideograph blocks BERT pads
int tc_bert_combining_class(uint32_t cp);

// Canonical decomposition with nonspacing marks removed; returns the count.
int tc_bert_decompose(uint32_t cp, uint32_t out[TC_BERT_MAX_DECOMPOSITION]);
// Full lowercase mapping; returns the count (1 to 3).
int tc_bert_lowercase(uint32_t cp, uint32_t out[TC_BERT_MAX_LOWERCASE]);

// NULL when utf8proc's Unicode version is the one the corrections were made
// against; else a line saying which versions differ (characters new since
// may then tokenize differently from tokenizers).
const char *tc_bert_unicode_mismatch(void);

// The TC_BERT_* kind of a code point in a mode.
int tc_bert_kind(uint32_t cp, const tc_bert_mode *mode);

// Decodes one UTF-8 character at s (n > 0 bytes available). Returns its
// length, or 0 for an invalid sequence (a stray byte, an overlong form, a
// surrogate, a truncated character); the caller then skips one byte.
static inline int tc_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len;
    uint32_t v;
    if (c >= 0xc2 && c <= 0xdf) len = 2, v = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) len = 3, v = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, v = c & 0x07;
    else return 0;
    if ((size_t)len > n) return 0;
    for (int k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (s[k] & 0x3f);
    }
    if ((len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10ffff))) return 0;
    if (v >= 0xd800 && v <= 0xdfff) return 0;
    *cp = v;
    return len;
}

// Encodes a code point as UTF-8 into out[4]; returns the length.
static inline int tc_utf8_encode(uint32_t cp, unsigned char *out) {
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xc0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xe0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (unsigned char)(0xf0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

#endif
