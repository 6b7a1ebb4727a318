// libFuzzer target: a label file as the programs that take gold labels or
// core classes read it (tc_labels_read_any: TELEClass's doc2labels.txt or
// a label tensor stream, told apart by the first bytes), with and without
// a class count to check ids against. Labels accepted are checked the way
// their users index them: offsets rise from 0 to the entry count, every
// class id is in range.
#include "common/taxonomy/labels.h"
#include "tests/fuzz/fuzz_files.h"

static void check(const tc_labels *l, int n_classes) {
    if (l->offsets[0] != 0) abort();
    for (uint64_t i = 0; i < l->n_docs; i++) {
        if (l->offsets[i + 1] < l->offsets[i] || !l->doc_ids[i]) abort();
        for (int64_t k = l->offsets[i]; k < l->offsets[i + 1]; k++)
            if (l->classes[k] < 0 || (n_classes > 0 && l->classes[k] >= n_classes)) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[512];
    fuzz_part whole = {data, size};
    fuzz_file(path, sizeof path, "doc2labels.txt", &whole);
    static const int class_counts[] = {0, 20};
    for (int i = 0; i < 2; i++) {
        tc_labels l;
        if (fuzz_note("labels", tc_labels_read_any(&l, path, class_counts[i])) == 0) {
            check(&l, class_counts[i]);
            (void)tc_labels_keep_core(&l);
            tc_labels_free(&l);
        }
    }
    return 0;
}
