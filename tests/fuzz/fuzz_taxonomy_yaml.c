// libFuzzer target: a taxonomy written as a YAML tree, read as
// tc-taxo build --yaml reads it; a taxonomy accepted is then written and
// loaded back (tests/fuzz/fuzz_taxonomy.h).
#include "common/taxonomy/taxonomy_read.h"
#include "tests/fuzz/fuzz_files.h"
#include "tests/fuzz/fuzz_taxonomy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[512];
    fuzz_part whole = {data, size};
    fuzz_file(path, sizeof path, "tree.yaml", &whole);
    tc_taxonomy t;
    if (fuzz_note("taxonomy", tc_taxonomy_read_yaml(&t, path)) == 0) {
        fuzz_taxonomy_use(&t);
        tc_taxonomy_free(&t);
    }
    return 0;
}
