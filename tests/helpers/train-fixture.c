// Test helper: a tiny training problem for tc-train's command-line tests.
//   train-fixture DIR [DOCS]   writes into DIR:
//     model/               a tiny random BERT (tests/tiny_bert.h), with a pooler
//     tokens.tct           DOCS documents (default 48) whose tokens hint at their class
//     targets.tct          positives (a leaf and its parent), masks on documents
//                          labeled at the top level only, weights 1 or 0.5
//     val_tokens.tct, val_targets.tct   16 more documents like them
//     class_vectors.tct    6 class vectors of 8 values (doc_ids 0..5)
//     class_vectors5.tct   5 of them (fewer than the targets' classes)
//     class_tokens.tct     the 6 class names' tokens
//     taxonomy.tct         6 classes: two roots with two children each
//     taxonomy7.tct        7 classes (a mismatch)
//     other_vocab.tct      tokens claiming another vocabulary
//     nan_targets.tct      targets with a document weight of FLT_MAX (finite:
//                          accepted, but its loss overflows to infinity)
//     pair_tokens.tct      DOCS other documents of the same ids and classes: the
//                          positives of tokens.tct (tc-train --objective contrastive)
//     val_pair_tokens.tct  the positives of val_tokens.tct
//     pair_short.tct       one row fewer than tokens.tct
//     pair_other_ids.tct   as many rows as tokens.tct, other ids
//     neg_targets.tct      targets with a negative document weight (refused)
#include "tests/tiny_bert.h"
#include "tests/train_fixtures.h"
#include "common/error.h"
#include "common/fingerprint.h"

#include <float.h>

enum { K = 6, LEAVES = 4, VOCAB = 60 };
static const int parent_of[K] = {-1, -1, 0, 0, 1, 1};
static const char *names[K + 1] = {"science", "sports", "physics", "biology", "hockey", "tennis", "extra"};

static int die(const char *what) {
    fprintf(stderr, "train-fixture: %s: %s\n", what, tc_error());
    return 1;
}

static const char *path_in(const char *dir, const char *name) {
    static char paths[4][4096];
    static int at;
    char *p = paths[at++ % 4];
    snprintf(p, 4096, "%s/%s", dir, name);
    return p;
}

// Document i: a leaf class, tokens mostly from that leaf's range.
static int write_docs(const char *dir, const char *tokens_name, const char *targets_name, int n, uint64_t seed,
                      const char *fingerprint, float bad_weight) {
    char **ids = calloc((size_t)n, sizeof *ids);
    int32_t **rows = calloc((size_t)n, sizeof *rows), *lengths = calloc((size_t)n, sizeof *lengths);
    int64_t *off = calloc((size_t)n + 1, 8), *moff = calloc((size_t)n + 1, 8);
    int32_t *cls = calloc((size_t)n * 2, 4), *mcls = calloc((size_t)n * 2, 4);
    float *w = calloc((size_t)n, 4);
    uint64_t st = seed;
    for (int i = 0; i < n; i++) {
        int leaf = 2 + i % LEAVES, top_only = i % 5 == 4;
        ids[i] = malloc(32);
        snprintf(ids[i], 32, "%s%d", seed == 23 || seed == 29 ? "v" : seed == 31 ? "o" : "d", i);
        int len = 4 + (int)((tiny_random(&st) + 1) * 7);
        rows[i] = malloc((size_t)len * 4);
        rows[i][0] = 2;  // [CLS]
        for (int t = 1; t < len - 1; t++) {
            int hint = (tiny_random(&st) + 1) / 2 < 0.7;
            rows[i][t] = hint ? 5 + (leaf - 2) * 10 + (int)((tiny_random(&st) + 1) * 4.9)
                              : 45 + (int)((tiny_random(&st) + 1) * 7.4);
        }
        rows[i][len - 1] = 3;  // [SEP]
        lengths[i] = len;
        off[i + 1] = off[i];
        moff[i + 1] = moff[i];
        if (top_only) {  // labeled with the parent alone: its children are masked
            cls[off[i + 1]++] = parent_of[leaf];
            for (int c = 0; c < K; c++)
                if (parent_of[c] == parent_of[leaf]) mcls[moff[i + 1]++] = c;
        } else {
            cls[off[i + 1]++] = parent_of[leaf];
            cls[off[i + 1]++] = leaf;
        }
        w[i] = i % 7 == 6 ? 0.5f : 1.0f;
    }
    if (bad_weight != 0) w[n / 2] = bad_weight;
    tc_labels l = {.n_docs = (uint64_t)n, .doc_ids = ids, .offsets = off, .classes = cls, .mask_offsets = moff,
                   .mask_classes = mcls, .doc_weights = w};
    int rc = (tokens_name && fixture_write_tokens(path_in(dir, tokens_name), (uint64_t)n, (const char *const *)ids,
                                                  (const int32_t *const *)rows, lengths, 24, fingerprint)) ||
             (targets_name && fixture_write_labels(path_in(dir, targets_name), &l));
    for (int i = 0; i < n; i++) free(ids[i]), free(rows[i]);
    free(ids), free(rows), free(lengths), free(off), free(moff), free(cls), free(mcls), free(w);
    return rc ? -1 : 0;
}

