// Training targets on a DAG with multiple parents, against values worked
// out by hand.
#include "tests/harness.h"
#include "common/taxonomy/targets.h"
#include "common/error.h"

//   a(0) > c(2) > e(4)
//   a(0) > d(3) > e(4), d(3) > f(5)
//   b(1) > d(3)
static const char *const names[] = {"a", "b", "c", "d", "e", "f"};
static const int32_t edges[] = {0, 2, 0, 3, 1, 3, 2, 4, 3, 4, 3, 5};

static int row_is(const tc_labels *l, uint64_t i, const int64_t *offsets, const int32_t *classes, const int32_t *want,
                  int n) {
    if (offsets[i + 1] - offsets[i] != n) return 0;
    for (int k = 0; k < n; k++)
        if (classes[offsets[i] + k] != want[k]) return 0;
    (void)l;
    return 1;
}

#define POS(i, ...)                                                                                \
    do {                                                                                           \
        int32_t want_[] = {__VA_ARGS__};                                                           \
        CHECKF(row_is(&out, i, out.offsets, out.classes, want_, (int)(sizeof want_ / sizeof *want_)), \
               "positives of document %d", i);                                                     \
    } while (0)
#define MASK(i, ...)                                                                                         \
    do {                                                                                                     \
        int32_t want_[] = {__VA_ARGS__};                                                                     \
        CHECKF(row_is(&out, i, out.mask_offsets, out.mask_classes, want_, (int)(sizeof want_ / sizeof *want_)), \
               "mask of document %d", i);                                                                    \
    } while (0)
#define NO_MASK(i) CHECKF(out.mask_offsets[(i) + 1] == out.mask_offsets[i], "document %d masks classes", i)

static void test_dag_targets(void) {
    tc_taxonomy t;
    REQUIRE(tc_taxonomy_init(&t, 6, names, 6, edges) == 0);
    // core classes: {d}, {c}, {e}, {a,e}, {}, {c,f}
    char *ids[] = {"d", "c", "e", "ae", "none", "cf"};
    int64_t off[] = {0, 1, 2, 3, 5, 5, 7};
    int32_t cls[] = {3, 2, 4, 0, 4, 2, 5};
    tc_labels core = {.n_docs = 6, .doc_ids = ids, .offsets = off, .classes = cls};
    // augmented: two documents labeled with paths b > d > f and a > c > e
    char *gids[] = {"g1", "g2"};
    int64_t goff[] = {0, 3, 6};
    int32_t gcls[] = {1, 3, 5, 0, 2, 4};
    tc_labels aug = {.n_docs = 2, .doc_ids = gids, .offsets = goff, .classes = gcls};
    tc_labels out;
    tc_targets_summary s;
    REQUIRE(tc_targets_build(&t, &core, &aug, -1, &out, &s) == 0);
    REQUIRE(out.n_docs == 7);
    CHECK(s.core_docs == 5 && s.core_empty == 1 && s.augmented_docs == 2 && s.augmented_weight == 2.5f);
    CHECK(!strcmp(out.doc_ids[3], "ae") && !strcmp(out.doc_ids[4], "cf") && !strcmp(out.doc_ids[5], "g1"));
    // {d}: d and both its parents; its children e and f masked; c negative
    POS(0, 0, 1, 3);
    MASK(0, 4, 5);
    // {c}: c and a; e (child of c) masked, even though e has another parent d
    POS(1, 0, 2);
    MASK(1, 4);
    // {e}: e and every ancestor along both paths; a leaf masks nothing
    POS(2, 0, 1, 2, 3, 4);
    NO_MASK(2);
    // {a,e}: descendants of a are c,d,e,f; c,d,e are positive (ancestors of e), so only f is masked
    POS(3, 0, 1, 2, 3, 4);
    MASK(3, 5);
    // {c,f}: positives a,b,c,d,f; e (below c) masked
    POS(4, 0, 1, 2, 3, 5);
    MASK(4, 4);
    // augmented: their path classes and ancestors, nothing masked, weight 5/2
    POS(5, 0, 1, 3, 5);
    NO_MASK(5);
    // the path a > c > e: e's other parent d (and d's parent b) are ancestors too
    POS(6, 0, 1, 2, 3, 4);
    NO_MASK(6);
    for (int i = 0; i < 5; i++) CHECK(out.doc_weights[i] == 1.0f);
    CHECK(out.doc_weights[5] == 2.5f && out.doc_weights[6] == 2.5f);
    tc_labels_free(&out);
    // a weight of one's own (tc-taxo targets --augmented-weight): the same
    // targets, the augmented documents weigh it
    REQUIRE(tc_targets_build(&t, &core, &aug, 0.75, &out, &s) == 0);
    CHECK(s.augmented_weight == 0.75f && out.n_docs == 7);
    for (int i = 0; i < 5; i++) CHECK(out.doc_weights[i] == 1.0f);
    CHECK(out.doc_weights[5] == 0.75f && out.doc_weights[6] == 0.75f);
    POS(6, 0, 1, 2, 3, 4);
    tc_labels_free(&out);
    tc_taxonomy_free(&t);
}

