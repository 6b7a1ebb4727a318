// The tokenizer's hot path: one pass over the bytes of a text, normalizing,
// splitting into words and looking words up as they complete. Plain ASCII
// word characters (most of any English corpus) go through table lookups
// only; every other character goes through the per-code-point table of
// common/text/bert_normalizer.h, and only characters whose text changes take the
// slow path (decomposition, canonical reordering, lowercase mapping).
#include "common/error.h"
#include "common/text/wordpiece_internal.h"

#include <stdlib.h>

enum {
    MAX_CHARS = TC_WORDPIECE_MAX_WORD_CHARS,
    WORD_BYTES = 4 * MAX_CHARS + 16,  // with slack: a lookup reads 8 bytes from any position
    // Marks held back for canonical reordering. A longer run can only be part
    // of a word of more than MAX_CHARS characters (marks are neither spaces
    // nor punctuation), which becomes [UNK] whatever its order.
    RUN_MAX = 2 * MAX_CHARS,
};

struct tc_wordpiece_scratch {
    unsigned char word[WORD_BYTES];  // the word so far, normalized (its first MAX_CHARS characters)
    size_t word_len;                 // bytes in word
    size_t word_chars;               // characters, counted on past MAX_CHARS
    uint32_t run[RUN_MAX];           // combining characters (not nonspacing marks) awaiting reordering
    uint8_t run_class[RUN_MAX];      // their canonical combining classes
    size_t run_n;
    uint64_t prefix_hash[WORD_BYTES + 1];
    int32_t pieces[MAX_CHARS + 1];
    unsigned char *norm;  // tc_wordpiece_normalize's output
    size_t norm_len, norm_cap;
    int norm_failed;      // out of memory while normalizing
};

typedef struct {
    const tc_wordpiece *wp;
    tc_wordpiece_scratch *s;
    int32_t *ids;
    size_t n, max;
    tc_wordpiece_word_fn *on_word;  // set: words go here instead of WordPiece
    void *context;
    int raw_only;  // the text is already normalized: its special tokens were matched before
} tokenizing;

tc_wordpiece_scratch *tc_wordpiece_scratch_new(void) { return tc_calloc(1, sizeof(tc_wordpiece_scratch)); }

void tc_wordpiece_scratch_free(tc_wordpiece_scratch *s) {
    if (s) free(s->norm);
    free(s);
}

static inline void emit(tokenizing *t, int32_t id) {
    if (t->n < t->max) t->ids[t->n++] = id;
}

// Greedy longest-match WordPiece over one normalized word of at most
// MAX_CHARS characters: the longest vocabulary entry at the start, then the
// longest "##" entry at each following position; [UNK] for the whole word
// if some position matches nothing.
static void wordpiece(tokenizing *t, const unsigned char *w, size_t n) {
    const tc_vocab *v = &t->wp->vocab;
    uint64_t *prefix = t->s->prefix_hash;
    int32_t *pieces = t->s->pieces;
    size_t start = 0, k = 0;
    while (start < n) {
        int continuation = start > 0;
        size_t limit = n - start, longest = continuation ? v->max_piece_bytes : v->max_word_bytes;
        if (limit > longest) limit = longest;
        uint64_t h = continuation ? t->wp->piece_seed : TC_VOCAB_HASH_INIT;
        for (size_t i = 0; i < limit; i++) prefix[i + 1] = h = tc_vocab_hash_step(h, w[start + i]);
        int32_t id = -1;
        size_t len = limit;
        for (; len > 0; len--) {
            if (start + len < n && (w[start + len] & 0xc0) == 0x80) continue;  // inside a character
            id = tc_vocab_find(v, prefix[len], w + start, len, continuation);
            if (id >= 0) break;
        }
        if (id < 0) {
            emit(t, t->wp->info.unk_id);
            return;
        }
        pieces[k++] = id;
        start += len;
    }
    for (size_t i = 0; i < k; i++) emit(t, pieces[i]);
}

static void flush_word(tokenizing *t) {
    tc_wordpiece_scratch *s = t->s;
    if (!s->word_chars) return;
    if (t->on_word) t->on_word(t->context, (const char *)s->word, s->word_len, s->word_chars, 0);
    else if (s->word_chars > MAX_CHARS) emit(t, t->wp->info.unk_id);
    else wordpiece(t, s->word, s->word_len);
    s->word_len = s->word_chars = 0;
}

