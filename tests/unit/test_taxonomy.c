// The taxonomy library: every validation error, depth and roots of a DAG,
// ancestors, descendants, paths, and the tensor round trip.
#include "tests/harness.h"
#include "common/taxonomy/taxonomy.h"
#include "common/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// A DAG with two roots and classes with two parents:
//   a > c > e,  a > d > e,  a > d > f,  b > d (so d has parents a and b)
static const char *const dag_names[] = {"a", "b", "c", "d", "e", "f"};
static const int32_t dag_edges[] = {0, 2, 0, 3, 1, 3, 2, 4, 3, 4, 3, 5};

static int build_dag(tc_taxonomy *t) { return tc_taxonomy_init(t, 6, dag_names, 6, dag_edges); }

static void test_dag_depth_roots_adjacency(void) {
    tc_taxonomy t;
    REQUIRE(build_dag(&t) == 0);
    int32_t depth[] = {1, 1, 2, 2, 3, 3};
    for (int i = 0; i < 6; i++) CHECKF(t.depth[i] == depth[i], "depth[%d] = %d", i, t.depth[i]);
    CHECK(t.max_depth == 3);
    CHECK(t.n_roots == 2 && t.roots[0] == 0 && t.roots[1] == 1);
    // parents of d: a then b (edge order); children of d: e then f
    CHECK(t.parent_offsets[4] - t.parent_offsets[3] == 2);
    CHECK(t.parents[t.parent_offsets[3]] == 0 && t.parents[t.parent_offsets[3] + 1] == 1);
    CHECK(t.children[t.child_offsets[3]] == 4 && t.children[t.child_offsets[3] + 1] == 5);
    CHECK(tc_taxonomy_is_leaf(&t, 4) && tc_taxonomy_is_leaf(&t, 5) && !tc_taxonomy_is_leaf(&t, 3));
    CHECK(tc_taxonomy_find(&t, "d") == 3 && tc_taxonomy_find(&t, "z") == -1);
    tc_taxonomy_free(&t);
}

static void test_ancestors_and_descendants(void) {
    tc_taxonomy t;
    REQUIRE(build_dag(&t) == 0);
    uint8_t mark[6] = {0};
    tc_taxonomy_mark_ancestors(&t, 4, mark);
    CHECK(mark[0] && mark[1] && mark[2] && mark[3] && !mark[4] && !mark[5]);
    memset(mark, 0, sizeof mark);
    tc_taxonomy_mark_descendants(&t, 0, mark);
    CHECK(!mark[0] && !mark[1] && mark[2] && mark[3] && mark[4] && mark[5]);
    // marks made earlier do not stop the walk: d is marked, its parents still are
    memset(mark, 0, sizeof mark);
    mark[3] = 1;
    tc_taxonomy_mark_ancestors(&t, 5, mark);
    CHECK(mark[0] && mark[1] && mark[3] && !mark[2]);
    tc_taxonomy_free(&t);
}

typedef struct {
    char text[256];
    size_t used;
    int stop_after;
    int seen;
} path_log;

static int log_path(const int32_t *path, int length, void *context) {
    path_log *log = context;
    for (int i = 0; i < length; i++)
        log->used += (size_t)snprintf(log->text + log->used, sizeof log->text - log->used, "%s%s", i ? ">" : "",
                                      dag_names[path[i]]);
    log->used += (size_t)snprintf(log->text + log->used, sizeof log->text - log->used, ";");
    return ++log->seen == log->stop_after;
}

static void test_paths_in_order(void) {
    tc_taxonomy t;
    REQUIRE(build_dag(&t) == 0);
    path_log log = {.stop_after = -1};
    CHECK(tc_taxonomy_paths(&t, log_path, &log) == 5);
    CHECKF(!strcmp(log.text, "a>c>e;a>d>e;a>d>f;b>d>e;b>d>f;"), "paths %s", log.text);
    CHECK(tc_taxonomy_path_count(&t) == 5);
    path_log stopped = {.stop_after = 2};
    CHECK(tc_taxonomy_paths(&t, log_path, &stopped) == -1 && stopped.seen == 2);
    CHECK(tc_taxonomy_paths(&t, NULL, NULL) == 5);
    tc_taxonomy_free(&t);
}

static void test_flat_taxonomy(void) {
    const char *names[] = {"x", "y", "z"};
    tc_taxonomy t;
    REQUIRE(tc_taxonomy_init(&t, 3, names, 0, NULL) == 0);
    CHECK(t.n_roots == 3 && t.max_depth == 1 && tc_taxonomy_path_count(&t) == 3);
    tc_taxonomy_free(&t);
}

