#include "common/text/bert_normalizer.h"
#include "common/text/bert_unicode_compat.h"

#include <stdio.h>
#include <string.h>
#include <utf8proc.h>

#define COUNT(a) (sizeof(a) / sizeof *(a))

// tokenizers' value of a property where it differs from utf8proc's, or -1.
static int override(const tc_bert_override *ranges, size_t n, uint32_t cp) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ranges[mid].last < cp) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && ranges[lo].first <= cp ? ranges[lo].value : -1;
}
#define OVERRIDE(table, cp) override(table, COUNT(table), cp)

static const tc_bert_mapping *find_mapping(const tc_bert_mapping *table, size_t n, uint32_t cp) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (table[mid].cp < cp) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && table[lo].cp == cp ? &table[lo] : NULL;
}

int tc_bert_removed(uint32_t cp) {
    if (cp == 0 || cp == 0xfffd) return 1;
    if (cp == '\t' || cp == '\n' || cp == '\r') return 0;
    int o = OVERRIDE(tc_bert_other_overrides, cp);
    if (o >= 0) return o;
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_CS ||
           c == UTF8PROC_CATEGORY_CO;
}

// Rust's char::is_whitespace is the White_Space property: the separators
// (Zs, Zl, Zp) plus U+0009..U+000D and U+0085.
int tc_bert_whitespace(uint32_t cp) {
    if ((cp >= 9 && cp <= 13) || cp == 0x85) return 1;
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

// BERT counts all non-alphanumeric printable ASCII as punctuation, even
// characters Unicode files as symbols ($, +, <, ^, `, |, ~).
int tc_bert_punct(uint32_t cp) {
    if (cp < 0x80) return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
                          (cp >= 123 && cp <= 126);
    int o = OVERRIDE(tc_bert_punct_overrides, cp);
    if (o >= 0) return o;
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

int tc_bert_mark(uint32_t cp) {
    int o = OVERRIDE(tc_bert_mark_overrides, cp);
    if (o >= 0) return o;
    return utf8proc_category((utf8proc_int32_t)cp) == UTF8PROC_CATEGORY_MN;
}

// The blocks BERT's reference implementation calls Chinese characters.
int tc_bert_cjk(uint32_t cp) {
    return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
           (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) ||
           (cp >= 0x2b920 && cp <= 0x2ceaf) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

int tc_bert_combining_class(uint32_t cp) {
    return utf8proc_get_property((utf8proc_int32_t)cp)->combining_class;
}

int tc_bert_decompose(uint32_t cp, uint32_t out[TC_BERT_MAX_DECOMPOSITION]) {
    const tc_bert_mapping *m = find_mapping(tc_bert_decomposition, COUNT(tc_bert_decomposition), cp);
    if (m) {
        for (int i = 0; i < m->n; i++) out[i] = m->to[i];
        return m->n;
    }
    utf8proc_int32_t buf[TC_BERT_MAX_DECOMPOSITION];
    int boundclass = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)cp, buf, TC_BERT_MAX_DECOMPOSITION,
                                                 UTF8PROC_DECOMPOSE, &boundclass);
    if (n < 1 || n > TC_BERT_MAX_DECOMPOSITION) {  // not expected from Unicode data; keep the character
        buf[0] = (utf8proc_int32_t)cp;
        n = 1;
    }
    int k = 0;
    for (utf8proc_ssize_t i = 0; i < n; i++)
        if (!tc_bert_mark((uint32_t)buf[i])) out[k++] = (uint32_t)buf[i];
    return k;
}

int tc_bert_lowercase(uint32_t cp, uint32_t out[TC_BERT_MAX_LOWERCASE]) {
    const tc_bert_mapping *m = find_mapping(tc_bert_lowercase_map, COUNT(tc_bert_lowercase_map), cp);
    if (m) {
        for (int i = 0; i < m->n; i++) out[i] = m->to[i];
        return m->n;
    }
    out[0] = (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
    return 1;
}

int tc_bert_kind(uint32_t cp, const tc_bert_mode *mode) {
    if (tc_bert_removed(cp)) return TC_BERT_DROP;
    if (tc_bert_whitespace(cp)) return TC_BERT_SPACE;
    if (mode->chinese_chars && tc_bert_cjk(cp)) return TC_BERT_CJK;
    if (mode->strip_accents) {
        uint32_t d[TC_BERT_MAX_DECOMPOSITION];
        int n = tc_bert_decompose(cp, d);
        if (n == 0) return TC_BERT_DROP;
        if (n > 1 || d[0] != cp || tc_bert_combining_class(cp) != 0) return TC_BERT_SLOW;
    }
    if (mode->lowercase) {
        uint32_t l[TC_BERT_MAX_LOWERCASE];
        if (tc_bert_lowercase(cp, l) != 1 || l[0] != cp) return TC_BERT_SLOW;
    }
    return tc_bert_punct(cp) ? TC_BERT_PUNCT_CHAR : TC_BERT_WORD;
}

const char *tc_bert_unicode_mismatch(void) {
    static char line[160];
    const char *have = utf8proc_unicode_version();
    if (!strcmp(have, TC_BERT_COMPAT_UNICODE)) return NULL;
    snprintf(line, sizeof line, "utf8proc has Unicode %s, the tokenizers corrections were made with Unicode %s", have,
             TC_BERT_COMPAT_UNICODE);
    return line;
}
