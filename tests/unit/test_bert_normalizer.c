// BERT normalization and pre-tokenization, character by character: the
// properties one at a time, then every code point against Hugging Face
// tokenizers (tests/golden/bert_normalizer_codepoints.txt.zst).
#include "tests/harness.h"
#include "common/text/bert_normalizer.h"
#include "common/text/wordpiece.h"

#include <stdint.h>
#include <zstd.h>

static void test_cleaning(void) {
    uint32_t removed[] = {0x0000, 0xfffd, 0x0001, 0x000b, 0x000c, 0x007f, 0x0085, 0x00ad, 0x200b,
                          0x200d, 0x2060, 0xfeff, 0xe000, 0xf8ff, 0x10fffd, 0xe0067};
    for (size_t i = 0; i < sizeof removed / sizeof *removed; i++)
        CHECKF(tc_bert_removed(removed[i]), "U+%04X should be removed", removed[i]);
    // \t \n \r become spaces; unassigned code points are kept; format
    // characters newer than tokenizers' tables are kept too.
    uint32_t kept[] = {'\t', '\n', '\r', 'a', ' ', 0x0378, 0x1ffff, 0xffff, 0x0890, 0x08e2, 0x110cd, 0x13430};
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
        CHECKF(!tc_bert_removed(kept[i]), "U+%04X should be kept", kept[i]);
}

static void test_whitespace(void) {
    uint32_t space[] = {'\t', '\n', 0x0b, 0x0c, '\r', ' ', 0x85, 0xa0, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000};
    for (size_t i = 0; i < sizeof space / sizeof *space; i++)
        CHECKF(tc_bert_whitespace(space[i]), "U+%04X should be whitespace", space[i]);
    uint32_t not_space[] = {0x200b, 0x180e, 0x1c, 0x1f, 'x', 0xfeff};
    for (size_t i = 0; i < sizeof not_space / sizeof *not_space; i++)
        CHECKF(!tc_bert_whitespace(not_space[i]), "U+%04X should not be whitespace", not_space[i]);
}

static void test_punctuation(void) {
    // every printable non-alphanumeric ASCII character, symbols included
    for (uint32_t c = 33; c < 127; c++) {
        int alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        CHECKF(tc_bert_punct(c) == !alnum, "ASCII %u", c);
    }
    CHECK(tc_bert_punct(0xbf) && tc_bert_punct(0x2014) && tc_bert_punct(0x3002) && tc_bert_punct(0xff01));
    CHECK(!tc_bert_punct(0x20ac) && !tc_bert_punct(0x00b0) && !tc_bert_punct(' '));  // symbols outside ASCII are not
    CHECK(!tc_bert_punct(0x2e52) && !tc_bert_punct(0x061d));  // punctuation newer than tokenizers' tables
    CHECK(tc_bert_punct(0x166d));                             // a symbol now, punctuation then
}

static void test_marks_and_cjk(void) {
    CHECK(tc_bert_mark(0x0301) && tc_bert_mark(0x0e31) && tc_bert_mark(0xfe0f));
    CHECK(!tc_bert_mark(0x0903) && !tc_bert_mark('a'));
    CHECK(!tc_bert_mark(0x1ac0) && tc_bert_mark(0x1734));  // tokenizers' older categories
    CHECK(tc_bert_cjk(0x4e00) && tc_bert_cjk(0x9fff) && tc_bert_cjk(0x3400) && tc_bert_cjk(0xf900));
    CHECK(tc_bert_cjk(0x20000) && tc_bert_cjk(0x2b81f) && tc_bert_cjk(0x2fa1f));
    CHECK(!tc_bert_cjk(0x4dc0) && !tc_bert_cjk(0xa000) && !tc_bert_cjk(0x2b820) && !tc_bert_cjk(0x3042) &&
          !tc_bert_cjk(0xac00) && !tc_bert_cjk(0x30000));
}

