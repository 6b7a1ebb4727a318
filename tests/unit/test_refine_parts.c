// Pieces of refinement: whole-word and exact key-term matching, the
// confidence gap, and the percentile (bit for bit against numpy.percentile
// on float32 arrays; the expected bits were printed by numpy 2.4).
#include "tests/harness.h"
#include "common/error.h"
#include "common/refine/refine.h"

#include <string.h>

// A taxonomy with terms only: what the matcher reads.
static tc_taxonomy small_taxonomy(void) {
    static char *names[3] = {"space_flight", "hockey", "école"};
    static char *terms[5] = {"orbit", "ice_hockey", "NHL", "rocket", "élève"};
    static int32_t term_class[5] = {0, 1, 1, 0, 2};
    tc_taxonomy t;
    memset(&t, 0, sizeof t);
    t.n_classes = 3, t.names = names, t.n_terms = 5, t.terms = terms, t.term_class = term_class;
    return t;
}

static int has(tc_term_matcher *m, const char *text, int c) {
    return tc_term_matcher_set_text(m, text) == 0 && tc_term_matcher_has(m, c);
}

static void test_word_match(void) {
    tc_taxonomy t = small_taxonomy();
    tc_term_matcher *m;
    REQUIRE(tc_term_matcher_create(&m, &t, TC_MATCH_WORD, 0) == 0);
    CHECK(tc_term_matcher_count(m, 0) == 2 && tc_term_matcher_count(m, 1) == 2);
    CHECK(has(m, "in orbit.", 0));
    CHECK(has(m, "Orbit", 0));                    // any case
    CHECK(has(m, "(ROCKET)", 0));
    CHECK(!has(m, "orbital mechanics", 0));       // whole words only
    CHECK(!has(m, "suborbit", 0));
    CHECK(!has(m, "orbit2", 0));
    CHECK(has(m, "an ice\t\n  hockey game", 1));  // white space runs are one space
    CHECK(has(m, "the nhl, again", 1));
    CHECK(!has(m, "icehockey", 1));
    CHECK(has(m, "Un ÉLÈVE arrive", 2));          // Unicode case folding
    CHECK(!has(m, "élèves", 2));
    CHECK(!has(m, "space flight", 0));            // names are not terms unless asked
    CHECK(has(m, "bad byte \xff orbit", 0));      // invalid UTF-8 still matches
    tc_term_matcher_free(m);
    REQUIRE(tc_term_matcher_create(&m, &t, TC_MATCH_WORD, 1) == 0);
    CHECK(has(m, "Space Flight today", 0) && tc_term_matcher_count(m, 0) == 3);
    tc_term_matcher_free(m);
}

static void test_exact_match(void) {
    tc_taxonomy t = small_taxonomy();
    tc_term_matcher *m;
    REQUIRE(tc_term_matcher_create(&m, &t, TC_MATCH_EXACT, 0) == 0);
    CHECK(has(m, "in orbit now", 0));
    CHECK(has(m, "orbit", 0));                    // " orbit " inside " orbit "
    CHECK(!has(m, "in orbit.", 0));               // the reference needs spaces around
    CHECK(!has(m, "Orbit", 0));                   // and the same case
    CHECK(has(m, "ice hockey", 1));
    CHECK(!has(m, "ice  hockey", 1));
    tc_term_matcher_free(m);
    tc_match_mode mode;
    CHECK(tc_match_mode_parse("exact", &mode) == 0 && mode == TC_MATCH_EXACT);
    CHECK(tc_match_mode_parse("fuzzy", &mode) == -1 && strstr(tc_error(), "fuzzy"));
}

static void test_confidence(void) {
    int keep;
    float a[4] = {0.9f, 0.8f, 0.3f, 0.25f};
    CHECK(fabsf(tc_refine_confidence(a, 4, &keep) - 0.5f) < 1e-6f && keep == 2);
    float b[4] = {0.9f, 0.2f, 0.1f, 0.0f};
    CHECK(fabsf(tc_refine_confidence(b, 4, &keep) - 0.7f) < 1e-6f && keep == 1);
    float c[4] = {0.9f, 0.8f, 0.7f, 0.1f};
    CHECK(fabsf(tc_refine_confidence(c, 4, &keep) - 0.6f) < 1e-6f && keep == 3);
    float d[4] = {1.0f, 0.75f, 0.5f, 0.25f};  // equal gaps: the first, as numpy.argmax
    tc_refine_confidence(d, 4, &keep);
    CHECK(keep == 1);
    float e[2] = {0.5f, 0.1f};
    CHECK(fabsf(tc_refine_confidence(e, 2, &keep) - 0.4f) < 1e-6f && keep == 1);
    CHECK(tc_refine_confidence(e, 1, &keep) == 0.0f && keep == 1);
}

static uint32_t bits(double v) {
    float f = (float)v;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static void test_percentile_matches_numpy(void) {
    float a[5] = {0.3f, 0.1f, 0.2f, 0.05f, 0.9f};
    CHECK(bits(tc_percentile(a, 5, 25)) == 1036831949u);
    float b[7] = {0.0957144f, 0.2f, 0.13f, 0.77f, 0.5f, 0.31f, 0.01f};
    CHECK(bits(tc_percentile(b, 7, 25)) == 1038557612u);
    float c[1] = {0.5f};
    CHECK(bits(tc_percentile(c, 1, 25)) == 1056964608u);
    float d[2] = {0.1f, 0.7f};
    CHECK(bits(tc_percentile(d, 2, 33.3)) == 1050247010u);
    float e[4] = {3e-5f, 1e-5f, 2e-5f, 4e-5f};
    CHECK(bits(tc_percentile(e, 4, 90)) == 941305970u);
    float f[3] = {3, 1, 2};
    CHECK(tc_percentile(f, 3, 0) == 1 && tc_percentile(f, 3, 100) == 3);
    CHECK(isnan(tc_percentile(f, 0, 25)));
}

int main(void) {
    RUN(test_word_match);
    RUN(test_exact_match);
    RUN(test_confidence);
    RUN(test_percentile_matches_numpy);
    HARNESS_EXIT();
}