// init fails with a message containing `want`.
static int fails_with(int n, const char *const *names, int n_edges, const int32_t *edges, const char *want) {
    tc_taxonomy t;
    if (tc_taxonomy_init(&t, n, names, n_edges, edges) == 0) {
        tc_taxonomy_free(&t);
        printf("  accepted; expected '%s'\n", want);
        return 0;
    }
    if (!strstr(tc_error(), want)) {
        printf("  message '%s' lacks '%s'\n", tc_error(), want);
        return 0;
    }
    return 1;
}

static void test_validation_errors(void) {
    const char *ok[] = {"a", "b", "c", "d"};
    const char *empty[] = {"a", "", "c"};
    const char *tab[] = {"a", "b\tx"};
    const char *dup[] = {"a", "b", "a"};
    int32_t e_unknown[] = {0, 1, 1, 7};
    int32_t e_negative[] = {-1, 1};
    int32_t e_self[] = {0, 1, 1, 1};
    int32_t e_dup[] = {0, 1, 0, 2, 0, 1};
    int32_t e_cycle[] = {0, 1, 1, 2, 2, 3, 3, 1};
    int32_t e_cycle2[] = {1, 0, 0, 1};
    CHECK(fails_with(0, ok, 0, NULL, "no classes"));
    CHECK(fails_with(3, empty, 0, NULL, "class 1 has an empty name"));
    CHECK(fails_with(2, tab, 0, NULL, "the name of class 1 ('b\\tx') has a control character (\\t) in it"));
    CHECK(fails_with(3, dup, 0, NULL, "duplicate class name 'a' (classes 0 and 2)"));
    CHECK(fails_with(4, ok, 2, e_unknown, "edge 1 (1 > 7) names a class id outside 0..3"));
    CHECK(fails_with(4, ok, 1, e_negative, "outside 0..3"));
    CHECK(fails_with(4, ok, 2, e_self, "self-loop: class 'b' (1) is its own parent"));
    CHECK(fails_with(4, ok, 3, e_dup, "duplicate edge 'a' > 'b' (0 > 1)"));
    CHECK(fails_with(4, ok, 4, e_cycle, "cycle: b > c > d > b"));
    CHECK(fails_with(4, ok, 2, e_cycle2, "class 'a' (0) is unreachable from a root: it is on or below the cycle b > a > b"));
    // c hangs below a cycle that no root reaches; d is a root elsewhere
    int32_t e_below[] = {0, 1, 1, 0, 1, 2};
    CHECK(fails_with(4, ok, 3, e_below, "class 'a' (0) is unreachable from a root: it is on or below the cycle"));
    int32_t e_below2[] = {3, 2, 0, 1, 1, 0, 0, 2};
    CHECK(fails_with(4, ok, 4, e_below2, "class 'a' (0) is unreachable from a root: it is on or below the cycle b > a > b"));
}

// Names reach terminals and one-line formats as they are: every control
// character is refused (shown escaped), printable UTF-8 is kept.
static void test_control_characters(void) {
    const char *osc[] = {"a", "b\033]0;x\007"}, *newline[] = {"a\nb"}, *del[] = {"x\177"};
    const char *c1[] = {"x\xc2\x85y"}, *latin1[] = {"caf\xe9"}, *utf8[] = {"caf\xc3\xa9", "\xe6\x97\xa5"};
    CHECK(fails_with(2, osc, 0, NULL, "the name of class 1 ('b\\x1b]0;x\\x07') has a control character (\\x1b)"));
    CHECK(fails_with(1, newline, 0, NULL, "('a\\nb') has a control character (\\n)"));
    CHECK(fails_with(1, del, 0, NULL, "(\\x7f)"));
    CHECK(fails_with(1, c1, 0, NULL, "(\\xc2)"));  // U+0085, a C1 control
    CHECK(fails_with(1, latin1, 0, NULL, "(\\xe9)"));  // not UTF-8
    CHECK(!strpbrk(tc_error(), "\033\007\n\t"));
    tc_taxonomy t;
    REQUIRE(tc_taxonomy_init(&t, 2, utf8, 0, NULL) == 0);
    const char *terms[] = {"fine", "bad\033[2J"};
    int32_t cls[] = {0, 1};
    CHECK(tc_taxonomy_set_terms(&t, 2, terms, cls) == -1);
    CHECKF(strstr(tc_error(), "key term 1 ('bad\\x1b[2J') has a control character (\\x1b)"), "%s", tc_error());
    tc_taxonomy_free(&t);
    // the shared rule and printer
    CHECK(tc_unprintable("caf\xc3\xa9 > b") == NULL);
    const char *text = "ok\tx";
    CHECK(tc_unprintable(text) == text + 2);
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    REQUIRE(f);
    CHECK(tc_fputs_escaped("a\033]0;x\007\t\xc3\xa9\xc2\x85", f) == 0);
    fclose(f);
    CHECKF(!strcmp(buf, "a\\x1b]0;x\\x07\\t\xc3\xa9\\xc2\\x85"), "%s", buf);
    free(buf);
}

