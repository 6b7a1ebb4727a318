// Per-document class sets (CSR): reading label tensors and TELEClass's
// doc2labels.txt, checking them, writing them.
#include "common/taxonomy/labels.h"
#include "common/error.h"
#include "common/cli/io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void tc_labels_free(tc_labels *l) {
    if (!l) return;
    for (uint64_t i = 0; l->doc_ids && i < l->n_docs; i++) free(l->doc_ids[i]);
    free(l->doc_ids);
    free(l->offsets);
    free(l->classes);
    free(l->scores);
    free(l->core);
    free(l->mask_offsets);
    free(l->mask_classes);
    free(l->doc_weights);
    memset(l, 0, sizeof *l);
}

// Offsets start at 0, never decrease and end at nnz; classes in range.
static int check_csr(const char *what, uint64_t n_docs, const int64_t *offsets, uint64_t nnz, const int32_t *classes,
                     int n_classes) {
    if (offsets[0] != 0) return tc_fail("'%s' starts at %" PRId64 ", not 0", what, offsets[0]);
    for (uint64_t i = 0; i < n_docs; i++)
        if (offsets[i + 1] < offsets[i]) return tc_fail("'%s' decreases at row %" PRIu64, what, i + 1);
    if ((uint64_t)offsets[n_docs] != nnz)
        return tc_fail("'%s' ends at %" PRId64 " but there are %" PRIu64 " classes", what, offsets[n_docs], nnz);
    for (uint64_t k = 0; k < nnz; k++)
        if (classes[k] < 0 || (n_classes > 0 && classes[k] >= n_classes))
            return n_classes > 0 ? tc_fail("class id %" PRId32 " (entry %" PRIu64 ") is outside 0..%d", classes[k], k,
                                           n_classes - 1)
                                 : tc_fail("negative class id %" PRId32 " (entry %" PRIu64 ")", classes[k], k);
    return 0;
}

// Moves a tensor's data out of the bundle (so it is not copied or freed twice).
static void *take(tct_bundle_tensor *t) {
    void *data = t->data;
    t->data = NULL;
    t->count = 0;
    return data;
}

static int expect_rows(const char *where, const tct_bundle_tensor *t, uint64_t rows) {
    if (t->count != rows) return tc_fail("%s: '%s' has %" PRIu64 " values, expected %" PRIu64, where, t->name, t->count, rows);
    return 0;
}

static int load_mask(tc_labels *l, tct_bundle *b, const char *where, int n_classes) {
    const tct_bundle_tensor *mo = tct_bundle_find(b, "mask_offsets"), *mc = tct_bundle_find(b, "mask_classes");
    if (!mo && !mc) return 0;
    if (!mo || !mc) return tc_fail("%s: '%s' without '%s'", where, mo ? "mask_offsets" : "mask_classes",
                                   mo ? "mask_classes" : "mask_offsets");
    if (!tct_bundle_expect(b, where, "mask_offsets", TCT_I64, 1) ||
        !tct_bundle_expect(b, where, "mask_classes", TCT_I32, 1) || expect_rows(where, mo, l->n_docs + 1))
        return -1;
    if (check_csr("mask_offsets", l->n_docs, mo->data, mc->count, mc->data, n_classes))
        return tc_fail_context("%s", where);
    l->mask_offsets = take((tct_bundle_tensor *)mo);
    l->mask_classes = take((tct_bundle_tensor *)mc);
    return 0;
}

