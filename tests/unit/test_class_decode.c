// Decoding class scores: top k (order, ties, NaN, k >= K), thresholded sets,
// and path-consistent decoding on a DAG whose classes have several parents,
// against paths and scores worked out by hand, plus the property that a
// decoded set never holds a class without one of its parents.
#include "tests/harness.h"
#include "common/predict/class_decode.h"
#include "common/error.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

// A DAG with two roots; D has parents A and B, E has parents C and D:
//
//   A: children C, D         edges in this order:
//   B: children D, F         A>C, A>D, B>D, C>E, D>E, B>F, D>G
//   C: child E
//   D: children E, G  (D below A and B; E below C and D)
//
// Root-to-leaf paths in the taxonomy's order (roots in order, children in
// edge order): 0 A>C>E, 1 A>D>E, 2 A>D>G, 3 B>D>E, 4 B>D>G, 5 B>F.
enum { A, B, C, D, E, F, G, K = 7 };
static const char *const names[K] = {"A", "B", "C", "D", "E", "F", "G"};
static const int32_t edges[] = {A, C, A, D, B, D, C, E, D, E, B, F, D, G};

// Probabilities chosen by hand; the scores are their logits.
static const double prob[K] = {[A] = 0.9, [B] = 0.6, [C] = 0.2, [D] = 0.8, [E] = 0.7, [F] = 0.95, [G] = 0.1};

static void logits(float *s) {
    for (int c = 0; c < K; c++) s[c] = (float)log(prob[c] / (1 - prob[c]));
}

// log P of a path, by hand: sum (or mean) of log prob along it.
static double path_log_p(const int *path, int m, int mean) {
    double s = 0;
    for (int i = 0; i < m; i++) s += log(prob[path[i]]);
    return mean ? s / m : s;
}

static int build(tc_taxonomy *t) { return tc_taxonomy_init(t, K, names, 7, edges); }

static void test_paths_listed_in_order(void) {
    tc_taxonomy t;
    REQUIRE(build(&t) == 0);
    tc_path_decoder d;
    REQUIRE(tc_path_decoder_init(&d, &t, TC_PATH_MEAN, 1, 0) == 0);
    static const int expect[6][3] = {{A, C, E}, {A, D, E}, {A, D, G}, {B, D, E}, {B, D, G}, {B, F, -1}};
    CHECK(d.n_paths == 6);
    for (int p = 0; p < 6 && p < d.n_paths; p++)
        for (int i = 0; i < 3; i++) {
            int64_t at = d.offsets[p] + i;
            if (expect[p][i] < 0) CHECKF(at == d.offsets[p + 1], "path %d is longer than expected", p);
            else CHECKF(at < d.offsets[p + 1] && d.nodes[at] == expect[p][i], "path %d, class %d", p, i);
        }
    tc_path_decoder_free(&d);
    tc_taxonomy_free(&t);
}

// Worked by hand (log of the probabilities above):
//   path        sum      mean
//   A>C>E    -2.0715   -0.6905
//   A>D>E    -0.6852   -0.2284   best by the mean
//   A>D>G    -2.6311   -0.8770
//   B>D>E    -1.0906   -0.3635
//   B>D>G    -3.0366   -1.0122
//   B>F      -0.5621   -0.2811   best by the sum (shorter)
static void test_mean_rule_best_paths(void) {
    tc_taxonomy t;
    REQUIRE(build(&t) == 0);
    float s[K], ps[3];
    int32_t set[K];
    logits(s);
    tc_path_decoder d;
    REQUIRE(tc_path_decoder_init(&d, &t, TC_PATH_MEAN, 1, 0) == 0);
    int n = tc_path_decode(&d, s, set, ps);
    CHECK(n == 3 && set[0] == A && set[1] == D && set[2] == E);
    static const int ade[] = {A, D, E}, bf[] = {B, F}, bde[] = {B, D, E};
    CHECKF(fabs(ps[0] - path_log_p(ade, 3, 1)) < 1e-6, "score %.7f", ps[0]);
    CHECK(fabs(ps[0] - -0.228393) < 1e-5);
    tc_path_decoder_free(&d);

    // three paths: A>D>E, B>F, B>D>E; the third adds no class
    REQUIRE(tc_path_decoder_init(&d, &t, TC_PATH_MEAN, 3, 0) == 0);
    n = tc_path_decode(&d, s, set, ps);
    CHECK(n == 5 && set[0] == A && set[1] == D && set[2] == E && set[3] == B && set[4] == F);
    CHECK(d.best[0] == 1 && d.best[1] == 5 && d.best[2] == 3);
    CHECK(fabs(ps[1] - path_log_p(bf, 2, 1)) < 1e-6 && fabs(ps[2] - path_log_p(bde, 3, 1)) < 1e-6);
    CHECK(ps[0] >= ps[1] && ps[1] >= ps[2]);
    tc_path_decoder_free(&d);
    tc_taxonomy_free(&t);
}