// Each level's classes all parents of every class of the next: width^levels paths.
static int build_layers(tc_taxonomy *t, int levels, int width) {
    int n = levels * width, n_edges = (levels - 1) * width * width, e = 0;
    char **names = calloc((size_t)n, sizeof *names);
    int32_t *edges = calloc((size_t)n_edges * 2 + 2, sizeof *edges);
    for (int i = 0; i < n; i++) {
        names[i] = malloc(16);
        snprintf(names[i], 16, "l%dc%d", i / width, i % width);
    }
    for (int l = 0; l + 1 < levels; l++)
        for (int i = 0; i < width; i++)
            for (int j = 0; j < width; j++) edges[e++] = l * width + i, edges[e++] = (l + 1) * width + j;
    int rc = tc_taxonomy_init(t, n, (const char *const *)names, n_edges, edges);
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    free(edges);
    return rc;
}

static int count_visits(const int32_t *path, int length, void *context) {
    (void)path, (void)length;
    ++*(int64_t *)context;
    return 0;
}

// Counts saturate instead of wrapping; walks refuse what they cannot hold.
static void test_path_counts_saturate(void) {
    tc_taxonomy t;
    tc_path_totals totals;
    char text[32];
    REQUIRE(build_layers(&t, 40, 2) == 0);  // 2^40 paths of 40 classes
    REQUIRE(tc_taxonomy_path_totals(&t, &totals) == 0);
    CHECK(totals.paths == (int64_t)1 << 40 && totals.classes == ((int64_t)1 << 40) * 40);
    CHECK(!strcmp(tc_path_count_text(totals.paths, text), "1099511627776"));
    tc_taxonomy_free(&t);
    REQUIRE(build_layers(&t, 66, 2) == 0);  // 132 classes, 2^66 paths
    CHECK(tc_taxonomy_path_count(&t) == TC_PATHS_SATURATED);
    REQUIRE(tc_taxonomy_path_totals(&t, &totals) == 0);
    CHECK(totals.paths == TC_PATHS_SATURATED && totals.classes == TC_PATHS_SATURATED);
    CHECK(!strcmp(tc_path_count_text(totals.paths, text), ">= 9223372036854775807"));
    CHECK(tc_taxonomy_check_paths(&t, "the test", TC_PATHS_MAX, TC_PATH_CLASSES_MAX) == -1);
    CHECKF(strstr(tc_error(), "the taxonomy has >= 9223372036854775807 root-to-leaf paths (>= 9223372036854775807 "
                              "classes along them); the test takes at most 16777216 paths and 67108864 classes"),
           "%s", tc_error());
    int64_t visits = 0;
    CHECK(tc_taxonomy_paths(&t, count_visits, &visits) == -1 && visits == 0);
    tc_taxonomy_free(&t);
    // the caps are inclusive, for paths and classes alike
    REQUIRE(build_layers(&t, 40, 2) == 0);
    int64_t p40 = (int64_t)1 << 40;
    CHECK(tc_taxonomy_check_paths(&t, "the test", p40, 40 * p40) == 0);
    CHECK(tc_taxonomy_check_paths(&t, "the test", p40 - 1, 40 * p40) == -1);
    CHECK(tc_taxonomy_check_paths(&t, "the test", p40, 40 * p40 - 1) == -1);
    CHECK(tc_taxonomy_paths(&t, NULL, NULL) == -1);  // over the walk's own cap
    tc_taxonomy_free(&t);
}