// One character (its UTF-8 bytes) onto the current word.
static inline void word_add(tc_wordpiece_scratch *s, const unsigned char *bytes, size_t len) {
    if (s->word_chars++ < MAX_CHARS) {
        memcpy(s->word + s->word_len, bytes, len);
        s->word_len += len;
    }
}

static inline void word_add_ascii(tc_wordpiece_scratch *s, const unsigned char *lower, const unsigned char *p,
                                  size_t len) {
    size_t room = s->word_chars < MAX_CHARS ? MAX_CHARS - s->word_chars : 0;
    size_t take = len < room ? len : room;
    unsigned char *out = s->word + s->word_len;
    for (size_t i = 0; i < take; i++) out[i] = lower[p[i]];
    s->word_len += take;
    s->word_chars += len;
}

// A punctuation character: a word of its own.
static void punct_word(tokenizing *t, const unsigned char *bytes, size_t len) {
    if (t->on_word) {
        t->on_word(t->context, (const char *)bytes, len, 1, 0);
        return;
    }
    unsigned char key[8] = {0};  // the lookup reads 8 bytes
    memcpy(key, bytes, len);
    uint64_t h = TC_VOCAB_HASH_INIT;
    for (size_t i = 0; i < len; i++) h = tc_vocab_hash_step(h, bytes[i]);
    int32_t id = tc_vocab_find_short(&t->wp->vocab, h, key, len, 0);  // a character: at most 4 bytes
    emit(t, id >= 0 ? id : t->wp->info.unk_id);
}

// A character of the normalized text (after decomposition and mark removal):
// lowercased if asked, then punctuation or part of a word.
static void push_normalized(tokenizing *t, uint32_t cp) {
    uint32_t chars[TC_BERT_MAX_LOWERCASE] = {cp};
    int n = t->wp->info.mode.lowercase ? tc_bert_lowercase(cp, chars) : 1;
    for (int i = 0; i < n; i++) {
        unsigned char bytes[4];
        int len = tc_utf8_encode(chars[i], bytes);
        if (tc_bert_punct(chars[i])) {
            flush_word(t);
            punct_word(t, bytes, (size_t)len);
        } else {
            word_add(t->s, bytes, (size_t)len);
        }
    }
}

// Canonical ordering: the held-back combining characters, stably sorted by
// combining class (insertion sort: runs are a few characters).
static void sort_run_by_class(tc_wordpiece_scratch *s) {
    for (size_t i = 1; i < s->run_n; i++) {
        uint32_t cp = s->run[i];
        uint8_t cc = s->run_class[i];
        size_t j = i;
        for (; j > 0 && s->run_class[j - 1] > cc; j--) {
            s->run[j] = s->run[j - 1];
            s->run_class[j] = s->run_class[j - 1];
        }
        s->run[j] = cp;
        s->run_class[j] = cc;
    }
}

static void flush_run(tokenizing *t) {
    tc_wordpiece_scratch *s = t->s;
    sort_run_by_class(s);
    size_t n = s->run_n;
    s->run_n = 0;
    for (size_t i = 0; i < n; i++) push_normalized(t, s->run[i]);
}

static void push_decomposed(tokenizing *t, uint32_t cp) {
    tc_wordpiece_scratch *s = t->s;
    int cc = tc_bert_combining_class(cp);
    if (cc == 0) {
        if (s->run_n) flush_run(t);
        push_normalized(t, cp);
        return;
    }
    if (s->run_n == RUN_MAX) flush_run(t);
    s->run[s->run_n] = cp;
    s->run_class[s->run_n++] = (uint8_t)cc;
}

// A character of the cleaned text whose normalized form needs working out.
static void push_transformed(tokenizing *t, uint32_t cp) {
    if (!t->wp->info.mode.strip_accents) {
        push_normalized(t, cp);
        return;
    }
    uint32_t parts[TC_BERT_MAX_DECOMPOSITION];
    int n = tc_bert_decompose(cp, parts);
    for (int i = 0; i < n; i++) push_decomposed(t, parts[i]);
}

static inline void boundary(tokenizing *t) {
    if (t->s->run_n) flush_run(t);
    flush_word(t);
}

