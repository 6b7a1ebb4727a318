// The annotation search on a small DAG (values by hand), the core-class
// rules, ancestors, and the LLM instruction and the lenient reading of its
// answers.
#include "tests/harness.h"
#include "common/refine/annotate.h"
#include "common/error.h"

#include <math.h>
#include <string.h>

// A(0) and B(1) are top-level; C(2) has both as parents; D(3) is C's child;
// E(4) is A's child.
static int dag(tc_taxonomy *t) {
    const char *names[5] = {"a_class", "b_class", "c_class", "d_class", "e_class"};
    int32_t edges[8] = {0, 2, 1, 2, 2, 3, 0, 4};
    return tc_taxonomy_init(t, 5, names, 4, edges);
}

static void test_search_on_a_dag(void) {
    tc_taxonomy t;
    REQUIRE(dag(&t) == 0);
    tc_search *s;
    REQUIRE(tc_search_create(&s, &t) == 0);
    // level 0 keeps A and B (by similarity); level 1: A passes C (e^.3 times
    // the better parent, A: e^.8) and E (e^.9 x e^.5 = e^1.4); B passes C
    // again; by path score E, C, C are kept. Level 2: C (twice) passes D,
    // path e^.2 x e^.8 = e^1.0.
    float cosine[5] = {0.5f, 0.4f, 0.3f, 0.2f, 0.9f};
    tc_candidates c = {0};
    REQUIRE(tc_search_run(s, cosine, &c) == 0);
    int32_t want[5] = {0, 1, 4, 2, 3};
    double path[5] = {0.5, 0.4, 1.4, 0.8, 1.0};
    REQUIRE(c.n == 5);
    for (int i = 0; i < 5; i++) {
        CHECKF(c.classes[i] == want[i], "candidate %d is %d, expected %d", i, c.classes[i], want[i]);
        CHECKF(fabs(log(c.path_score[i]) - path[i]) < 1e-6, "path score of %d: log %g", c.classes[i], log(c.path_score[i]));
        CHECK(c.cosine[i] == cosine[c.classes[i]]);
    }
    // the search starts afresh for each document
    float other[5] = {0.1f, 0.7f, 0.0f, 0.0f, 0.3f};
    REQUIRE(tc_search_run(s, other, &c) == 0);
    // B, A; then C (passed by B and by A, best parent B: e^.7) twice before E
    // (e^.3 x e^.1); then D
    CHECK(c.n == 5 && c.classes[0] == 1 && c.classes[1] == 0 && c.classes[2] == 2 && c.classes[3] == 4);
    CHECKF(fabs(log(c.path_score[2]) - 0.7) < 1e-6, "C's best parent is B now");
    tc_candidates_free(&c);
    tc_search_free(s);
    tc_taxonomy_free(&t);
}

// Subtree similarity on the DAG: D (.9) lifts C and both of C's parents; E
// (.1) lifts nothing. Every class comes after all its descendants in the
// bottom-up order, and a class with two parents (C) once.
static void test_subtree_max(void) {
    tc_taxonomy t;
    REQUIRE(dag(&t) == 0);
    int32_t order[5];
    REQUIRE(tc_taxonomy_bottom_up(&t, order) == 0);
    int at[5] = {-1, -1, -1, -1, -1};
    for (int i = 0; i < 5; i++) {
        REQUIRE(order[i] >= 0 && order[i] < 5 && at[order[i]] < 0);
        at[order[i]] = i;
    }
    CHECK(at[3] < at[2] && at[2] < at[0] && at[2] < at[1] && at[4] < at[0]);
    float cosine[5] = {0.5f, 0.4f, 0.3f, 0.9f, 0.1f};
    tc_subtree_max(&t, order, cosine);
    float want[5] = {0.9f, 0.9f, 0.9f, 0.9f, 0.1f};
    for (int c = 0; c < 5; c++) CHECKF(cosine[c] == want[c], "class %d: %g, expected %g", c, cosine[c], want[c]);
    // nothing below beats A's own .95; B gets the best of C and D (E is A's)
    float other[5] = {0.95f, 0.0f, 0.6f, 0.2f, 0.7f};
    tc_subtree_max(&t, order, other);
    CHECK(other[0] == 0.95f && other[1] == 0.6f && other[2] == 0.6f && other[3] == 0.2f && other[4] == 0.7f);
    tc_class_similarity sim;
    CHECK(tc_class_similarity_parse("own", &sim) == 0 && sim == TC_SIMILARITY_OWN);
    CHECK(tc_class_similarity_parse("subtree", &sim) == 0 && sim == TC_SIMILARITY_SUBTREE);
    CHECK(tc_class_similarity_parse("best", &sim) == -1 && strstr(tc_error(), "'best'"));
    tc_taxonomy_free(&t);
}