static void test_terms(void) {
    tc_taxonomy t;
    REQUIRE(build_dag(&t) == 0);
    const char *terms[] = {"apple", "banana", "cherry"};
    int32_t cls[] = {0, 0, 5}, bad[] = {0, 6, 1};
    CHECK(tc_taxonomy_set_terms(&t, 3, terms, cls) == 0 && t.n_terms == 3 && !strcmp(t.terms[2], "cherry"));
    CHECK(tc_taxonomy_set_terms(&t, 3, terms, bad) == -1 && strstr(tc_error(), "class id 6"));
    CHECK(t.n_terms == 3 && t.term_class[2] == 5);  // unchanged after the failure
    const char *empty[] = {""};
    CHECK(tc_taxonomy_set_terms(&t, 1, empty, cls) == -1 && strstr(tc_error(), "empty"));
    tc_taxonomy_free(&t);
}

// Writes a taxonomy (plus optional extra tensors) into memory and reads it back.
static int round_trip(const tc_taxonomy *t, tct_bundle *b, int with_bad_depth) {
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    tct_writer *w;
    if (tct_writer_open(&w, f, "mem", NULL, 0, NULL)) return -1;
    int rc;
    if (with_bad_depth) {
        uint64_t c = (uint64_t)t->n_classes, e[2] = {(uint64_t)t->n_edges, 2};
        int32_t depth[6] = {1, 1, 2, 2, 3, 2};
        rc = tct_writer_string_tensor(w, "class_names", (const char *const *)t->names, c, NULL, 0) ||
             tct_writer_tensor(w, "edges", TCT_I32, 2, e, t->edges, NULL, 0) ||
             tct_writer_tensor(w, "depth", TCT_I32, 1, &c, depth, NULL, 0);
    } else {
        rc = tc_taxonomy_write(t, w);
    }
    rc = rc ? (tct_writer_abort(w), -1) : tct_writer_close(w);
    fclose(f);
    if (rc == 0) {
        FILE *in = fmemopen(buf, size, "rb");
        rc = tct_bundle_read(b, in, "mem");
        fclose(in);
    }
    free(buf);
    return rc;
}

static void test_write_and_load(void) {
    tc_taxonomy t, back;
    REQUIRE(build_dag(&t) == 0);
    const char *terms[] = {"apple", "fig"};
    int32_t cls[] = {0, 5};
    REQUIRE(tc_taxonomy_set_terms(&t, 2, terms, cls) == 0);
    tct_bundle b;
    REQUIRE(round_trip(&t, &b, 0) == 0);
    const tct_bundle_tensor *roots = tct_bundle_find(&b, "roots");
    REQUIRE(roots);
    CHECK(!strcmp(tct_attr_get(roots->attrs, roots->n_attrs, "virtual_root"), "yes"));
    REQUIRE(tc_taxonomy_from_bundle(&back, &b, "mem") == 0);
    CHECK(back.n_classes == 6 && back.n_edges == 6 && back.n_roots == 2 && back.n_terms == 2);
    CHECK(!strcmp(back.names[3], "d") && back.edges[9] == 4 && back.depth[5] == 3);
    CHECK(!strcmp(back.terms[1], "fig") && back.term_class[1] == 5);
    tc_taxonomy_free(&back);
    tct_bundle_free(&b);
    REQUIRE(round_trip(&t, &b, 1) == 0);
    CHECK(tc_taxonomy_from_bundle(&back, &b, "mem") == -1);
    CHECKF(strstr(tc_error(), "mem: tensor 'depth' disagrees with the edges at row 5"), "%s", tc_error());
    tct_bundle_free(&b);
    // a name with an escape sequence is refused from a tensor file too
    char *kept = t.names[2];
    t.names[2] = "c\033]0;x\007";
    REQUIRE(round_trip(&t, &b, 0) == 0);
    t.names[2] = kept;
    CHECK(tc_taxonomy_from_bundle(&back, &b, "mem") == -1);
    CHECKF(strstr(tc_error(), "mem: the name of class 2 ('c\\x1b]0;x\\x07') has a control character"), "%s", tc_error());
    tct_bundle_free(&b);
    tc_taxonomy_free(&t);
}

static void test_load_missing_file(void) {
    tc_taxonomy t;
    CHECK(tc_taxonomy_load(&t, "/nonexistent/taxo.tct") == -1 && strstr(tc_error(), "cannot open"));
}

int main(void) {
    RUN(test_dag_depth_roots_adjacency);
    RUN(test_ancestors_and_descendants);
    RUN(test_paths_in_order);
    RUN(test_flat_taxonomy);
    RUN(test_validation_errors);
    RUN(test_control_characters);
    RUN(test_path_counts_saturate);
    RUN(test_terms);
    RUN(test_write_and_load);
    RUN(test_load_missing_file);
    HARNESS_EXIT();
}
