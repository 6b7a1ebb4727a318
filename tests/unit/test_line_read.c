// Bounded line reading: tc_read_line refuses a line over TC_LINE_MAX,
// tc_read_document_line and tc-tokenize's stream cut it at a character
// boundary and read past the rest, all three agreeing on the text kept.
#include "tests/harness.h"
#include "common/cli/io.h"
#include "common/error.h"
#include "common/text/tokenize_stream.h"

// A temporary file holding `n` bytes of `text`, rewound.
static FILE *file_of(const char *text, size_t n) {
    FILE *f = tmpfile();
    fwrite(text, 1, n, f);
    rewind(f);
    return f;
}

// `n` bytes of "é" (2 bytes each) after `prefix`, so cuts fall inside characters.
static char *accented_line(const char *prefix, size_t n) {
    size_t p = strlen(prefix);
    char *s = malloc(n + 1);
    memcpy(s, prefix, p);
    for (size_t i = p; i < n; i++) s[i] = (i - p) % 2 ? (char)0xA9 : (char)0xC3;
    s[n] = 0;
    return s;
}

static void test_read_line_refuses_long_lines(void) {
    size_t max = TC_LINE_MAX;
    char *text = malloc(3 * max + 64);
    // exactly max bytes, then max bytes and a CR, then one byte too many
    memset(text, 'a', max);
    text[max] = '\n';
    memset(text + max + 1, 'b', max);
    memcpy(text + 2 * max + 1, "\r\n", 2);
    memset(text + 2 * max + 3, 'c', max + 1);
    memcpy(text + 3 * max + 4, "\nnext\n", 6);
    FILE *f = file_of(text, 3 * max + 10);
    char *line = NULL;
    size_t cap = 0;
    CHECK(tc_read_line(f, &line, &cap) == (long)max && line[0] == 'a' && line[max - 1] == 'a');
    CHECK(tc_read_line(f, &line, &cap) == (long)max && line[max - 1] == 'b' && line[max] == 0);
    CHECK(tc_read_line(f, &line, &cap) == -2);
    CHECKF(strstr(tc_error(), "a line longer than 1024 KiB") != NULL, "%s", tc_error());
    CHECKF(cap <= max + 2, "the buffer grew to %zu", cap);
    fclose(f);
    // short lines as getline read them: CR dropped, NUL bytes counted, a last line without newline
    f = file_of("x\r\n\ny\0z\nlast", 12);
    CHECK(tc_read_line(f, &line, &cap) == 1 && !strcmp(line, "x"));
    CHECK(tc_read_line(f, &line, &cap) == 0);
    CHECK(tc_read_line(f, &line, &cap) == 3 && line[1] == 0 && line[2] == 'z');
    CHECK(tc_read_line(f, &line, &cap) == 4 && !strcmp(line, "last"));
    CHECK(tc_read_line(f, &line, &cap) == -1);
    fclose(f);
    free(line);
    free(text);
}

static void test_document_lines_are_cut(void) {
    size_t long_len = 3 * (size_t)TC_LINE_MAX + 5;
    char *doc = accented_line("id\t", long_len);
    size_t n = long_len;
    doc = realloc(doc, n + 16);
    memcpy(doc + n, "\nid2\ttext\n", 10);
    FILE *f = file_of(doc, n + 10);
    char *line = NULL;
    size_t cap = 0;
    int cut = -1;
    long got = tc_read_document_line(f, &line, &cap, &cut);
    // "id\t" is 3 bytes: the characters after it end at even offsets from 3
    CHECKF(got == TC_LINE_MAX - 1 && cut == 1, "got %ld, cut %d", got, cut);
    CHECK(memcmp(line, doc, (size_t)got) == 0 && line[got] == 0);
    CHECK(cap <= (size_t)TC_LINE_MAX + 2);
    CHECK(tc_read_document_line(f, &line, &cap, &cut) == 8 && !strcmp(line, "id2\ttext") && cut == 0);
    CHECK(tc_read_document_line(f, &line, &cap, &cut) == -1);
    fclose(f);
    free(line);
    free(doc);
    CHECK(tc_utf8_cut("ab\xc3\xa9", 4, 3) == 2);
    CHECK(tc_utf8_cut("ab\xe2\x82\xac", 5, 4) == 2);
    CHECK(tc_utf8_cut("abc", 3, 2) == 2);
    CHECK(tc_utf8_cut("abc", 3, 5) == 3);
    CHECK(tc_utf8_cut("a\x80\x80\x80\x80", 5, 4) == 4);  // not UTF-8: cut where asked
}

typedef struct {
    FILE *f;
    tct_writer *writer;
} stream_output;

static int open_stream_output(void *context, tct_writer **writer) {
    stream_output *o = context;
    if (tct_writer_open(&o->writer, o->f, "out", NULL, 0, NULL)) return -1;
    *writer = o->writer;
    return 0;
}