static int write_stream(const char *path, int (*body)(tct_writer *w, void *ctx), void *ctx) {
    FILE *f = fopen(path, "wb");
    tct_writer *w;
    if (!f || tct_writer_open(&w, f, path, NULL, 0, NULL)) return -1;
    int rc = body(w, ctx);
    if (rc) tct_writer_abort(w);
    else rc = tct_writer_close(w);
    return fclose(f) || rc ? -1 : 0;
}

static const char *ids[K] = {"0", "1", "2", "3", "4", "5"};

static int class_vectors_body(tct_writer *w, void *ctx) {
    uint64_t st = 5, n = (uint64_t)*(int *)ctx;
    float *v = tiny_fill(n * 8, &st, 0, 0.5f);
    uint64_t dims[2] = {n, 8};
    int rc = tct_writer_string_tensor(w, "doc_ids", ids, n, NULL, 0) ||
             tct_writer_tensor(w, "embeddings", TCT_F32, 2, dims, v, NULL, 0);
    free(v);
    return rc;
}

static int taxonomy_body(tct_writer *w, void *ctx) {
    int n = *(int *)ctx;
    int32_t edges[8] = {0, 2, 0, 3, 1, 4, 1, 5};
    uint64_t dims[2] = {4, 2};
    return tct_writer_string_tensor(w, "class_names", names, (uint64_t)n, NULL, 0) ||
           tct_writer_tensor(w, "edges", TCT_I32, 2, dims, edges, NULL, 0);
}

static int class_tokens(const char *dir, const char *fingerprint) {
    int32_t r[K][3], lengths[K];
    const int32_t *rows[K];
    for (int k = 0; k < K; k++) {
        r[k][0] = 2, r[k][1] = k < 2 ? 40 + k : 5 + (k - 2) * 10, r[k][2] = 3;
        rows[k] = r[k], lengths[k] = 3;
    }
    return fixture_write_tokens(path_in(dir, "class_tokens.tct"), K, ids, rows, lengths, 3, fingerprint);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: train-fixture DIR [DOCS]\n");
        return 2;
    }
    const char *dir = argv[1];
    int docs = argc > 2 ? atoi(argv[2]) : 48;
    tiny_bert_spec s = tiny_bert_default();
    s.vocab = VOCAB, s.positions = 32, s.hidden = 16, s.layers = 2, s.heads = 4, s.intermediate = 32, s.pooler = 1;
    char fp[17];
    int six = K, seven = K + 1;
    if (mkdir(dir, 0777) && errno != EEXIST) return die(dir);
    if (tiny_bert_write(path_in(dir, "model"), &s)) return die("model");
    if (tc_file_fingerprint(path_in(dir, "model/vocab.txt"), fp)) return die("fingerprint");
    if (write_docs(dir, "tokens.tct", "targets.tct", docs, 11, fp, 0) ||
        write_docs(dir, "val_tokens.tct", "val_targets.tct", 16, 23, fp, 0) ||
        write_docs(dir, "other_vocab.tct", NULL, docs, 11, "0123456789abcdef", 0) ||
        write_docs(dir, NULL, "nan_targets.tct", docs, 11, fp, FLT_MAX) ||
        write_docs(dir, NULL, "neg_targets.tct", docs, 11, fp, -1) ||
        write_docs(dir, "pair_tokens.tct", NULL, docs, 13, fp, 0) ||
        write_docs(dir, "val_pair_tokens.tct", NULL, 16, 29, fp, 0) ||
        write_docs(dir, "pair_short.tct", NULL, docs - 1, 13, fp, 0) ||
        write_docs(dir, "pair_other_ids.tct", NULL, docs, 31, fp, 0))
        return die("documents");
    int five = K - 1;
    if (write_stream(path_in(dir, "class_vectors.tct"), class_vectors_body, &six) ||
        write_stream(path_in(dir, "class_vectors5.tct"), class_vectors_body, &five) || class_tokens(dir, fp) ||
        write_stream(path_in(dir, "taxonomy.tct"), taxonomy_body, &six) ||
        write_stream(path_in(dir, "taxonomy7.tct"), taxonomy_body, &seven))
        return die("classes");
    return 0;
}