// Gold sets that list whole paths keep their deepest classes: {a, c, e}
// (a > c > e) keeps e; {b, d, c} keeps d and c (b is above d; neither d nor
// c is above the other); an empty set stays empty; a set repeating a leaf
// keeps both copies.
static void test_keep_deepest(void) {
    tc_taxonomy t;
    REQUIRE(tc_taxonomy_init(&t, 6, names, 6, edges) == 0);
    char *ids[] = {"p", "q", "r", "s"};
    int64_t off[] = {0, 3, 6, 6, 8};
    int32_t cls[] = {0, 2, 4, 1, 3, 2, 5, 5};
    float sc[] = {.1f, .2f, .3f, .4f, .5f, .6f, .7f, .8f};
    tc_labels l = {.n_docs = 4, .doc_ids = ids, .offsets = off, .classes = cls, .scores = sc};
    REQUIRE(tc_labels_keep_deepest(&l, &t) == 3);
    int64_t want_off[] = {0, 1, 3, 3, 5};
    int32_t want[] = {4, 3, 2, 5, 5};
    float want_sc[] = {.3f, .5f, .6f, .7f, .8f};
    for (int i = 0; i < 5; i++) CHECK(off[i] == want_off[i]);
    for (int i = 0; i < 5; i++) CHECK(cls[i] == want[i] && sc[i] == want_sc[i]);
    tc_taxonomy_free(&t);
}

static void test_targets_errors(void) {
    tc_taxonomy t;
    REQUIRE(tc_taxonomy_init(&t, 6, names, 6, edges) == 0);
    char *ids[] = {"x", "y"};
    int64_t off[] = {0, 1, 2};
    int32_t cls[] = {1, 2};
    tc_labels core = {.n_docs = 2, .doc_ids = ids, .offsets = off, .classes = cls}, out;
    tc_targets_summary s;
    char *gids[] = {"y"};
    int64_t goff[] = {0, 1};
    int32_t gcls[] = {4};
    tc_labels aug = {.n_docs = 1, .doc_ids = gids, .offsets = goff, .classes = gcls};
    CHECK(tc_targets_build(&t, &core, &aug, -1, &out, &s) == -1);
    CHECKF(strstr(tc_error(), "document id 'y' appears twice (augmented documents)"), "%s", tc_error());
    int64_t none[] = {0, 0, 0};
    core.offsets = none;
    CHECK(tc_targets_build(&t, &core, NULL, -1, &out, &s) == -1 && strstr(tc_error(), "no core document has a class"));
    core.offsets = off;
    cls[1] = 9;
    CHECK(tc_targets_build(&t, &core, NULL, -1, &out, &s) == -1 && strstr(tc_error(), "class id 9 is not in the taxonomy"));
    tc_taxonomy_free(&t);
}

int main(void) {
    RUN(test_dag_targets);
    RUN(test_keep_deepest);
    RUN(test_targets_errors);
    HARNESS_EXIT();
}
