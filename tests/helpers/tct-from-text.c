// Test helper: tensor files from text lines on stdin, to stdout.
//
//   tct-from-text hash-embed D          id<TAB>text -> doc_ids, embeddings f32[N,D]:
//                                       a bag of character trigrams hashed into D
//                                       dimensions, unit length (texts sharing
//                                       letters are similar; stands in for tc-encode)
//   tct-from-text matrix NAME [SETS]    id<TAB>v v v ... -> doc_ids, NAME f32[N,C]; with
//                                       SETS (id<TAB>c,c,... in the same order), also
//                                       label_offsets + label_classes
//   tct-from-text topk K                id<TAB>v v v ... -> doc_ids, topk_classes i32[N,K],
//                                       topk_scores f32[N,K] (ties: lower class first;
//                                       K beyond the class count padded with -1 / -inf)
//   tct-from-text labels [SCORES]       id<TAB>c,c,... -> a label file; with SCORES
//                                       (id<TAB>s,s,... in the same order), label_scores
#include "common/error.h"
#include "common/cli/io.h"
#include "common/taxonomy/labels.h"
#include "formats/tct.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char **ids;
    float *values;
    size_t n, cap, width;
} rows;

static void die(const char *what) {
    fprintf(stderr, "tct-from-text: %s\n", what[0] ? what : tc_error());
    exit(1);
}

static void add_row(rows *r, const char *id, const float *v, size_t width) {
    if (r->n == 0) r->width = width;
    if (width != r->width) die("rows of different widths");
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        r->ids = realloc(r->ids, r->cap * sizeof *r->ids);
        r->values = realloc(r->values, r->cap * (width ? width : 1) * sizeof *r->values);
        if (!r->ids || !r->values) die("out of memory");
    }
    r->ids[r->n] = strdup(id);
    memcpy(r->values + r->n * width, v, width * sizeof *v);
    r->n++;
}

static void hash_embed(const char *text, float *v, size_t d) {
    memset(v, 0, d * sizeof *v);
    char padded[4096];
    snprintf(padded, sizeof padded, " %s ", text);
    size_t n = strlen(padded);
    for (size_t i = 0; i + 3 <= n; i++) {
        uint64_t h = 1469598103934665603ull;
        for (size_t k = i; k < i + 3; k++) h = (h ^ (unsigned char)padded[k]) * 1099511628211ull;
        v[h % d] += 1.0f;
    }
    double norm = 0;
    for (size_t k = 0; k < d; k++) norm += (double)v[k] * v[k];
    if (norm > 0)
        for (size_t k = 0; k < d; k++) v[k] = (float)(v[k] / sqrt(norm));
}

static size_t parse_floats(char *s, float *v, size_t max) {
    size_t n = 0;
    for (char *tok = strtok(s, " "); tok && n < max; tok = strtok(NULL, " ")) {
        if (!strcmp(tok, "nan")) v[n++] = NAN;
        else v[n++] = strtof(tok, NULL);
    }
    return n;
}

