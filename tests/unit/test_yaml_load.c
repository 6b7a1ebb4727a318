// tc_yaml_load: the bounds every YAML reader gets (alias expansion, depth,
// cycles, a second document, the file's size), with small limits.
#include "tests/harness.h"
#include "common/cli/yaml_load.h"
#include "common/error.h"


// Loads `text` under the limits; 0 or -1, the document freed.
static int load(const char *text, const tc_yaml_limits *limits) {
    const char *path = harness_write_file("t.yaml", text);
    FILE *f = fopen(path, "rb");
    yaml_document_t doc;
    int rc = tc_yaml_load(f, "t.yaml", limits, &doc);
    fclose(f);
    if (rc == 0) yaml_document_delete(&doc);
    return rc;
}

static int error_has(const char *part) {
    if (strstr(tc_error(), part)) return 1;
    printf("  message: %s\n", tc_error());
    return 0;
}

static void test_alias_expansion_is_bounded(void) {
    // `b` adds 4 copies of `a`'s tree: 4 * (8 + 4 * (8 + 1)) = 176 bytes more
    const char *text = "a: &a [x, y, z, w]\nb: [*a, *a, *a, *a]\n";
    CHECK(load(text, &(tc_yaml_limits){.max_depth = 4, .max_expansion = 176}) == 0);
    CHECK(load(text, &(tc_yaml_limits){.max_depth = 4, .max_expansion = 175}) == -1);
    CHECK(error_has("t.yaml: line 1: aliases expand the document by more than 0 KiB"));
    // nine levels of nine: refused after a few hundred visits, not 9^9
    char laughs[2048] = "l0: &l0 [a, a, a, a, a, a, a, a, a]\n";
    for (int i = 1; i < 9; i++) {
        char line[128];
        snprintf(line, sizeof line, "l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n", i, i,
                 i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
        strcat(laughs, line);
    }
    CHECK(load(laughs, &(tc_yaml_limits){.max_depth = 16, .max_expansion = 1 << 20}) == -1);
    CHECK(error_has("t.yaml: line 6: aliases expand the document by more than 1024 KiB"));
    // without aliases any size is the document's own
    CHECK(load("a: [x, y, z, w, v, u, t, s]\n", &(tc_yaml_limits){.max_depth = 4, .max_expansion = 0}) == 0);
}

static void test_depth_is_bounded(void) {
    tc_yaml_limits limits = {.max_depth = 3, .max_expansion = 1 << 20};
    CHECK(load("a:\n  b:\n    c: 1\n", &limits) == 0);  // the scalar 1 is level 3
    CHECK(load("a:\n  b:\n    c:\n      d: 1\n", &limits) == -1);
    CHECK(error_has("t.yaml: line 4: nested more than 3 levels deep"));
    // through an alias whose own tree is shallow where it is written
    CHECK(load("x: &x {p: {q: 1}}\ny: {z: *x}\n", &limits) == -1);
    CHECK(error_has("t.yaml: line 1: nested more than 3 levels deep"));
    CHECK(load("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n", &limits) == -1);
}

// "\0" is a valid YAML escape; readers take scalars as C strings and would
// keep only what comes before it ("batch\0-size" read as "batch").
static void test_nul_in_a_scalar_is_refused(void) {
    tc_yaml_limits limits = {.max_depth = 16, .max_expansion = 1 << 20};
    CHECK(load("a: 1\n\"batch\\0-size\": 2\n", &limits) == -1);
    CHECK(error_has("t.yaml: line 2: a value holds a NUL byte"));
    CHECK(load("a: \"1\\0 2\"\n", &limits) == -1);
    CHECK(error_has("t.yaml: line 1: a value holds a NUL byte"));
    CHECK(load("a: \"1\\t2\"\n", &limits) == 0);
}

static void test_cycles_documents_and_size(void) {
    tc_yaml_limits limits = {.max_depth = 16, .max_expansion = 1 << 20};
    CHECK(load("a: &a [b, *a]\n", &limits) == -1);
    CHECK(error_has("t.yaml: line 1: an alias inside the node it names"));
    CHECK(load("a: 1\n---\nb: 2\n", &limits) == -1);
    CHECK(error_has("t.yaml: line 3: a second YAML document"));
    CHECK(load("a: 1\n---\nb: [\n", &limits) == -1);  // what follows is read, errors and all
    CHECK(load("a: 1\n...\n", &limits) == 0);
    CHECK(load("", &limits) == 0);
    CHECK(load("# only a comment\n", &limits) == 0);
    limits.max_bytes = 10;
    CHECK(load("a: 12345\n", &limits) == 0);  // 9 bytes
    CHECK(load("a: 1234567\n", &limits) == -1);
    CHECK(error_has("t.yaml: longer than 0 KiB"));
    CHECK(load("a: [1\n", &limits) == -1);
    CHECK(error_has("t.yaml: line 2: "));
}

int main(void) {
    RUN(test_alias_expansion_is_bounded);
    RUN(test_depth_is_bounded);
    RUN(test_cycles_documents_and_size);
    RUN(test_nul_in_a_scalar_is_refused);
    HARNESS_EXIT();
}
