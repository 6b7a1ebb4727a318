#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MESSAGE_MAX = 1024 };
static _Thread_local char error_message[MESSAGE_MAX];

int tc_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_message, sizeof error_message, fmt, ap);
    va_end(ap);
    return -1;
}

int tc_fail_context(const char *fmt, ...) {
    char context[MESSAGE_MAX], old[MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof context, fmt, ap);
    va_end(ap);
    // The readers name their file already ("F: byte 12: ..."): adding the
    // same context again would print "F: F: byte 12: ...".
    size_t n = strlen(context);
    if (n && !strncmp(error_message, context, n) && error_message[n] == ':') return -1;
    memcpy(old, error_message, sizeof old);
    snprintf(error_message, sizeof error_message, "%s: %s", context, old);
    return -1;
}

const char *tc_error(void) { return error_message; }

void tc_error_set(const char *message) {
    snprintf(error_message, sizeof error_message, "%s", message);
}

void *tc_malloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (!p) tc_fail("out of memory (allocating %zu bytes)", size);
    return p;
}

void *tc_calloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) tc_fail("out of memory (allocating %zu x %zu bytes)", count, size);
    return p;
}

void *tc_realloc(void *p, size_t size) {
    void *q = realloc(p, size ? size : 1);
    if (!q) tc_fail("out of memory (allocating %zu bytes)", size);
    return q;
}

void *tc_malloc_array(size_t count, size_t size) {
    if (size && count > (size_t)-1 / size) {
        tc_fail("out of memory (%zu x %zu bytes overflows)", count, size);
        return NULL;
    }
    return tc_malloc(count * size);
}

// Length of the valid UTF-8 sequence at s (1-4), or 0 if it is not one or
// it encodes a C1 control character (U+0080-U+009F), which terminals obey.
static size_t printable_utf8_length(const unsigned char *s) {
    size_t n;
    unsigned min;
    unsigned code;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) n = 2, min = 0xa0, code = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef) n = 3, min = 0x800, code = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) n = 4, min = 0x10000, code = s[0] & 0x07;
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        code = (code << 6) | (s[i] & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
    return n;
}

char *tc_escape(char *out, size_t out_size, const char *text) {
    if (out_size == 0) return out;
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    size_t used = 0;
    const size_t reserve = 4;  // "..." and the NUL
    while (*s) {
        char piece[8];
        size_t n, skip;
        if (*s >= 0x20 && *s < 0x7f) piece[0] = (char)*s, n = 1, skip = 1;
        else if (*s == '\t') memcpy(piece, "\\t", 2), n = 2, skip = 1;
        else if (*s == '\n') memcpy(piece, "\\n", 2), n = 2, skip = 1;
        else if (*s == '\r') memcpy(piece, "\\r", 2), n = 2, skip = 1;
        else if (*s >= 0x80 && (skip = printable_utf8_length(s)) > 0) memcpy(piece, s, skip), n = skip;
        else n = (size_t)snprintf(piece, sizeof piece, "\\x%02x", *s), skip = 1;
        if (used + n + reserve > out_size) {
            if (out_size >= reserve) memcpy(out + used, "...", 3), used += 3;
            break;
        }
        memcpy(out + used, piece, n);
        used += n;
        s += skip;
    }
    out[used < out_size ? used : out_size - 1] = '\0';
    return out;
}

// Length of the printable piece at s that stays as it is (0: it is escaped).
static size_t printable_length(const unsigned char *s) {
    if (*s >= 0x20 && *s < 0x7f) return 1;
    return *s >= 0x80 ? printable_utf8_length(s) : 0;
}

const char *tc_unprintable(const char *text) {
    const unsigned char *s = (const unsigned char *)text;
    for (size_t n; *s; s += n)
        if (!(n = printable_length(s))) return (const char *)s;
    return NULL;
}

int tc_fputs_escaped(const char *text, FILE *f) {
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        size_t n = 0;
        while (s[n]) {
            size_t k = printable_length(s + n);
            if (!k) break;
            n += k;
        }
        fwrite(s, 1, n, f);
        s += n;
        if (!*s) break;
        char piece[8];
        tc_escape(piece, sizeof piece, (const char[]){(char)*s, 0});
        fputs(piece, f);
        s++;
    }
    return ferror(f) ? -1 : 0;
}