static void test_sum_rule_prefers_the_short_path(void) {
    tc_taxonomy t;
    REQUIRE(build(&t) == 0);
    float s[K], ps[2];
    int32_t set[K];
    logits(s);
    tc_path_decoder d;
    REQUIRE(tc_path_decoder_init(&d, &t, TC_PATH_SUM, 2, 0) == 0);
    int n = tc_path_decode(&d, s, set, ps);
    CHECK(n == 5 && set[0] == B && set[1] == F && set[2] == A && set[3] == D && set[4] == E);
    static const int bf[] = {B, F}, ade[] = {A, D, E};
    CHECK(fabs(ps[0] - path_log_p(bf, 2, 0)) < 1e-6 && fabs(ps[1] - path_log_p(ade, 3, 0)) < 1e-6);
    CHECK(fabs(ps[0] - -0.562119) < 1e-5);
    tc_path_decoder_free(&d);
    tc_taxonomy_free(&t);
}

// E sits below C and below D (itself below A and B): each parent chain is a
// path of its own, and E's best chain decides. With C likely and D not,
// E comes through A>C>E; with D likely, through A>D>E.
static void test_class_with_several_parents_takes_its_best_chain(void) {
    tc_taxonomy t;
    REQUIRE(build(&t) == 0);
    float s[K];
    float ps[1];
    int32_t set[K];
    tc_path_decoder d;
    REQUIRE(tc_path_decoder_init(&d, &t, TC_PATH_MEAN, 1, 0) == 0);
    // A .9, B .1, C .9, D .3, E .99, F .01, G .01
    static const double p1[K] = {0.9, 0.1, 0.9, 0.3, 0.99, 0.01, 0.01};
    for (int c = 0; c < K; c++) s[c] = (float)log(p1[c] / (1 - p1[c]));
    int n = tc_path_decode(&d, s, set, ps);
    CHECK(n == 3 && set[0] == A && set[1] == C && set[2] == E);
    // B .95, A .5, D .9: B>D>E (mean log of .95 .9 .99) beats A>D>E and A>C>E
    static const double p2[K] = {0.5, 0.95, 0.4, 0.9, 0.99, 0.2, 0.3};
    for (int c = 0; c < K; c++) s[c] = (float)log(p2[c] / (1 - p2[c]));
    n = tc_path_decode(&d, s, set, ps);
    CHECK(n == 3 && set[0] == B && set[1] == D && set[2] == E);
    CHECK(fabs(ps[0] - (log(0.95) + log(0.9) + log(0.99)) / 3) < 1e-6);
    tc_path_decoder_free(&d);
    tc_taxonomy_free(&t);
}

