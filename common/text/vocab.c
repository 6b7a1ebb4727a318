#include "common/error.h"
#include "common/text/wordpiece_internal.h"
#include "formats/tct.h"

#include <stdlib.h>
#include <string.h>

// Rust's str::trim_end removes trailing White_Space characters.
static size_t trimmed_length(const char *s, size_t len) {
    while (len > 0) {
        size_t start = len - 1;
        while (start > 0 && ((unsigned char)s[start] & 0xc0) == 0x80 && len - start < 4) start--;
        uint32_t cp = 0;
        int n = tc_utf8_decode((const unsigned char *)s + start, len - start, &cp);
        if (n != (int)(len - start) || !tc_bert_whitespace(cp)) break;
        len = start;
    }
    return len;
}

// Inserts id under its key (a "##" token under its piece); a key seen
// before now maps to the later id.
static void insert(tc_vocab *v, uint32_t id) {
    const char *t = v->bytes + v->offsets[id];
    size_t len = v->offsets[id + 1] - v->offsets[id] - 1;
    int piece = len >= 2 && t[0] == '#' && t[1] == '#';
    uint64_t h = TC_VOCAB_HASH_INIT;
    if (piece) {
        h = tc_vocab_hash_step(tc_vocab_hash_step(h, '#'), '#');
        t += 2;
        len -= 2;
    }
    for (size_t i = 0; i < len; i++) h = tc_vocab_hash_step(h, (unsigned char)t[i]);
    unsigned char head[8] = {0};
    memcpy(head, t, len < 8 ? len : 8);
    uint32_t tag = tc_vocab_tag(h, len, piece);
    uint64_t head_bits = tc_vocab_head(head, len);
    int32_t found = len >= 8 ? tc_vocab_find(v, h, (const unsigned char *)t, len, piece)
                             : tc_vocab_find_short(v, h, head, len, piece);
    size_t at = (size_t)((h * 0x9e3779b97f4a7c15ull) >> v->shift);
    while (v->slots[at].id >= 0 && v->slots[at].id != found) at = (at + 1) & v->mask;
    v->slots[at] = (tc_vocab_slot){head_bits, tag, (int32_t)id};
}

static void note_length(tc_vocab *v, const char *t, size_t len) {
    if (len >= 2 && t[0] == '#' && t[1] == '#') {
        if (len - 2 > v->max_piece_bytes) v->max_piece_bytes = len - 2;
    } else if (len > v->max_word_bytes) {
        v->max_word_bytes = len;
    }
}

static int count_lines(const char *text, size_t size, size_t *lines) {
    size_t n = 0;
    for (const char *p = text, *end = text + size; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        n++;
        p = nl ? nl + 1 : end;
    }
    if (n >= UINT32_MAX / 4) return tc_fail("too many lines (%zu)", n);
    *lines = n;
    return 0;
}

int tc_vocab_parse(tc_vocab *v, const char *text, size_t size, const char *where) {
    memset(v, 0, sizeof *v);
    if (!tct_utf8_valid(text, size)) return tc_fail("%s: not valid UTF-8", where);
    size_t n = 0;
    if (count_lines(text, size, &n)) return tc_fail_context("%s", where);
    if (n == 0) return tc_fail("%s: empty vocabulary", where);
    v->n = n;
    v->bytes = tc_malloc(size + n + 1);
    v->offsets = tc_malloc_array(n + 1, sizeof *v->offsets);
    size_t slots = 16;
    int bits = 4;
    while (slots < 2 * n) slots <<= 1, bits++;
    v->slots = tc_malloc_array(slots, sizeof *v->slots);
    if (!v->bytes || !v->offsets || !v->slots) {
        tc_vocab_free(v);
        return -1;
    }
    for (size_t i = 0; v->slots && i < slots; i++) v->slots[i].id = -1;
    v->mask = (uint32_t)(slots - 1);
    v->shift = 64 - bits;
    size_t at = 0, id = 0;
    for (const char *p = text, *end = text + size; p < end; id++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        len = trimmed_length(p, len);  // also drops the \r of a CRLF line
        v->offsets[id] = (uint32_t)at;
        memcpy(v->bytes + at, p, len);
        v->bytes[at + len] = 0;
        note_length(v, p, len);
        at += len + 1;
        p = nl ? nl + 1 : end;
    }
    v->offsets[n] = (uint32_t)at;
    for (uint32_t i = 0; i < n; i++) insert(v, i);
    return 0;
}

void tc_vocab_free(tc_vocab *v) {
    free(v->bytes);
    free(v->offsets);
    free(v->slots);
    memset(v, 0, sizeof *v);
}