static void test_lowercase_and_decompose(void) {
    uint32_t out[8];
    CHECK(tc_bert_lowercase(0x130, out) == 2 && out[0] == 'i' && out[1] == 0x307);  // İ: the full mapping
    CHECK(tc_bert_lowercase(0x3a3, out) == 1 && out[0] == 0x3c3);  // Σ: no final-sigma context
    CHECK(tc_bert_lowercase(0x1e9e, out) == 1 && out[0] == 0xdf);
    CHECK(tc_bert_lowercase(0xa7cb, out) == 1 && out[0] == 0x264);  // newer than utf8proc's data
    CHECK(tc_bert_lowercase('a', out) == 1 && out[0] == 'a');
    CHECK(tc_bert_decompose(0xe9, out) == 1 && out[0] == 'e');
    CHECK(tc_bert_decompose(0xac00, out) == 2 && out[0] == 0x1100 && out[1] == 0x1161);  // Hangul
    CHECK(tc_bert_decompose(0x1e69, out) == 1 && out[0] == 's');
    CHECK(tc_bert_decompose(0x0344, out) == 0);  // all marks
    CHECK(tc_bert_decompose(0xfb01, out) == 1 && out[0] == 0xfb01);  // compatibility forms stay
    CHECK(tc_bert_decompose(0x11938, out) == 1 && out[0] == 0x11938);
    CHECK(tc_bert_combining_class(0x0301) == 230 && tc_bert_combining_class('a') == 0);
}

static void test_unicode_version(void) {
    // the corrections in bert_unicode_compat.h are exact for this utf8proc
    const char *mismatch = tc_bert_unicode_mismatch();
    CHECKF(mismatch == NULL, "%s (rerun scripts/make_bert_unicode_compat.py)", mismatch ? mismatch : "");
}

static void test_utf8(void) {
    uint32_t cp;
    CHECK(tc_utf8_decode((const unsigned char *)"\xc3\xa9", 2, &cp) == 2 && cp == 0xe9);
    CHECK(tc_utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp) == 4 && cp == 0x1f600);
    CHECK(tc_utf8_decode((const unsigned char *)"\xc0\xaf", 2, &cp) == 0);          // overlong
    CHECK(tc_utf8_decode((const unsigned char *)"\xe0\x80\xaf", 3, &cp) == 0);      // overlong
    CHECK(tc_utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &cp) == 0);      // surrogate
    CHECK(tc_utf8_decode((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp) == 0);  // > U+10FFFF
    CHECK(tc_utf8_decode((const unsigned char *)"\xe2\x82", 2, &cp) == 0);          // truncated
    CHECK(tc_utf8_decode((const unsigned char *)"\xe2\x82\xac", 2, &cp) == 0);      // cut by the length
    CHECK(tc_utf8_decode((const unsigned char *)"\x80", 1, &cp) == 0);
    unsigned char buf[4];
    uint32_t samples[] = {0, 0x7f, 0x80, 0x7ff, 0x800, 0xffff, 0x10000, 0x10ffff};
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        int n = tc_utf8_encode(samples[i], buf);
        CHECKF(tc_utf8_decode(buf, (size_t)n, &cp) == n && cp == samples[i], "round trip U+%04X", samples[i]);
    }
}

// ---------------------------------------------------------------- every code point

static char *read_zstd(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    ZSTD_DStream *z = ZSTD_createDStream();
    size_t cap = 1 << 20, n = 0;
    char *out = malloc(cap), in[1 << 16];
    size_t got, rc = 0;
    while (out && (got = fread(in, 1, sizeof in, f)) > 0 && !ZSTD_isError(rc)) {
        ZSTD_inBuffer ib = {in, got, 0};
        while (ib.pos < ib.size && !ZSTD_isError(rc)) {
            if (cap - n < (1 << 16)) out = realloc(out, cap *= 2);
            if (!out) break;
            ZSTD_outBuffer ob = {out + n, cap - n - 1, 0};
            rc = ZSTD_decompressStream(z, &ob, &ib);
            n += ob.pos;
        }
    }
    ZSTD_freeDStream(z);
    fclose(f);
    if (!out || ZSTD_isError(rc)) {
        free(out);
        return NULL;
    }
    out[n] = 0;
    *size = n;
    return out;
}

typedef struct {
    char text[1024];
    size_t n;
    uint32_t cp;
} words_text;

// Words as the golden writes them: code points in hex joined by '.', '='
// for the code point under test, words separated by spaces.
static void collect_word(void *context, const char *word, size_t len, size_t chars, int special) {
    (void)chars;
    (void)special;
    words_text *w = context;
    if (w->n) w->text[w->n++] = ' ';
    const unsigned char *p = (const unsigned char *)word;
    for (size_t i = 0; i < len && w->n < sizeof w->text - 16;) {
        uint32_t cp = 0xdead;
        int k = tc_utf8_decode(p + i, len - i, &cp);
        if (k == 0) k = 1;
        if (i) w->text[w->n++] = '.';
        if (cp == w->cp) w->text[w->n++] = '=';
        else w->n += (size_t)snprintf(w->text + w->n, sizeof w->text - w->n, "%x", cp);
        i += (size_t)k;
    }
    w->text[w->n] = 0;
}