static void test_ties_nan_and_more_paths_than_exist(void) {
    tc_taxonomy t;
    REQUIRE(build(&t) == 0);
    float s[K] = {0}, ps[8];
    int32_t set[K];
    tc_path_decoder d;
    // all equal: every mean is log 0.5, the first path wins
    REQUIRE(tc_path_decoder_init(&d, &t, TC_PATH_MEAN, 1, 0) == 0);
    int n = tc_path_decode(&d, s, set, ps);
    CHECK(n == 3 && set[0] == A && set[1] == C && set[2] == E);
    // a NaN score is the lowest: A>C>E drops out, A>D>E (next in order) wins
    s[C] = NAN;
    n = tc_path_decode(&d, s, set, ps);
    CHECK(n == 3 && set[0] == A && set[1] == D && set[2] == E);
    tc_path_decoder_free(&d);
    // 8 paths asked, 6 exist: all classes, the last two scores -inf
    REQUIRE(tc_path_decoder_init(&d, &t, TC_PATH_SUM, 8, 0) == 0);
    logits(s);
    n = tc_path_decode(&d, s, set, ps);
    CHECK(n == K);
    CHECK(isinf(ps[6]) && ps[6] < 0 && isinf(ps[7]) && d.best[7] == -1);
    for (int j = 0; j < 5; j++) CHECK(ps[j] >= ps[j + 1]);
    tc_path_decoder_free(&d);
    // too many paths for the limit: refused with the count
    CHECK(tc_path_decoder_init(&d, &t, TC_PATH_SUM, 1, 5) == -1);
    CHECKF(strstr(tc_error(), "6 root-to-leaf paths") != NULL, "%s", tc_error());
    CHECK(tc_path_decoder_init(&d, &t, TC_PATH_SUM, 1, 12) == -1);
    CHECK(tc_path_decoder_init(&d, &t, TC_PATH_SUM, 0, 0) == -1);
    tc_taxonomy_free(&t);
}

// 26 levels of two classes, each a parent of both classes below: 2^26 paths
// from 52 classes. The decoder counts them (never wrapping) and refuses
// them before it allocates room for them.
static void test_multiplying_paths_refused(void) {
    char names26[52][8];
    const char *name_of[52];
    int32_t layered[25 * 4 * 2];
    int e = 0;
    for (int i = 0; i < 52; i++) snprintf(names26[i], sizeof names26[i], "c%d", i), name_of[i] = names26[i];
    for (int l = 0; l < 25; l++)
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++) layered[e++] = 2 * l + i, layered[e++] = 2 * (l + 1) + j;
    tc_taxonomy t;
    REQUIRE(tc_taxonomy_init(&t, 52, name_of, 100, layered) == 0);
    tc_path_decoder d;
    CHECK(tc_path_decoder_init(&d, &t, TC_PATH_MEAN, 1, 0) == -1);
    CHECKF(strstr(tc_error(), "67108864 root-to-leaf paths") && strstr(tc_error(), "at most 16777216 paths"), "%s",
           tc_error());
    CHECK(d.offsets == NULL && d.nodes == NULL);
    tc_taxonomy_free(&t);
}

static double uniform(uint64_t *st) {
    *st ^= *st << 13, *st ^= *st >> 7, *st ^= *st << 17;
    return (double)(*st >> 11) / (double)(1ull << 53);
}

// Whatever the scores, every class of a decoded set is a top-level class or
// has a parent in the set, and the best path is the best of all paths.
static void test_sets_are_closed_under_parents(void) {
    tc_taxonomy t;
    REQUIRE(build(&t) == 0);
    uint64_t st = 99;
    for (int rule = 0; rule < 2; rule++)
        for (int n_best = 1; n_best <= 4; n_best++) {
            tc_path_decoder d;
            REQUIRE(tc_path_decoder_init(&d, &t, (tc_path_rule)rule, n_best, 0) == 0);
            for (int trial = 0; trial < 200; trial++) {
                float s[K], ps[4];
                int32_t set[K];
                uint8_t in[K] = {0};
                for (int c = 0; c < K; c++) s[c] = (float)(12 * uniform(&st) - 6);
                int n = tc_path_decode(&d, s, set, ps);
                for (int i = 0; i < n; i++) in[set[i]] = 1;
                for (int i = 0; i < n; i++) {
                    int c = set[i], has_parent = t.depth[c] == 1;
                    for (int32_t j = t.parent_offsets[c]; j < t.parent_offsets[c + 1]; j++) has_parent |= in[t.parents[j]];
                    CHECKF(has_parent, "rule %d, %d paths, trial %d: %s without a parent", rule, n_best, trial, names[c]);
                }
                // brute force: no path scores above the first chosen
                for (int64_t p = 0; p < d.n_paths; p++) {
                    double sum = 0;
                    for (int64_t i = d.offsets[p]; i < d.offsets[p + 1]; i++)
                        sum += log(1 / (1 + exp(-(double)s[d.nodes[i]])));
                    if (rule == TC_PATH_MEAN) sum /= (double)(d.offsets[p + 1] - d.offsets[p]);
                    CHECKF(sum <= ps[0] + 1e-6, "path %lld scores %g above the best %g", (long long)p, sum, ps[0]);
                }
            }
            tc_path_decoder_free(&d);
        }
    tc_taxonomy_free(&t);
}