static void test_core_rules_and_ancestors(void) {
    tc_taxonomy t;
    REQUIRE(dag(&t) == 0);
    tc_candidates c = {0};
    tc_search *s;
    REQUIRE(tc_search_create(&s, &t) == 0);
    float cosine[5] = {0.5f, 0.4f, 0.3f, 0.45f, 0.9f};
    REQUIRE(tc_search_run(s, cosine, &c) == 0);
    uint8_t mark[5] = {0};
    int32_t core[8], out[8];
    uint8_t is_core[8];
    // top four: E .9, A .5, D .45, B .4: the widest drop is the first
    CHECK(tc_core_select(&t, &c, TC_CORE_GAP, core, mark) == 1 && core[0] == 4);
    CHECK(tc_core_select(&t, &c, TC_CORE_TOP, core, mark) == 1 && core[0] == 4);
    // path scores: E e^1.4 beats D e^(.45+.3+.5)
    CHECK(tc_core_select(&t, &c, TC_CORE_PATH, core, mark) == 1 && core[0] == 4);
    float deeper[5] = {0.5f, 0.4f, 0.3f, 0.7f, 0.9f};  // D: e^1.5 now
    REQUIRE(tc_search_run(s, deeper, &c) == 0);
    CHECK(tc_core_select(&t, &c, TC_CORE_PATH, core, mark) == 1 && core[0] == 3);
    REQUIRE(tc_search_run(s, cosine, &c) == 0);
    for (int i = 0; i < 5; i++) CHECK(mark[i] == 0);
    // D's ancestors are C, A and B; core classes first, then ancestors by id
    int32_t d[1] = {3};
    int n = tc_with_ancestors(&t, d, 1, out, is_core, mark);
    CHECK(n == 4 && out[0] == 3 && out[1] == 0 && out[2] == 1 && out[3] == 2);
    CHECK(is_core[0] == 1 && is_core[1] == 0 && is_core[3] == 0);
    // a core class that is an ancestor of another stays a core class, once
    int32_t two[3] = {3, 2, 3};
    n = tc_with_ancestors(&t, two, 3, out, is_core, mark);
    CHECK(n == 4 && out[0] == 3 && out[1] == 2 && is_core[1] == 1 && out[2] == 0 && out[3] == 1);
    for (int i = 0; i < 5; i++) CHECK(mark[i] == 0);
    tc_candidates_free(&c);
    tc_search_free(s);
    tc_taxonomy_free(&t);
}

static void test_prompt_and_replies(void) {
    tc_taxonomy t;
    REQUIRE(dag(&t) == 0);
    int32_t classes[3] = {4, 2, 0};
    float cos3[3] = {0};
    double path3[3] = {0};
    tc_candidates c = {.n = 3, .classes = classes, .cosine = cos3, .path_score = path3};
    char *p = tc_annotate_prompt(tc_annotate_prompt_template("review"), &t, &c);
    REQUIRE(p);
    CHECKF(strstr(p, "Amazon product review") && strstr(p, "categories: e class, c class, a class. Just give"), "%s", p);
    free(p);
    CHECK(tc_annotate_prompt_template("poetry") == NULL);
    int32_t core[8];
    int unknown;
    CHECK(tc_annotate_parse_reply("c class, a class", &t, &c, core, &unknown) == 2 && core[0] == 2 && core[1] == 0 && unknown == 0);
    CHECK(tc_annotate_parse_reply("C_Class.", &t, &c, core, &unknown) == 1 && core[0] == 2);
    CHECK(tc_annotate_parse_reply("Categories: \"e class\"; a-class\n- c class\n1. e class", &t, &c, core, &unknown) == 3);
    CHECK(core[0] == 4 && core[1] == 0 && core[2] == 2 && unknown == 0);
    CHECK(tc_annotate_parse_reply("b class, d class, zebra", &t, &c, core, &unknown) == 0 && unknown == 3);  // not candidates
    CHECK(tc_annotate_parse_reply("", &t, &c, core, &unknown) == 0 && unknown == 0);
    CHECK(tc_annotate_parse_reply(", ,\n\n", &t, &c, core, &unknown) == 0);
    tc_taxonomy_free(&t);
}

int main(void) {
    RUN(test_search_on_a_dag);
    RUN(test_subtree_max);
    RUN(test_core_rules_and_ancestors);
    RUN(test_prompt_and_replies);
    HARNESS_EXIT();
}