static int check_codepoint(tc_wordpiece *const wp[4], tc_wordpiece_scratch *s, uint32_t cp, char *const want[4],
                           int *reported) {
    unsigned char text[8] = {'a'};
    int n = tc_utf8_encode(cp, text + 1);
    text[n + 1] = 'b';
    int ok = 1;
    for (int m = 0; m < 4; m++) {
        words_text w = {.n = 0, .cp = cp};
        w.text[0] = 0;
        tc_wordpiece_words(wp[m], s, (const char *)text, (size_t)n + 2, collect_word, &w);
        if (strcmp(w.text, want[m])) {
            if ((*reported)++ < 10) printf("  U+%04X mode %d: got '%s', tokenizers '%s'\n", cp, m, w.text, want[m]);
            ok = 0;
        }
    }
    return ok;
}

// Plain builds check every code point; sanitizer builds (several times
// slower) every code point of short ranges and 257 spread over long ones.
static void test_every_codepoint(void) {
    const char *root = getenv("TC_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/golden/bert_normalizer_codepoints.txt.zst", root ? root : ".");
    size_t size;
    char *golden = read_zstd(path, &size);
    REQUIRE(golden);
    int sampled = getenv("TC_SANITIZE") && !strcmp(getenv("TC_SANITIZE"), "1");
    tc_bert_mode modes[4] = {{1, 1, 1}, {0, 0, 1}, {1, 0, 1}, {0, 1, 1}};
    tc_wordpiece *wp[4] = {0};
    const char *vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
    int failed = 0;
    for (int m = 0; m < 4; m++) failed |= tc_wordpiece_open_buffer(&wp[m], vocab, strlen(vocab), &modes[m], "vocab");
    REQUIRE(!failed);
    tc_wordpiece_scratch *s = tc_wordpiece_scratch_new();
    size_t checked = 0, bad = 0;
    uint32_t next = 0;
    int reported = 0;
    for (char *line = strtok(golden, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        char *fields[6];
        int nf = 0;
        // fields may be empty: split on tabs by hand
        for (char *p = line; nf < 6; nf++) {
            fields[nf] = p;
            char *tab = strchr(p, '\t');
            if (!tab) {
                nf++;
                break;
            }
            *tab = 0;
            p = tab + 1;
        }
        REQUIRE(nf == 6);
        uint32_t first = (uint32_t)strtoul(fields[0], NULL, 16), last = (uint32_t)strtoul(fields[1], NULL, 16);
        CHECKF(first == next || (next == 0xd800 && first == 0xe000), "golden ranges not contiguous at %x", first);
        next = last + 1;
        uint64_t span = (uint64_t)last - first, step = sampled && span > 256 ? span / 256 : 1;
        for (uint64_t k = 0; k <= span; k += step) {
            bad += !check_codepoint(wp, s, first + (uint32_t)k, fields + 2, &reported);
            checked++;
        }
        if (step > 1) bad += !check_codepoint(wp, s, last, fields + 2, &reported), checked++;
    }
    CHECKF(next == 0x110000, "golden ends at %x", next);
    CHECKF(bad == 0, "%zu of %zu code points differ from tokenizers", bad, checked);
    CHECK(checked > (sampled ? 10000u : 1100000u));
    for (int m = 0; m < 4; m++) tc_wordpiece_close(wp[m]);
    tc_wordpiece_scratch_free(s);
    free(golden);
}

// Canonical reordering and mark runs: combining characters that are not
// nonspacing marks are never spaces or punctuation (the tokenizer relies on
// it to bound the run it holds back).
static void test_combining_characters_stay_in_words(void) {
    int bad = 0;
    for (uint32_t cp = 0; cp < 0x110000; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff) continue;
        if (tc_bert_combining_class(cp) == 0) continue;
        if (tc_bert_punct(cp) || tc_bert_whitespace(cp) || tc_bert_removed(cp)) bad++;
    }
    CHECKF(bad == 0, "%d combining characters are spaces, punctuation or removed", bad);
}

int main(void) {
    RUN(test_cleaning);
    RUN(test_whitespace);
    RUN(test_punctuation);
    RUN(test_marks_and_cjk);
    RUN(test_lowercase_and_decompose);
    RUN(test_utf8);
    RUN(test_unicode_version);
    RUN(test_combining_characters_stay_in_words);
    RUN(test_every_codepoint);
    HARNESS_EXIT();
}