static void test_topk(void) {
    const float s[6] = {0.5f, 2.0f, NAN, 2.0f, -1.0f, 0.5f};
    int32_t cls[6], scratch[6];
    float top[6];
    tc_topk(s, 6, 3, cls, top, scratch);
    CHECK(cls[0] == 1 && cls[1] == 3 && cls[2] == 0);  // ties to the lower id
    CHECK(top[0] == 2.0f && top[2] == 0.5f);
    tc_topk(s, 6, 6, cls, top, scratch);  // the whole row: NaN last
    static const int32_t all[6] = {1, 3, 0, 5, 4, 2};
    for (int j = 0; j < 6; j++) CHECKF(cls[j] == all[j], "rank %d: class %d", j, cls[j]);
    tc_topk(s, 6, 1, cls, top, scratch);
    CHECK(cls[0] == 1);
    // a long row, few kept (insertion) against the whole sorted (qsort)
    float big[500];
    int32_t few[5], many[500], sc[500];
    float ft[5], mt[500];
    uint64_t st = 7;
    for (int c = 0; c < 500; c++) big[c] = (float)(int)(20 * uniform(&st));  // many ties
    tc_topk(big, 500, 5, few, ft, sc);
    tc_topk(big, 500, 500, many, mt, sc);
    for (int j = 0; j < 5; j++) CHECKF(few[j] == many[j], "rank %d: %d vs %d", j, few[j], many[j]);
    for (int j = 0; j < 499; j++)
        CHECK(mt[j] > mt[j + 1] || (mt[j] == mt[j + 1] && many[j] < many[j + 1]));
}

static void test_threshold_set(void) {
    // probabilities .88, .5, .27, .95 (logits 2, 0, -1, 3)
    const float s[4] = {2.0f, 0.0f, -1.0f, 3.0f};
    int32_t set[4], scratch[4];
    int n = tc_threshold_set(s, 4, 0.5, set, scratch);
    CHECK(n == 3 && set[0] == 3 && set[1] == 0 && set[2] == 1);  // best first; 0.5 itself is in
    n = tc_threshold_set(s, 4, 0.9, set, scratch);
    CHECK(n == 1 && set[0] == 3);
    CHECK(tc_threshold_set(s, 4, 0.99, set, scratch) == 0);
    CHECK(tc_sigmoid_f32(0.0f) == 0.5f && tc_sigmoid_f32(-200.0f) == 0.0f && tc_sigmoid_f32(200.0f) == 1.0f);
}

int main(void) {
    RUN(test_paths_listed_in_order);
    RUN(test_mean_rule_best_paths);
    RUN(test_sum_rule_prefers_the_short_path);
    RUN(test_class_with_several_parents_takes_its_best_chain);
    RUN(test_ties_nan_and_more_paths_than_exist);
    RUN(test_multiplying_paths_refused);
    RUN(test_sets_are_closed_under_parents);
    RUN(test_topk);
    RUN(test_threshold_set);
    HARNESS_EXIT();
}
