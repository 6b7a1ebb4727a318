// Error reporting shared by the library and the programs.
//
// Library functions return 0 on success and -1 on failure; before failing
// they record one line of text with tc_fail(). A program then prints
//   tc-NAME: FILE: <that line>
// and exits 1. The message lives in thread-local storage, so worker threads
// can fail independently; it stays valid until the same thread fails again.
#ifndef TC_ERROR_H
#define TC_ERROR_H

#include <stddef.h>
#include <stdio.h>

#if defined(__GNUC__)
#define TC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TC_PRINTF(a, b)
#endif

// Records the message (printf-style) and returns -1, so that
// `return tc_fail("bad dtype %d", d);` is the usual way out.
int tc_fail(const char *fmt, ...) TC_PRINTF(1, 2);

// Prefixes the current message with more context: "CONTEXT: old message",
// unless the message begins with "CONTEXT:" already (a reader's message
// names its file), so that a file is named once however many layers add it.
int tc_fail_context(const char *fmt, ...) TC_PRINTF(1, 2);

// The last message recorded on this thread ("" if none).
const char *tc_error(void);

// Copies the calling thread's message into another thread's reach:
// tc_error_set(msg) records msg as this thread's error.
void tc_error_set(const char *message);

// Copies `text` into out[out_size] (always NUL-terminated, cut short with
// "..." if it does not fit) with everything that could act on a terminal or
// break a one-line message escaped: control characters as \t, \n, \r or
// \xNN, C1 controls and bytes that are not UTF-8 as \xNN. Returns out.
// Every message the programs print passes through it, so names and server
// replies inside a message cannot move the cursor or split the line.
char *tc_escape(char *out, size_t out_size, const char *text);
// The first byte of text that tc_escape would change, or NULL when text
// prints as it is: what a name that reaches outputs must not hold.
const char *tc_unprintable(const char *text);
// Writes text to f escaped as tc_escape does, at any length (outputs meant
// to be read: tables, trees). Returns 0, or -1 if f has an error.
int tc_fputs_escaped(const char *text, FILE *f);

// Allocation that records "out of memory" on failure.
void *tc_malloc(size_t size);
void *tc_calloc(size_t count, size_t size);
void *tc_realloc(void *p, size_t size);
// Overflow-checked count*size for arrays; returns NULL and records the error.
void *tc_malloc_array(size_t count, size_t size);

#endif