// The tensor stream tc-tokenize writes for `text` (malloc'd, *size bytes),
// or NULL with the error in tc_error().
static char *tokenized(const tc_wordpiece *wp, const char *text, size_t n, size_t max_line, size_t *size,
                       tc_tokenize_counts *counts) {
    FILE *in = file_of(text, n);
    stream_output o = {tmpfile(), NULL};
    tc_tokenize_options options = {.max_len = 64, .threads = 2, .batch_docs = 7, .max_line_bytes = max_line};
    int rc = tc_tokenize_stream(wp, in, "in", open_stream_output, &o, &options, NULL, counts);
    if (o.writer && tct_writer_close(o.writer)) rc = -1;
    fclose(in);
    char *out = NULL;
    if (rc == 0) {
        *size = (size_t)ftell(o.f);
        rewind(o.f);
        out = malloc(*size);
        if (fread(out, 1, *size, o.f) != *size) rc = -1;
    }
    fclose(o.f);
    if (rc) free(out);
    return rc ? NULL : out;
}

typedef struct {
    char *text;
    size_t len, cap;
} buffer;

static void append(buffer *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        b->cap = 2 * (b->len + n + 1);
        b->text = realloc(b->text, b->cap);
    }
    memcpy(b->text + b->len, s, n);
    b->len += n;
}

// A corpus of short lines, lines just over `max` (some ending in CR, some
// cut inside a character), one of 2.5 MiB that spans read blocks and one of
// 3 MiB without a newline at the end; and the same corpus with each line cut
// as the readers cut it (a CR ending a line is dropped first).
static void corpora(size_t max, buffer *whole, buffer *cut, uint64_t *n_long) {
    *n_long = 0;
    for (int i = 0; i < 300; i++) {
        char id[32];
        int id_len = snprintf(id, sizeof id, "d%d\t", i);
        size_t len = i % 50 == 7 ? (size_t)5 << 19 : i == 299 ? (size_t)3 << 20 : (size_t)(i * 37 % 400);
        if (i == 11 || i == 16 || i == 21) len = max + (size_t)(i - 11) / 5;  // max, max + 1, max + 2, and a CR
        char *line = accented_line(id, len > (size_t)id_len ? len : (size_t)id_len);
        len = strlen(line);
        for (size_t k = (size_t)id_len; k + 12 < len; k += 61)  // words among the accents
            memcpy(line + k, i % 3 ? " hello world " : " xy\xc3\xa9 hellos ", 12 + (i % 3 == 0));
        len = strlen(line);
        int cr = i % 5 == 1 && i != 299;
        append(whole, line, len);
        if (cr) append(whole, "\r", 1);
        if (i != 299) append(whole, "\n", 1);
        *n_long += len > max;
        append(cut, line, tc_utf8_cut(line, len, max));
        append(cut, "\n", 1);
        free(line);
    }
}

static void test_tokenize_cuts_like_the_readers(void) {
    static const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\nxy\n\xc3\xa9\n##\xc3\xa9\n";
    tc_wordpiece *wp = NULL;
    REQUIRE(tc_wordpiece_open_buffer(&wp, vocab, strlen(vocab), &(tc_bert_mode){0, 0, 1}, "vocab") == 0);
    size_t max = 101;  // odd: cuts fall inside the two-byte characters after an odd-length id
    buffer whole = {0}, cut = {0};
    uint64_t n_long;
    corpora(max, &whole, &cut, &n_long);
    size_t size_a, size_b;
    tc_tokenize_counts a, b;
    char *out_a = tokenized(wp, whole.text, whole.len, max, &size_a, &a);
    char *out_b = tokenized(wp, cut.text, cut.len, 0, &size_b, &b);
    REQUIRE(out_a && out_b);
    CHECKF(a.docs == 300 && b.docs == 300, "%llu and %llu documents", (unsigned long long)a.docs,
           (unsigned long long)b.docs);
    CHECKF(a.cut == n_long && b.cut == 0, "%llu cut, %llu expected", (unsigned long long)a.cut,
           (unsigned long long)n_long);
    CHECK(a.tokens == b.tokens && a.tokens > 300 * 2);
    CHECK(size_a == size_b && memcmp(out_a, out_b, size_a) == 0);
    CHECKF(a.bytes == whole.len, "%llu bytes counted, %zu read", (unsigned long long)a.bytes, whole.len);
    // a line without a tab in the part kept is an error naming it
    const char *no_tab = "d0\tok\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\tlate tab\n";
    CHECK(tokenized(wp, no_tab, strlen(no_tab), max, &size_a, &a) == NULL);
    CHECKF(strstr(tc_error(), "in: line 2: no tab between id and text in the line's first 101 bytes") != NULL, "%s",
           tc_error());
    free(out_a);
    free(out_b);
    free(whole.text);
    free(cut.text);
    tc_wordpiece_close(wp);
}

int main(void) {
    RUN(test_read_line_refuses_long_lines);
    RUN(test_document_lines_are_cut);
    RUN(test_tokenize_cuts_like_the_readers);
    HARNESS_EXIT();
}