static void write_rows(const rows *r, const char *name, int topk_k, const char *sets) {
    tct_writer *w;
    tct_attr prov = {"program", "tct-from-text"};
    if (tct_writer_open(&w, stdout, "stdout", &prov, 1, NULL)) die("");
    if (tct_writer_string_tensor(w, "doc_ids", (const char *const *)r->ids, r->n, NULL, 0)) die("");
    if (topk_k <= 0) {
        uint64_t dims[2] = {r->n, r->width};
        if (tct_writer_tensor(w, name, TCT_F32, 2, dims, r->values, NULL, 0)) die("");
    } else {
        size_t k = (size_t)topk_k, c = r->width;
        int32_t *cls = malloc((r->n * k + 1) * sizeof *cls);
        float *sc = malloc((r->n * k + 1) * sizeof *sc);
        uint8_t *taken = malloc(c + 1);
        for (size_t i = 0; i < r->n; i++) {
            memset(taken, 0, c + 1);
            for (size_t j = 0; j < k; j++) {
                long best = -1;
                for (size_t x = 0; x < c; x++)
                    if (!taken[x] && (best < 0 || r->values[i * c + x] > r->values[i * c + (size_t)best])) best = (long)x;
                cls[i * k + j] = (int32_t)best;
                sc[i * k + j] = best < 0 ? -INFINITY : r->values[i * c + (size_t)best];
                if (best >= 0) taken[best] = 1;
            }
        }
        uint64_t dims[2] = {r->n, k};
        if (tct_writer_tensor(w, "topk_classes", TCT_I32, 2, dims, cls, NULL, 0) ||
            tct_writer_tensor(w, "topk_scores", TCT_F32, 2, dims, sc, NULL, 0))
            die("");
        free(cls);
        free(sc);
        free(taken);
    }
    if (sets) {
        tc_labels l;
        uint64_t n1 = r->n + 1;
        if (tc_labels_read_text(&l, sets, 0)) die("");
        if (l.n_docs != r->n) die("SETS has a different number of rows");
        uint64_t nnz = (uint64_t)l.offsets[l.n_docs];
        if (tct_writer_tensor(w, "label_offsets", TCT_I64, 1, &n1, l.offsets, NULL, 0) ||
            tct_writer_tensor(w, "label_classes", TCT_I32, 1, &nnz, l.classes, NULL, 0))
            die("");
        tc_labels_free(&l);
    }
    if (tct_writer_close(w)) die("");
}

// label_scores for the labels read, from id<TAB>s,s,... lines in their order.
static void read_label_scores(tc_labels *l, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) die(path);
    l->scores = calloc((size_t)l->offsets[l->n_docs] + 1, sizeof *l->scores);
    char *line = NULL;
    size_t cap = 0;
    for (uint64_t doc = 0; doc < l->n_docs; doc++) {
        if (tc_read_line(f, &line, &cap) < 0) die("SCORES: fewer lines than labels");
        char *p = strchr(line, '\t');
        for (int64_t k = l->offsets[doc]; k < l->offsets[doc + 1]; k++) {
            if (!p) die("SCORES: fewer scores than classes");
            l->scores[k] = strtof(p + 1, &p);
        }
    }
    free(line);
    fclose(f);
}

int main(int argc, char **argv) {
    if (argc < 2) die("usage: tct-from-text hash-embed D | matrix NAME | topk K | labels");
    const char *mode = argv[1];
    if (!strcmp(mode, "labels")) {
        tc_labels l;
        if (tc_labels_read_text(&l, "-", 0)) die("");
        if (argc > 2) read_label_scores(&l, argv[2]);
        tct_writer *w;
        if (tct_writer_open(&w, stdout, "stdout", NULL, 0, NULL) || tc_labels_write(&l, w) || tct_writer_close(w))
            die("");
        tc_labels_free(&l);
        return 0;
    }
    size_t d = strcmp(mode, "hash-embed") ? 1 << 16 : (size_t)atoi(argc > 2 ? argv[2] : "64");
    float *v = malloc(d * sizeof *v);
    rows r = {0};
    char *line = NULL;
    size_t cap = 0;
    long n;
    while ((n = tc_read_line(stdin, &line, &cap)) >= 0) {
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        if (!strcmp(mode, "hash-embed")) {
            hash_embed(tab + 1, v, d);
            add_row(&r, line, v, d);
        } else {
            add_row(&r, line, v, parse_floats(tab + 1, v, d));
        }
    }
    free(line);
    write_rows(&r, !strcmp(mode, "matrix") && argc > 2 ? argv[2] : "embeddings",
               !strcmp(mode, "topk") ? atoi(argc > 2 ? argv[2] : "3") : 0,
               !strcmp(mode, "matrix") && argc > 3 ? argv[3] : NULL);
    for (size_t i = 0; i < r.n; i++) free(r.ids[i]);
    free(r.ids);
    free(r.values);
    free(v);
    return 0;
}
