// Label sets: doc2labels.txt parsing, checks, and the tensor round trip
// (with the training-target tensors).
#include "tests/harness.h"
#include "common/taxonomy/labels.h"
#include "common/error.h"

#include <stdint.h>

static const char *write_text(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", harness_tmpdir(), name);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_read_text(void) {
    const char *path = write_text("d2l.txt", "0\t1,3\n7\t2\r\n\nx9\t\n3\t 4 , 4,5\n");
    REQUIRE(path);
    tc_labels l;
    REQUIRE(tc_labels_read_text(&l, path, 6) == 0);
    CHECK(l.n_docs == 4);
    CHECK(!strcmp(l.doc_ids[0], "0") && !strcmp(l.doc_ids[1], "7") && !strcmp(l.doc_ids[2], "x9"));
    int64_t off[] = {0, 2, 3, 3, 5};
    int32_t cls[] = {1, 3, 2, 4, 5};
    for (int i = 0; i < 5; i++) CHECKF(l.offsets[i] == off[i], "offsets[%d] = %lld", i, (long long)l.offsets[i]);
    for (int i = 0; i < 5; i++) CHECK(l.classes[i] == cls[i]);
    CHECK(!l.scores && !l.mask_offsets && !l.doc_weights);
    tc_labels_free(&l);
}

static void test_read_text_errors(void) {
    tc_labels l;
    const char *p = write_text("bad1.txt", "0\t1\n1 2\n");
    CHECK(tc_labels_read_text(&l, p, 0) == -1 && strstr(tc_error(), "line 2: expected 'id<TAB>"));
    p = write_text("bad2.txt", "0\t1,x\n");
    CHECK(tc_labels_read_text(&l, p, 0) == -1 && strstr(tc_error(), "line 1: 'x' is not a class id"));
    p = write_text("bad3.txt", "0\t1\n1\t9\n");
    CHECKF(tc_labels_read_text(&l, p, 5) == -1 && strstr(tc_error(), "line 2: class id 9 is outside 0..4"), "%s",
           tc_error());
    p = write_text("bad4.txt", "\t1\n");
    CHECK(tc_labels_read_text(&l, p, 5) == -1 && strstr(tc_error(), "empty document id"));
    CHECK(tc_labels_read_text(&l, "/nonexistent/d2l.txt", 5) == -1 && strstr(tc_error(), "cannot open"));
}

static int write_and_read(const tc_labels *l, tc_labels *back, int n_classes) {
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    tct_writer *w;
    if (tct_writer_open(&w, f, "mem", NULL, 0, NULL)) return -1;
    int rc = tc_labels_write(l, w) ? (tct_writer_abort(w), -1) : tct_writer_close(w);
    fclose(f);
    tct_bundle b;
    if (rc == 0) {
        FILE *in = fmemopen(buf, size, "rb");
        rc = tct_bundle_read(&b, in, "mem");
        fclose(in);
        if (rc == 0) {
            rc = tc_labels_from_bundle(back, &b, "mem", n_classes);
            tct_bundle_free(&b);
        }
    }
    free(buf);
    return rc;
}

static void test_round_trip_targets(void) {
    char *ids[] = {"d0", "d1", "d2"};
    int64_t off[] = {0, 2, 2, 3}, moff[] = {0, 1, 1, 3};
    int32_t cls[] = {0, 4, 1}, mcls[] = {2, 3, 5};
    float scores[] = {0.5f, 0.25f, 1.0f}, weights[] = {1.0f, 1.0f, 0.5f};
    tc_labels l = {.n_docs = 3, .doc_ids = ids, .offsets = off, .classes = cls, .scores = scores,
                   .mask_offsets = moff, .mask_classes = mcls, .doc_weights = weights};
    tc_labels back;
    REQUIRE(write_and_read(&l, &back, 6) == 0);
    CHECK(back.n_docs == 3 && !strcmp(back.doc_ids[2], "d2"));
    CHECK(back.offsets[3] == 3 && back.classes[1] == 4 && back.scores && back.scores[1] == 0.25f);
    CHECK(back.mask_offsets && back.mask_offsets[3] == 3 && back.mask_classes[2] == 5);
    CHECK(back.doc_weights && back.doc_weights[2] == 0.5f);
    tc_labels_free(&back);
    // a class id beyond the taxonomy is refused
    CHECK(write_and_read(&l, &back, 5) == -1);
    CHECKF(strstr(tc_error(), "mem: class id 5 (entry 2) is outside 0..4"), "%s", tc_error());
    // offsets that decrease are refused
    int64_t bad[] = {0, 2, 1, 3};
    l.offsets = bad;
    l.scores = NULL;
    CHECK(write_and_read(&l, &back, 0) == -1 && strstr(tc_error(), "'label_offsets' decreases at row 2"));
}

static void test_empty_label_set(void) {
    char *ids[] = {"only"};
    int64_t off[] = {0, 0};
    int32_t none[1] = {0};
    tc_labels l = {.n_docs = 1, .doc_ids = ids, .offsets = off, .classes = none}, back;
    REQUIRE(write_and_read(&l, &back, 3) == 0);
    CHECK(back.n_docs == 1 && back.offsets[1] == 0 && back.classes != NULL);
    tc_labels_free(&back);
}

int main(void) {
    RUN(test_read_text);
    RUN(test_read_text_errors);
    RUN(test_round_trip_targets);
    RUN(test_empty_label_set);
    HARNESS_EXIT();
}