// The longest of n special tokens at p, or 0.
static size_t special_at(const tc_wordpiece_special *special, size_t n, const unsigned char *p, size_t avail,
                         int32_t *id) {
    size_t best = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = special[i].len;
        if (len > best && len <= avail && !memcmp(p, special[i].text, len)) {
            best = len;
            *id = special[i].id;
        }
    }
    return best;
}

static int take_special(tokenizing *t, const unsigned char **p, const unsigned char *end) {
    if (t->raw_only) return 0;
    int32_t id;
    size_t len = special_at(t->wp->special, t->wp->n_special, *p, (size_t)(end - *p), &id);
    if (!len) return 0;
    boundary(t);
    if (t->on_word) t->on_word(t->context, (const char *)*p, len, len, 1);
    else emit(t, id);
    *p += len;
    return 1;
}

// A character outside ASCII, of kind `kind`, its bytes at p.
static void push_other(tokenizing *t, int kind, uint32_t cp, const unsigned char *p, size_t len) {
    switch (kind) {
    case TC_BERT_WORD:
        if (t->s->run_n) flush_run(t);
        word_add(t->s, p, len);
        break;
    case TC_BERT_DROP: break;
    case TC_BERT_SPACE: boundary(t); break;
    case TC_BERT_PUNCT_CHAR:
        boundary(t);
        punct_word(t, p, len);
        break;
    case TC_BERT_CJK:
        boundary(t);
        push_transformed(t, cp);
        boundary(t);
        break;
    default: push_transformed(t, cp);
    }
}

static void tokenize_plain(tokenizing *tp, const char *text, size_t len) {
    tokenizing t = *tp;
    const tc_wordpiece *wp = t.wp;
    tc_wordpiece_scratch *s = t.s;
    s->word_len = s->word_chars = s->run_n = 0;
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    while (p < end && t.n < t.max) {
        unsigned b = *p;
        if (b < 0x80) {
            unsigned kind = wp->ascii_kind[b];
            if (kind == TC_BERT_WORD) {
                if (s->run_n) flush_run(&t);
                const unsigned char *q = p + 1;
                while (q < end && wp->ascii_word[*q]) q++;
                word_add_ascii(s, wp->ascii_lower, p, (size_t)(q - p));
                p = q;
                continue;
            }
            if ((kind & TC_KIND_SPECIAL) && take_special(&t, &p, end)) continue;
            kind &= ~(unsigned)TC_KIND_SPECIAL;
            if (kind == TC_BERT_SPACE) {
                boundary(&t);
            } else if (kind == TC_BERT_PUNCT_CHAR) {
                boundary(&t);
                if (t.on_word) punct_word(&t, p, 1);
                else emit(&t, wp->ascii_punct_id[b]);
            } else if (kind == TC_BERT_WORD) {  // a special token's first byte that started none
                if (s->run_n) flush_run(&t);
                word_add_ascii(s, wp->ascii_lower, p, 1);
            }
            p++;
            continue;
        }
        if (wp->special_first[b] && take_special(&t, &p, end)) continue;
        uint32_t cp;
        int n = tc_utf8_decode(p, (size_t)(end - p), &cp);
        if (!n) {  // invalid UTF-8: what cleaning does to the U+FFFD a decoder puts there
            p++;
            continue;
        }
        int kind = cp < 0x10000 ? wp->bmp_kind[cp] : tc_bert_kind(cp, &wp->info.mode);
        push_other(&t, kind, cp, p, (size_t)n);
        p += n;
    }
    if (t.n < t.max) boundary(&t);
    tp->n = t.n;
}

// ---- added tokens matched after normalization (tokenizers' AddedVocabulary:
// special tokens are cut out of the raw text first, each stretch between
// them is normalized, then the normalized tokens are cut out of that)

static int norm_put(tc_wordpiece_scratch *s, const unsigned char *bytes, size_t len) {
    if (s->norm_len + len + 8 > s->norm_cap) {  // 8: lookups read 8 bytes past a key
        size_t cap = s->norm_cap ? 2 * s->norm_cap : 4096;
        while (cap < s->norm_len + len + 8) cap *= 2;
        unsigned char *grown = tc_realloc(s->norm, cap);
        if (!grown) {
            s->norm_failed = 1;
            return -1;
        }
        s->norm = grown;
        s->norm_cap = cap;
    }
    memcpy(s->norm + s->norm_len, bytes, len);
    s->norm_len += len;
    return 0;
}

