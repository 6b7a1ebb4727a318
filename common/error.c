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