static int from_bundle(tc_labels *l, tct_bundle *b, const char *where, int n_classes) {
    const tct_bundle_tensor *ids = tct_bundle_expect(b, where, "doc_ids", TCT_STR, 1);
    const tct_bundle_tensor *off = tct_bundle_expect(b, where, "label_offsets", TCT_I64, 1);
    const tct_bundle_tensor *cls = tct_bundle_expect(b, where, "label_classes", TCT_I32, 1);
    if (!ids || !off || !cls) return -1;
    l->n_docs = ids->count;
    if (expect_rows(where, off, l->n_docs + 1)) return -1;
    if (check_csr("label_offsets", l->n_docs, off->data, cls->count, cls->data, n_classes))
        return tc_fail_context("%s", where);
    const tct_bundle_tensor *scores = tct_bundle_find(b, "label_scores");
    if (scores && (!tct_bundle_expect(b, where, "label_scores", TCT_F32, 1) || expect_rows(where, scores, cls->count)))
        return -1;
    const tct_bundle_tensor *core = tct_bundle_find(b, "label_core");
    if (core && (!tct_bundle_expect(b, where, "label_core", TCT_U8, 1) || expect_rows(where, core, cls->count)))
        return -1;
    const tct_bundle_tensor *weights = tct_bundle_find(b, "doc_weights");
    if (weights && (!tct_bundle_expect(b, where, "doc_weights", TCT_F32, 1) || expect_rows(where, weights, l->n_docs)))
        return -1;
    if (load_mask(l, b, where, n_classes)) return -1;
    l->doc_ids = take((tct_bundle_tensor *)ids);
    l->offsets = take((tct_bundle_tensor *)off);
    l->classes = take((tct_bundle_tensor *)cls);
    if (!l->classes) l->classes = tc_calloc(1, sizeof *l->classes);  // no labels at all: keep a valid pointer
    if (scores) l->scores = take((tct_bundle_tensor *)scores);
    if (core) l->core = take((tct_bundle_tensor *)core);
    if (weights) l->doc_weights = take((tct_bundle_tensor *)weights);
    if (l->mask_offsets && !l->mask_classes) l->mask_classes = tc_calloc(1, sizeof *l->mask_classes);
    return l->classes ? 0 : -1;
}

int tc_labels_from_bundle(tc_labels *l, tct_bundle *b, const char *where, int n_classes) {
    memset(l, 0, sizeof *l);
    int rc = from_bundle(l, b, where, n_classes);
    if (rc) {
        // ids moved out are freed here; the rest stays with the bundle
        tc_labels_free(l);
    }
    return rc;
}

int tc_labels_load(tc_labels *l, const char *path, int n_classes) {
    memset(l, 0, sizeof *l);
    tct_bundle b;
    if (tct_bundle_load(&b, path)) return -1;
    int rc = tc_labels_from_bundle(l, &b, path, n_classes);
    tct_bundle_free(&b);
    return rc;
}

// ---------------------------------------------------------------- text

typedef struct {
    tc_labels *l;
    uint64_t doc_cap, class_cap;
} text_builder;

static int add_doc(text_builder *tb, const char *id) {
    tc_labels *l = tb->l;
    if (l->n_docs + 1 >= tb->doc_cap) {
        uint64_t cap = tb->doc_cap ? tb->doc_cap * 2 : 1024;
        char **ids = tc_realloc(l->doc_ids, (size_t)cap * sizeof *ids);
        if (!ids) return -1;
        l->doc_ids = ids;
        int64_t *off = tc_realloc(l->offsets, (size_t)(cap + 1) * sizeof *off);
        if (!off) return -1;
        l->offsets = off;
        tb->doc_cap = cap;
    }
    if (!(l->doc_ids[l->n_docs] = strdup(id))) return tc_fail("out of memory");
    l->n_docs++;
    l->offsets[l->n_docs] = l->offsets[l->n_docs - 1];
    return 0;
}

static int add_class(text_builder *tb, int32_t c) {
    tc_labels *l = tb->l;
    int64_t start = l->offsets[l->n_docs - 1], end = l->offsets[l->n_docs];
    for (int64_t k = start; k < end; k++)
        if (l->classes[k] == c) return 0;  // a set: repeats are dropped
    if ((uint64_t)end >= tb->class_cap) {
        uint64_t cap = tb->class_cap ? tb->class_cap * 2 : 4096;
        int32_t *cls = tc_realloc(l->classes, (size_t)cap * sizeof *cls);
        if (!cls) return -1;
        l->classes = cls;
        tb->class_cap = cap;
    }
    l->classes[end] = c;
    l->offsets[l->n_docs]++;
    return 0;
}