// The same steps as push_normalized, flush_run, push_decomposed and
// push_transformed, writing characters instead of words.
static void norm_lowered(const tc_wordpiece *wp, tc_wordpiece_scratch *s, uint32_t cp) {
    uint32_t chars[TC_BERT_MAX_LOWERCASE] = {cp};
    int n = wp->info.mode.lowercase ? tc_bert_lowercase(cp, chars) : 1;
    for (int i = 0; i < n; i++) {
        unsigned char bytes[4];
        norm_put(s, bytes, (size_t)tc_utf8_encode(chars[i], bytes));
    }
}

static void norm_flush_run(const tc_wordpiece *wp, tc_wordpiece_scratch *s) {
    sort_run_by_class(s);
    size_t n = s->run_n;
    s->run_n = 0;
    for (size_t i = 0; i < n; i++) norm_lowered(wp, s, s->run[i]);
}

static void norm_transformed(const tc_wordpiece *wp, tc_wordpiece_scratch *s, uint32_t cp) {
    if (!wp->info.mode.strip_accents) {
        norm_lowered(wp, s, cp);
        return;
    }
    uint32_t parts[TC_BERT_MAX_DECOMPOSITION];
    int n = tc_bert_decompose(cp, parts);
    for (int i = 0; i < n; i++) {
        int cc = tc_bert_combining_class(parts[i]);
        if (cc == 0) {
            norm_flush_run(wp, s);
            norm_lowered(wp, s, parts[i]);
            continue;
        }
        if (s->run_n == RUN_MAX) norm_flush_run(wp, s);
        s->run[s->run_n] = parts[i];
        s->run_class[s->run_n++] = (uint8_t)cc;
    }
}

static void norm_char(const tc_wordpiece *wp, tc_wordpiece_scratch *s, int kind, uint32_t cp,
                      const unsigned char *p, size_t len) {
    static const unsigned char space = ' ';
    switch (kind) {
    case TC_BERT_DROP: break;
    case TC_BERT_WORD:
    case TC_BERT_PUNCT_CHAR:
        norm_flush_run(wp, s);
        norm_put(s, p, len);
        break;
    case TC_BERT_SPACE:
        norm_flush_run(wp, s);
        norm_put(s, &space, 1);
        break;
    case TC_BERT_CJK:
        norm_flush_run(wp, s);
        norm_put(s, &space, 1);
        norm_transformed(wp, s, cp);
        norm_flush_run(wp, s);
        norm_put(s, &space, 1);
        break;
    default: norm_transformed(wp, s, cp);
    }
}

const unsigned char *tc_wordpiece_normalize(const tc_wordpiece *wp, tc_wordpiece_scratch *s, const char *text,
                                            size_t len, size_t *out_len) {
    s->norm_len = s->run_n = 0;
    s->norm_failed = 0;
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    while (p < end) {
        uint32_t cp;
        int n = tc_utf8_decode(p, (size_t)(end - p), &cp);
        if (!n) {  // invalid UTF-8: removed, as in the fast path
            p++;
            continue;
        }
        if (cp < 0x80) {
            int kind = wp->ascii_kind[cp] & ~TC_KIND_SPECIAL;
            unsigned char lower = wp->ascii_lower[cp];
            norm_char(wp, s, kind, cp, kind == TC_BERT_WORD ? &lower : p, 1);
        } else {
            int kind = cp < 0x10000 ? wp->bmp_kind[cp] : tc_bert_kind(cp, &wp->info.mode);
            norm_char(wp, s, kind, cp, p, (size_t)n);
        }
        p += n;
    }
    norm_flush_run(wp, s);
    if (norm_put(s, (const unsigned char *)"", 0) || s->norm_failed) return NULL;
    *out_len = s->norm_len;
    return s->norm;
}

static void special_token(tokenizing *t, const unsigned char *text, size_t len, int32_t id) {
    if (t->on_word) t->on_word(t->context, (const char *)text, len, len, 1);
    else emit(t, id);
}

