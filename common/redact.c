#include "common/redact.h"

#include <ctype.h>
#include <string.h>

typedef struct {
    char *out;
    size_t size, at;  // `at` counts what would be written, as snprintf does
} sink;

static void put(sink *s, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++, s->at++)
        if (s->at + 1 < s->size) s->out[s->at] = p[i];
}

int tc_secret_parameter(const char *name, size_t len) {
    static const char *const words[] = {"key", "token", "secret", "pass", "auth", "sig", "credential", "session"};
    char lower[64];
    if (len >= sizeof lower) len = sizeof lower - 1;
    for (size_t i = 0; i < len; i++) lower[i] = (char)tolower((unsigned char)name[i]);
    lower[len] = 0;
    for (size_t w = 0; w < sizeof words / sizeof *words; w++)
        if (strstr(lower, words[w])) return 1;
    return 0;
}

// Where a URL ends: at a space, a quote or an angle bracket (the ways text
// around a URL delimits it), or at the end.
static size_t url_length(const char *p) {
    size_t n = 0;
    while (p[n] && !isspace((unsigned char)p[n]) && !strchr("\"'<>`", p[n])) n++;
    return n;
}

// name=value pairs separated by & or ;, the values of secret names masked.
static void put_parameters(sink *s, const char *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && p[end] != '&' && p[end] != ';') end++;
        const char *eq = memchr(p + i, '=', end - i);
        if (eq && eq + 1 < p + end && tc_secret_parameter(p + i, (size_t)(eq - (p + i)))) {
            put(s, p + i, (size_t)(eq + 1 - (p + i)));
            put(s, "***", 3);
        } else {
            put(s, p + i, end - i);
        }
        if (end < n) put(s, p + end, 1);
        i = end + 1;
    }
}

// The URL at p (n bytes, from just after "://"), masked.
static void put_url_rest(sink *s, const char *p, size_t n) {
    size_t host_end = 0;
    while (host_end < n && !strchr("/?#", p[host_end])) host_end++;
    const char *at = NULL;
    for (size_t i = 0; i < host_end; i++)
        if (p[i] == '@') at = p + i;
    size_t i = 0;
    if (at && at > p) {
        put(s, "***", 3);
        i = (size_t)(at - p);
    }
    size_t query = i;
    while (query < n && p[query] != '?' && p[query] != '#') query++;
    put(s, p + i, query - i);
    while (query < n) {  // "?query" then "#fragment", or either
        size_t end = query + 1;
        while (end < n && p[end] != '#') end++;
        put(s, p + query, 1);
        put_parameters(s, p + query + 1, end - query - 1);
        query = end;
    }
}

char *tc_redact_urls(char *out, size_t out_size, const char *text) {
    sink s = {out, out_size, 0};
    const char *p = text ? text : "";
    for (;;) {
        const char *mark = strstr(p, "://");
        if (!mark) break;
        const char *scheme = mark;
        while (scheme > p && (isalnum((unsigned char)scheme[-1]) || strchr("+.-", scheme[-1]))) scheme--;
        if (scheme == mark) {  // "://" with no scheme before it: not a URL
            put(&s, p, (size_t)(mark + 3 - p));
            p = mark + 3;
            continue;
        }
        put(&s, p, (size_t)(mark + 3 - p));
        size_t n = url_length(mark + 3);
        put_url_rest(&s, mark + 3, n);
        p = mark + 3 + n;
    }
    put(&s, p, strlen(p));
    if (out_size) out[s.at < out_size ? s.at : out_size - 1] = 0;
    return out;
}
