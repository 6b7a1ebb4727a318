// Test helper: inputs for tc-encode's command-line tests.
//   encode-fixture model DIR [KEY=VALUE]...
//       a tiny random BERT (tests/tiny_bert.h); keys: hidden heads layers
//       intermediate vocab positions pooler(0/1) st(0/1/2) seed prefix act model_type
//       nan (a NaN in the tensors whose name contains it)
//   encode-fixture tokens OUT.tct ROWS WIDTH VOCAB [KEY=VALUE]...
//       a tokens file: doc_ids "doc-<i>", input_ids i32[ROWS,WIDTH] ([CLS]=2 ...
//       [SEP]=3, padding 0), lengths i32[ROWS] from 2 to WIDTH; keys: seed,
//       fingerprint (vocab_fingerprint attribute; "model:DIR" takes DIR's
//       vocab.txt), bad_id (row whose second token is VOCAB), chunk (rows per
//       append), vocab_size (attribute)
#include "tests/tiny_bert.h"
#include "common/error.h"
#include "common/fingerprint.h"
#include "formats/tct.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what) {
    fprintf(stderr, "encode-fixture: %s%s%s\n", what, tc_error()[0] ? ": " : "", tc_error());
    return 1;
}

static const char *value_of(int argc, char **argv, int from, const char *key, const char *fallback) {
    size_t n = strlen(key);
    for (int i = from; i < argc; i++)
        if (!strncmp(argv[i], key, n) && argv[i][n] == '=') return argv[i] + n + 1;
    return fallback;
}

static int make_model(int argc, char **argv) {
    tiny_bert_spec s = tiny_bert_default();
    int *fields[] = {&s.hidden, &s.heads, &s.layers, &s.intermediate, &s.vocab, &s.positions};
    const char *keys[] = {"hidden", "heads", "layers", "intermediate", "vocab", "positions"};
    for (int i = 0; i < 6; i++) {
        int v = atoi(value_of(argc, argv, 3, keys[i], "0"));
        if (v > 0) *fields[i] = v;
    }
    s.seed = (uint64_t)atol(value_of(argc, argv, 3, "seed", "1"));
    s.pooler = atoi(value_of(argc, argv, 3, "pooler", "0"));
    s.st_files = atoi(value_of(argc, argv, 3, "st", "0"));
    s.prefix = value_of(argc, argv, 3, "prefix", "");
    s.act = value_of(argc, argv, 3, "act", NULL);
    s.model_type = value_of(argc, argv, 3, "model_type", NULL);
    s.nan = value_of(argc, argv, 3, "nan", NULL);
    return tiny_bert_write(argv[2], &s) ? fail(argv[2]) : 0;
}

static int make_tokens(int argc, char **argv) {
    if (argc < 6) return fail("tokens OUT.tct ROWS WIDTH VOCAB");
    long rows = atol(argv[3]);
    int width = atoi(argv[4]), vocab = atoi(argv[5]);
    long bad = atol(value_of(argc, argv, 6, "bad_id", "-1")), chunk = atol(value_of(argc, argv, 6, "chunk", "100"));
    uint64_t st = (uint64_t)atol(value_of(argc, argv, 6, "seed", "1")) * 2654435761u + 17;
    const char *fp = value_of(argc, argv, 6, "fingerprint", NULL);
    char hex[17], vocab_path[4096];
    if (fp && !strncmp(fp, "model:", 6)) {
        snprintf(vocab_path, sizeof vocab_path, "%s/vocab.txt", fp + 6);
        if (tc_file_fingerprint(vocab_path, hex)) return fail(vocab_path);
        fp = hex;
    }
    tct_attr attrs[4];
    size_t n_attrs = 0;
    char width_text[32];
    snprintf(width_text, sizeof width_text, "%d", width);
    if (fp) attrs[n_attrs++] = (tct_attr){"vocab_fingerprint", fp};
    const char *vs = value_of(argc, argv, 6, "vocab_size", NULL);
    if (vs) attrs[n_attrs++] = (tct_attr){"vocab_size", vs};
    attrs[n_attrs++] = (tct_attr){"max_len", width_text};
    attrs[n_attrs++] = (tct_attr){"pad_id", "0"};
    FILE *out = fopen(argv[2], "wb");
    tct_writer *w;
    tct_attr prov[1] = {{"program", "encode-fixture"}};
    if (!out || tct_writer_open(&w, out, argv[2], prov, 1, NULL)) return fail(argv[2]);
    uint64_t d1[1] = {TCT_ROWS_UNKNOWN}, d2[2] = {TCT_ROWS_UNKNOWN, (uint64_t)width};
    int t_doc = tct_writer_begin(w, "doc_ids", TCT_STR, 1, d1, NULL, 0);
    int t_ids = tct_writer_begin(w, "input_ids", TCT_I32, 2, d2, attrs, n_attrs);
    int t_len = tct_writer_begin(w, "lengths", TCT_I32, 1, d1, NULL, 0);
    int32_t *ids = calloc((size_t)width, sizeof *ids);
    for (long r = 0; r < rows; r++) {
        int len = 2 + (int)((tiny_random(&st) + 1) / 2 * (width - 1));
        len = len > width ? width : len;
        memset(ids, 0, (size_t)width * sizeof *ids);
        ids[0] = 2;
        for (int t = 1; t < len - 1; t++) ids[t] = 5 + (int)((tiny_random(&st) + 1) / 2 * (vocab - 5)) % (vocab - 5);
        ids[len - 1] = 3;
        if (r == bad) ids[1] = vocab;
        char name[32];
        snprintf(name, sizeof name, "doc-%ld", r);
        const char *names[1] = {name};
        int32_t length = len;
        if (tct_writer_append_strings(w, t_doc, names, NULL, 1) || tct_writer_append(w, t_ids, ids, 1) ||
            tct_writer_append(w, t_len, &length, 1) || ((r + 1) % chunk == 0 && tct_writer_flush(w)))
            return fail("write");
    }
    free(ids);
    if (tct_writer_end(w, t_doc) || tct_writer_end(w, t_ids) || tct_writer_end(w, t_len) || tct_writer_close(w) ||
        fclose(out))
        return fail("close");
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "model")) return make_model(argc, argv);
    if (argc >= 3 && !strcmp(argv[1], "tokens")) return make_tokens(argc, argv);
    fprintf(stderr, "usage: encode-fixture model DIR [K=V]... | tokens OUT.tct ROWS WIDTH VOCAB [K=V]...\n");
    return 2;
}