// A stretch without raw special tokens: normalized, then cut at the
// normalized added tokens; the pieces between are normalized text, which
// normalizing again leaves as it is.
static void tokenize_normalized(tokenizing *t, const unsigned char *text, size_t len) {
    const tc_wordpiece *wp = t->wp;
    size_t n;
    const unsigned char *norm = tc_wordpiece_normalize(wp, t->s, (const char *)text, len, &n);
    if (!norm) {  // out of memory for the normalized copy: the text without that search
        tokenizing plain = *t;
        plain.raw_only = 1;
        tokenize_plain(&plain, (const char *)text, len);
        t->n = plain.n;
        return;
    }
    tokenizing sub = *t;
    sub.raw_only = 1;
    const unsigned char *piece = norm, *q = norm, *end = norm + n;
    while (q < end && sub.n < sub.max) {
        int32_t id = -1;
        size_t m = (*q & 0xc0) == 0x80 ? 0 : special_at(wp->normalized, wp->n_normalized, q, (size_t)(end - q), &id);
        if (!m) {
            q++;
            continue;
        }
        tokenize_plain(&sub, (const char *)piece, (size_t)(q - piece));
        if (sub.n < sub.max) special_token(&sub, q, m, id);
        q += m;
        piece = q;
    }
    if (sub.n < sub.max) tokenize_plain(&sub, (const char *)piece, (size_t)(end - piece));
    t->n = sub.n;
}

// A stretch that may hold a normalized added token: the raw special tokens
// first, then each piece between them.
static void tokenize_stretch(tokenizing *t, const unsigned char *text, size_t len) {
    const tc_wordpiece *wp = t->wp;
    const unsigned char *piece = text, *q = text, *end = text + len;
    while (q < end && t->n < t->max) {
        int32_t id = -1;
        size_t m = wp->special_first[*q] ? special_at(wp->special, wp->n_special, q, (size_t)(end - q), &id) : 0;
        if (!m) {
            q++;
            continue;
        }
        tokenize_normalized(t, piece, (size_t)(q - piece));
        if (t->n < t->max) special_token(t, q, m, id);
        q += m;
        piece = q;
    }
    if (t->n < t->max) tokenize_normalized(t, piece, (size_t)(end - piece));
}

static inline int ascii_space(unsigned char b) { return b == ' ' || b == '\t' || b == '\n' || b == '\r'; }

// With normalized added tokens, the text goes stretch by stretch (cut after
// spaces, where no token can span): only a stretch with a byte that may
// begin one is normalized apart; the others take the fast path.
static void tokenize_text(tokenizing *t, const char *text, size_t len) {
    const tc_wordpiece *wp = t->wp;
    if (!wp->n_normalized) {
        tokenize_plain(t, text, len);
        return;
    }
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    while (p < end && t->n < t->max) {
        const unsigned char *q = p;
        int trigger = 0;
        while (q < end && (wp->special_spaces || !ascii_space(*q))) trigger |= wp->normalized_trigger[*q++];
        if (q < end) q++;
        if (trigger) tokenize_stretch(t, p, (size_t)(q - p));
        else tokenize_plain(t, (const char *)p, (size_t)(q - p));
        p = q;
    }
}

size_t tc_wordpiece_tokenize(const tc_wordpiece *wp, tc_wordpiece_scratch *s, const char *text, size_t len,
                             int32_t *ids, size_t max_ids) {
    tokenizing t = {wp, s, ids, 0, max_ids, NULL, NULL, 0};
    tokenize_text(&t, text, len);
    return t.n;
}

void tc_wordpiece_words(const tc_wordpiece *wp, tc_wordpiece_scratch *s, const char *text, size_t len,
                        tc_wordpiece_word_fn *on_word, void *context) {
    tokenizing t = {wp, s, NULL, 0, SIZE_MAX, on_word, context, 0};
    tokenize_text(&t, text, len);
}

int tc_wordpiece_encode(const tc_wordpiece *wp, tc_wordpiece_scratch *s, const char *text, size_t len,
                        int32_t *row, int max_len) {
    const tc_wordpiece_info *info = &wp->info;
    size_t n = max_len > 2 ? tc_wordpiece_tokenize(wp, s, text, len, row + 1, (size_t)max_len - 2) : 0;
    row[0] = info->cls_id;
    row[n + 1] = info->sep_id;
    for (size_t i = n + 2; i < (size_t)max_len; i++) row[i] = info->pad_id;
    return (int)n + 2;
}
