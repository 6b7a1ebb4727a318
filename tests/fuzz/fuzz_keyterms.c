// libFuzzer target: a key-term file (`name:term,term,...`, TELEClass's
// enrichment files) merged into a taxonomy as tc-taxo terms does it. The
// input is split on FUZZ_SEP (tests/fuzz/fuzz_files.h) into labels.txt,
// which makes a flat taxonomy, and the key-term file; without a separator
// the whole input is the key-term file for a small fixed taxonomy. A merge
// accepted is exported back as text and as the strings to embed, and the
// taxonomy with its terms goes through the round trip of tests/fuzz/fuzz_taxonomy.h.
#include "common/taxonomy/keyterms.h"
#include "common/taxonomy/taxonomy_read.h"
#include "tests/fuzz/fuzz_files.h"
#include "tests/fuzz/fuzz_taxonomy.h"

static const char fixed_labels[] = "0\tsports\n1\tbaseball\n2\tice hockey\n3\tspace_shuttle\n4\tSci-Fi\n";

static void export(const tc_taxonomy *t) {
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buf, &size);
    if (!out) return;
    if (tc_keyterms_write_text(t, out) || tc_keyterms_write_texts(t, out, 0) || tc_keyterms_write_texts(t, out, 1))
        abort();  // to memory: nothing can fail
    fclose(out);
    free(buf);
}

static void merge(tc_taxonomy *t, const char *path) {
    tc_keyterms k;
    int added = 0;
    if (tc_keyterms_begin(&k, t, 0)) return;
    if (fuzz_note("keyterms", tc_keyterms_read(&k, t, path, &added))) {
        tc_keyterms_free(&k);
        return;
    }
    if (tc_keyterms_finish(&k, t)) return;  // frees the merge either way
    export(t);
    fuzz_taxonomy_round_trip(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_part parts[2];
    int n = fuzz_split(data, size, parts, 2);
    fuzz_part fixed = {(const uint8_t *)fixed_labels, sizeof fixed_labels - 1};
    char labels[512], terms[512];
    fuzz_file(labels, sizeof labels, "labels.txt", n > 1 ? &parts[0] : &fixed);
    fuzz_file(terms, sizeof terms, "keyterms.txt", &parts[n - 1]);
    tc_taxonomy t;
    if (fuzz_note("labels", tc_taxonomy_read_teleclass(&t, labels, NULL, 1))) return 0;
    merge(&t, terms);
    tc_taxonomy_free(&t);
    return 0;
}
