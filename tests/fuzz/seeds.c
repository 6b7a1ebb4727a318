// Writes the binary seeds of the fuzz corpora (tests/fuzz/seeds.sh puts
// them together with the text ones):
//   seeds model DIR N   a tiny BERT directory (tests/tiny_bert.h), variant N
//                       of 0..3: F32, F16 with a "bert." prefix, BF16 with
//                       the old LayerNorm names and a pooler, cls pooling
//   seeds labels FILE   a label tensor stream with scores and core flags
#include "common/error.h"
#include "common/taxonomy/labels.h"
#include "tests/tiny_bert.h"

static int write_model(const char *dir, int variant) {
    tiny_bert_spec s = tiny_bert_default();
    s.vocab = 24, s.positions = 8, s.hidden = 8, s.heads = 2, s.layers = 1, s.intermediate = 12;
    s.st_files = variant == 3 ? 2 : 1;
    if (variant == 1) s.dtype = TC_ST_F16, s.prefix = "bert.";
    if (variant == 2) s.dtype = TC_ST_BF16, s.old_ln_names = 1, s.pooler = 1;
    return tiny_bert_write(dir, &s);
}

static int write_labels(const char *path) {
    char *ids[3] = {"doc0", "doc1", "doc2"};
    int64_t offsets[4] = {0, 2, 2, 5};
    int32_t classes[5] = {0, 3, 1, 2, 4};
    float scores[5] = {0.9f, 0.5f, 0.25f, 1.0f, 0.125f};
    uint8_t core[5] = {1, 0, 1, 1, 0};
    tc_labels l = {.n_docs = 3, .doc_ids = ids, .offsets = offsets, .classes = classes, .scores = scores, .core = core};
    FILE *f = fopen(path, "wb");
    tct_writer *w;
    if (!f || tct_writer_open(&w, f, path, NULL, 0, NULL)) return -1;
    int rc = tc_labels_write(&l, w);
    if (rc) tct_writer_abort(w);
    else rc = tct_writer_close(w);
    return fclose(f) || rc ? -1 : 0;
}

int main(int argc, char **argv) {
    int rc = -1;
    if (argc == 4 && !strcmp(argv[1], "model")) rc = write_model(argv[2], atoi(argv[3]));
    else if (argc == 3 && !strcmp(argv[1], "labels")) rc = write_labels(argv[2]);
    else {
        fprintf(stderr, "usage: seeds model DIR N | seeds labels FILE\n");
        return 2;
    }
    if (rc) fprintf(stderr, "seeds: %s\n", tc_error()[0] ? tc_error() : "write failed");
    return rc ? 1 : 0;
}
