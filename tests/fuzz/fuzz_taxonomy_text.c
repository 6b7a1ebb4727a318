// libFuzzer target: TELEClass's taxonomy files, labels.txt and
// label_hierarchy.txt (split on FUZZ_SEP, tests/fuzz/fuzz_files.h; no
// second part: a flat taxonomy), read as tc-taxo build reads them; a
// taxonomy accepted is then written and loaded back (tests/fuzz/fuzz_taxonomy.h).
#include "common/taxonomy/taxonomy_read.h"
#include "tests/fuzz/fuzz_files.h"
#include "tests/fuzz/fuzz_taxonomy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_part parts[2];
    int n = fuzz_split(data, size, parts, 2);
    char labels[512], hierarchy[512];
    fuzz_file(labels, sizeof labels, "labels.txt", &parts[0]);
    fuzz_file(hierarchy, sizeof hierarchy, "label_hierarchy.txt", n > 1 ? &parts[1] : NULL);
    for (int allow_isolated = 0; allow_isolated < 2; allow_isolated++) {
        tc_taxonomy t;
        if (fuzz_note("taxonomy", tc_taxonomy_read_teleclass(&t, labels, n > 1 ? hierarchy : NULL, allow_isolated)) == 0) {
            fuzz_taxonomy_use(&t);
            tc_taxonomy_free(&t);
        }
    }
    return 0;
}