// "c1,c2,..." (spaces around ids allowed, empty list allowed).
static int parse_classes(text_builder *tb, char *list, int n_classes) {
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        if (!*tok) continue;
        char *end;
        errno = 0;
        long v = strtol(tok, &end, 10);
        while (*end == ' ') end++;
        if (errno || *end || end == tok || v < 0 || v > INT32_MAX)
            return tc_fail("'%s' is not a class id", tok);
        if (n_classes > 0 && v >= n_classes) return tc_fail("class id %ld is outside 0..%d", v, n_classes - 1);
        if (add_class(tb, (int32_t)v)) return -1;
    }
    return 0;
}

static int read_text_stream(tc_labels *l, FILE *f, const char *path, int n_classes) {
    text_builder tb = {.l = l};
    l->offsets = tc_calloc(1, sizeof *l->offsets);
    char *line = NULL;
    size_t cap = 0;
    long n, line_no = 0;
    int rc = l->offsets ? 0 : -1;
    while (rc == 0 && (n = tc_read_text_line(f, &line, &cap, &line_no)) >= 0) {
        if (n == 0) continue;
        char *tab = strchr(line, '\t');
        if (!tab) {
            rc = tc_fail("%s: line %ld: expected 'id<TAB>class,class,...'", path, line_no);
            break;
        }
        *tab = 0;
        if (!line[0]) rc = tc_fail("%s: line %ld: empty document id", path, line_no);
        else if (!tct_utf8_valid(line, strlen(line))) rc = tc_fail("%s: line %ld: document id is not UTF-8", path, line_no);
        else if (add_doc(&tb, line)) rc = -1;
        else if (parse_classes(&tb, tab + 1, n_classes)) rc = tc_fail_context("%s: line %ld", path, line_no);
    }
    if (rc == 0 && n == -2) rc = tc_fail_context("%s: line %ld", path, line_no + 1);
    free(line);
    if (rc == 0 && !l->classes && !(l->classes = tc_calloc(1, sizeof *l->classes))) rc = -1;
    if (rc == 0 && !l->doc_ids && !(l->doc_ids = tc_calloc(1, sizeof *l->doc_ids))) rc = -1;
    if (rc) tc_labels_free(l);
    return rc;
}

int tc_labels_read_text(tc_labels *l, const char *path, int n_classes) {
    memset(l, 0, sizeof *l);
    FILE *f = tc_input_open(path);
    if (!f) return -1;
    int rc = read_text_stream(l, f, path, n_classes);
    tc_input_close(f);
    return rc;
}

static int is_tensor_stream(const unsigned char *head, size_t n) {
    static const unsigned char zstd[4] = {0x28, 0xb5, 0x2f, 0xfd};
    return n >= 4 && (!memcmp(head, zstd, 4) || !memcmp(head, "TCTF", 4));
}

// Reads all of f (for a pipe that cannot be rewound).
static char *slurp(FILE *f, size_t *size) {
    size_t cap = 1 << 16, n = 0;
    char *buf = tc_malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *b = tc_realloc(buf, cap *= 2);
        if (!b) free(buf);
        buf = b;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
        tc_fail("read failed");
    }
    *size = n;
    return buf;
}

int tc_labels_read_any(tc_labels *l, const char *path, int n_classes) {
    memset(l, 0, sizeof *l);
    FILE *f = tc_input_open(path);
    if (!f) return -1;
    const char *where = !path || !strcmp(path, "-") ? "(stdin)" : path;
    unsigned char head[4];
    size_t got = fread(head, 1, sizeof head, f);
    int rc;
    // An empty file is neither form: taken as labels it would be "no
    // documents", and a run on nothing exits 0.
    if (got == 0 && !ferror(f)) {
        tc_input_close(f);
        return tc_fail("%s: empty file, not a tensor stream or a label file", where);
    }
    if (fseek(f, 0, SEEK_SET) == 0) {
        if (is_tensor_stream(head, got)) {
            tct_bundle b;
            rc = tct_bundle_read(&b, f, where);
            if (rc == 0) {
                rc = tc_labels_from_bundle(l, &b, where, n_classes);
                tct_bundle_free(&b);
            }
        } else {
            rc = read_text_stream(l, f, where, n_classes);
        }
        tc_input_close(f);
        return rc;
    }
    // A pipe: the rest of the stream joins the bytes already read.
    size_t size;
    char *rest = slurp(f, &size);
    tc_input_close(f);
    if (!rest) return tc_fail_context("%s", where);
    char *all = tc_malloc(size + got);
    if (!all) {
        free(rest);
        return -1;
    }
    memcpy(all, head, got);
    memcpy(all + got, rest, size);
    free(rest);
    FILE *m = fmemopen(all, size + got ? size + got : 1, "rb");
    if (!m) {
        free(all);
        return tc_fail("%s: cannot buffer the input", where);
    }
    if (is_tensor_stream(head, got)) {
        tct_bundle b;
        rc = tct_bundle_read(&b, m, where);
        if (rc == 0) {
            rc = tc_labels_from_bundle(l, &b, where, n_classes);
            tct_bundle_free(&b);
        }
    } else {
        rc = size + got ? read_text_stream(l, m, where, n_classes) : read_text_stream(l, stdin, where, n_classes);
    }
    fclose(m);
    free(all);
    return rc;
}

// ---------------------------------------------------------------- write

int tc_labels_write(const tc_labels *l, tct_writer *w) {
    uint64_t n = l->n_docs, n1 = n + 1, nnz = (uint64_t)l->offsets[n];
    if (tct_writer_string_tensor(w, "doc_ids", (const char *const *)l->doc_ids, n, NULL, 0) ||
        tct_writer_tensor(w, "label_offsets", TCT_I64, 1, &n1, l->offsets, NULL, 0) ||
        tct_writer_tensor(w, "label_classes", TCT_I32, 1, &nnz, l->classes, NULL, 0))
        return -1;
    if (l->scores && tct_writer_tensor(w, "label_scores", TCT_F32, 1, &nnz, l->scores, NULL, 0)) return -1;
    if (l->core && tct_writer_tensor(w, "label_core", TCT_U8, 1, &nnz, l->core, NULL, 0)) return -1;
    if (l->mask_offsets) {
        uint64_t mnnz = (uint64_t)l->mask_offsets[n];
        if (tct_writer_tensor(w, "mask_offsets", TCT_I64, 1, &n1, l->mask_offsets, NULL, 0) ||
            tct_writer_tensor(w, "mask_classes", TCT_I32, 1, &mnnz, l->mask_classes, NULL, 0))
            return -1;
    }
    if (l->doc_weights && tct_writer_tensor(w, "doc_weights", TCT_F32, 1, &n, l->doc_weights, NULL, 0)) return -1;
    return 0;
}

int64_t tc_labels_keep_core(tc_labels *l) {
    if (!l->core) return 0;
    int64_t kept = 0, dropped = 0, start = 0;
    for (uint64_t d = 0; d < l->n_docs; d++) {
        int64_t end = l->offsets[d + 1];
        for (int64_t k = start; k < end; k++) {
            if (!l->core[k]) {
                dropped++;
                continue;
            }
            l->classes[kept] = l->classes[k];
            if (l->scores) l->scores[kept] = l->scores[k];
            l->core[kept++] = 1;
        }
        start = end;
        l->offsets[d + 1] = kept;
    }
    return dropped;
}
