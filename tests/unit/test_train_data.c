// Training data: the seeded generator, joining tokens to targets, the
// validation split, epoch orders, each rank's share of a step; the
// optimizer's schedule, rate scaling and clipping coefficient.
#include "tests/harness.h"
#include <math.h>
#include "tests/train_fixtures.h"
#include "common/error.h"
#include "common/train/optim.h"
#include "common/rng.h"
#include "common/train/train_data.h"

static const char *tmp_path(const char *name) {
    static char paths[8][512];
    static int at;
    char *p = paths[at++ % 8];
    snprintf(p, 512, "%s/%s", harness_tmpdir(), name);
    return p;
}

static void test_rng(void) {
    tc_rng a, b;
    tc_rng_seed(&a, 42);
    tc_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++) CHECK(tc_rng_next(&a) == tc_rng_next(&b));
    tc_rng_derive(&a, 42, TC_RNG_EPOCH, 0);
    tc_rng_derive(&b, 42, TC_RNG_EPOCH, 1);
    CHECK(tc_rng_next(&a) != tc_rng_next(&b));
    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) {
        uint64_t x = tc_rng_below(&a, 7);
        REQUIRE(x < 7);
        counts[x]++;
    }
    for (int i = 0; i < 7; i++) CHECKF(counts[i] > 9500 && counts[i] < 10500, "bucket %d: %d", i, counts[i]);
    double u = tc_rng_uniform(&a);
    CHECK(u >= 0 && u < 1);
    uint32_t p[100];
    for (uint32_t i = 0; i < 100; i++) p[i] = i;
    tc_rng_shuffle(&a, p, 100);
    uint8_t seen[100] = {0};
    int moved = 0;
    for (uint32_t i = 0; i < 100; i++) seen[p[i]]++, moved += p[i] != i;
    for (int i = 0; i < 100; i++) CHECK(seen[i] == 1);
    CHECK(moved > 80);
}

// Five token rows (one without targets, one too long), four target rows
// (one whose document is not in the tokens), in another order.
static void write_inputs(const char *tokens, const char *targets, int bad) {
    const char *ids[5] = {"d0", "d1", "d2", "d3", "d4"};
    int32_t r0[3] = {2, 7, 3}, r1[6] = {2, 8, 9, 10, 11, 3}, r2[4] = {2, 12, bad == 1 ? 99 : 13, 3},
            r3[3] = {2, 14, 3}, r4[3] = {2, 15, 3};
    const int32_t *rows[5] = {r0, r1, r2, r3, r4};
    int32_t lengths[5] = {3, 6, 4, 3, 3};
    if (bad == 2) lengths[3] = 7, rows[3] = r1;
    fixture_write_tokens(tokens, 5, ids, rows, lengths, 6, "00112233aabbccdd");
    char *tid[4] = {"d2", "d0", bad == 3 ? "d2" : "d1", "zz"};
    int64_t off[5] = {0, 2, 3, 4, 5}, moff[5] = {0, 1, 1, 1, 1};
    int32_t cls[5] = {0, 1, bad == 4 ? 9 : 2, 3, 0}, mcls[1] = {3};
    float w[4] = {0.5f, 1, 2, 1};
    if (bad == 5) w[1] = -0.5f;
    if (bad == 6) w[2] = NAN;
    if (bad == 7) w[0] = w[1] = w[2] = 0;  // only "zz", which no tokens row has, weighs anything
    tc_labels l = {.n_docs = 4, .doc_ids = tid, .offsets = off, .classes = cls, .mask_offsets = moff,
                   .mask_classes = mcls, .doc_weights = w};
    fixture_write_labels(targets, &l);
}

static void test_load_join(void) {
    const char *tok = tmp_path("tokens.tct"), *tgt = tmp_path("targets.tct");
    write_inputs(tok, tgt, 0);
    tc_train_set s;
    tc_train_load_options o = {.max_len = 4, .vocab_size = 20, .n_classes = 4};
    REQUIRE(tc_train_set_load(&s, tok, tgt, &o) == 0);
    // tokens order, d3 and d4 have no targets
    REQUIRE(s.n_docs == 3);
    CHECK(!strcmp(s.doc_ids[0], "d0") && !strcmp(s.doc_ids[1], "d1") && !strcmp(s.doc_ids[2], "d2"));
    CHECK(s.n_without_targets == 2 && s.n_targets_unused == 1);
    // d1 (6 tokens) cut to 4: the first three and the last
    CHECK(tc_train_set_length(&s, 1) == 4);
    const int32_t *d1 = s.tokens + s.tok_offsets[1];
    CHECK(d1[0] == 2 && d1[1] == 8 && d1[2] == 9 && d1[3] == 3);
    CHECK(s.longest == 4);
    CHECK(s.n_token_attrs == 1 && !strcmp(s.token_attrs[0].value, "00112233aabbccdd"));
    uint32_t docs[3] = {2, 0, 1};
    float y[12], w[12];
    tc_train_set_targets(&s, docs, 3, 4, y, w);
    float ey[12] = {1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    float ew[12] = {0.5f, 0.5f, 0.5f, 0, 1, 1, 1, 1, 2, 2, 2, 2};
    CHECK_CLOSE("y", y, ey, 12, 0, 0);
    CHECK_CLOSE("w", w, ew, 12, 0, 0);
    uint64_t fp = s.fingerprint;
    tc_train_set_free(&s);
    REQUIRE(tc_train_set_load(&s, tok, tgt, &o) == 0);
    CHECK(s.fingerprint == fp);
    tc_train_set_free(&s);
    o.max_len = 5;
    REQUIRE(tc_train_set_load(&s, tok, tgt, &o) == 0);
    CHECK(s.fingerprint != fp);
    tc_train_set_free(&s);
}

static void test_load_errors(void) {
    const char *tok = tmp_path("tokens.tct"), *tgt = tmp_path("targets.tct");
    tc_train_set s;
    tc_train_load_options o = {.max_len = 8, .vocab_size = 20, .n_classes = 4};
    write_inputs(tok, tgt, 1);
    CHECKF(tc_train_set_load(&s, tok, tgt, &o) == -1 && strstr(tc_error(), "row 2 ('d2'), token 2: id 99 outside"),
           "%s", tc_error());
    write_inputs(tok, tgt, 2);
    CHECKF(tc_train_set_load(&s, tok, tgt, &o) == -1 && strstr(tc_error(), "row 3 ('d3'): length 7 outside 1..6"),
           "%s", tc_error());
    write_inputs(tok, tgt, 3);
    CHECKF(tc_train_set_load(&s, tok, tgt, &o) == -1 && strstr(tc_error(), "document id 'd2' appears twice"), "%s",
           tc_error());
    write_inputs(tok, tgt, 4);
    CHECKF(tc_train_set_load(&s, tok, tgt, &o) == -1 && strstr(tc_error(), "class id 9") &&
               strstr(tc_error(), "0..3"),
           "%s", tc_error());
    // weights that would train by gradient ascent, poison every step, or leave nothing to learn
    write_inputs(tok, tgt, 5);
    CHECKF(tc_train_set_load(&s, tok, tgt, &o) == -1 && strstr(tc_error(), tgt) &&
               strstr(tc_error(), "row 1 ('d0'): doc_weights -0.5 is not a finite weight >= 0"),
           "%s", tc_error());
    write_inputs(tok, tgt, 6);
    CHECKF(tc_train_set_load(&s, tok, tgt, &o) == -1 && strstr(tc_error(), "row 2 ('d1'): doc_weights nan"), "%s",
           tc_error());
    write_inputs(tok, tgt, 7);
    CHECKF(tc_train_set_load(&s, tok, tgt, &o) == -1 && strstr(tc_error(), tgt) &&
               strstr(tc_error(), "doc_weights are 0 for all 3 documents being trained on"),
           "%s", tc_error());
    // no overlap: empty training set
    const char *ids[1] = {"x"};
    int32_t r[2] = {2, 3}, len = 2;
    const int32_t *rows[1] = {r};
    fixture_write_tokens(tok, 1, ids, rows, &len, 2, NULL);
    write_inputs(tmp_path("unused.tct"), tgt, 0);
    CHECKF(tc_train_set_load(&s, tok, tgt, &o) == -1 && strstr(tc_error(), "the training set is empty"), "%s",
           tc_error());
    CHECK(tc_train_set_load(&s, tok, "/nonexistent.tct", &o) == -1 && strstr(tc_error(), "/nonexistent.tct"));
}

static void test_split(void) {
    uint32_t *tr, *va, *tr2, *va2;
    uint64_t nt, nv, nt2, nv2;
    REQUIRE(tc_split_indices(1000, 0.1, 7, &tr, &nt, &va, &nv) == 0);
    CHECK(nt == 900 && nv == 100);
    uint8_t seen[1000] = {0};
    for (uint64_t i = 0; i < nt; i++) seen[tr[i]]++;
    for (uint64_t i = 0; i < nv; i++) seen[va[i]]++;
    for (int i = 0; i < 1000; i++) CHECK(seen[i] == 1);
    for (uint64_t i = 1; i < nv; i++) CHECK(va[i] > va[i - 1]);
    REQUIRE(tc_split_indices(1000, 0.1, 7, &tr2, &nt2, &va2, &nv2) == 0);
    CHECK(nv2 == nv && !memcmp(va, va2, nv * 4));
    free(tr2), free(va2);
    REQUIRE(tc_split_indices(1000, 0.1, 8, &tr2, &nt2, &va2, &nv2) == 0);
    CHECK(memcmp(va, va2, nv * 4) != 0);
    free(tr), free(va), free(tr2), free(va2);
}

static void test_epoch_order(void) {
    uint32_t idx[50], a[50], b[50], c[50];
    for (int i = 0; i < 50; i++) idx[i] = (uint32_t)(2 * i);
    tc_epoch_order(a, idx, 50, 1, 0);
    tc_epoch_order(b, idx, 50, 1, 0);
    tc_epoch_order(c, idx, 50, 1, 1);
    CHECK(!memcmp(a, b, sizeof a));
    CHECK(memcmp(a, c, sizeof a) != 0);
    int sum = 0;
    for (int i = 0; i < 50; i++) sum += (int)a[i];
    CHECK(sum == 2 * 49 * 50 / 2);
}

// 1 rank x batch 8, 2 ranks x batch 4 and 1 rank x 2 micro-batches of 4
// cover the same documents; shards are disjoint and cover the step.
static void test_micro_batches(void) {
    uint64_t b, e;
    tc_micro_batch_range(8, 1, 1, 0, 0, &b, &e);
    CHECK(b == 0 && e == 8);
    tc_micro_batch_range(8, 2, 1, 1, 0, &b, &e);
    CHECK(b == 4 && e == 8);
    tc_micro_batch_range(8, 1, 2, 0, 1, &b, &e);
    CHECK(b == 4 && e == 8);
    for (uint64_t docs = 0; docs <= 13; docs++)
        for (int R = 1; R <= 3; R++)
            for (int A = 1; A <= 3; A++) {
                uint64_t at = 0;
                for (int a = 0; a < A; a++)
                    for (int r = 0; r < R; r++) {
                        tc_micro_batch_range(docs, R, A, r, a, &b, &e);
                        CHECKF(b == at && e >= b, "docs %llu R %d A %d", (unsigned long long)docs, R, A);
                        at = e;
                    }
                CHECK(at == docs);
            }
    CHECK(tc_steps_per_epoch(17, 8) == 3 && tc_steps_per_epoch(16, 8) == 2);
}

static void test_schedule(void) {
    tc_lr_schedule s = {.peak = 1.0, .warmup = 4, .total = 14};
    CHECK(tc_lr_at(&s, 0) == 0.25 && tc_lr_at(&s, 3) == 1.0);
    CHECK(tc_lr_at(&s, 4) == 1.0 && fabs(tc_lr_at(&s, 9) - 0.5) < 1e-12 && fabs(tc_lr_at(&s, 13) - 0.1) < 1e-12);
    s.constant = 1;
    CHECK(tc_lr_at(&s, 13) == 1.0);
    s = (tc_lr_schedule){.peak = 2.0, .warmup = 0, .total = 4};
    CHECK(tc_lr_at(&s, 0) == 2.0 && tc_lr_at(&s, 3) == 0.5);
    tc_lr_scaling sc;
    CHECK(tc_lr_scaling_parse("sqrt", &sc) == 0 && sc == TC_LR_SCALE_SQRT);
    CHECK(tc_lr_scaling_parse("cubic", &sc) == -1 && strstr(tc_error(), "'cubic'"));
    CHECK(tc_lr_scaled(1e-4, TC_LR_SCALE_NONE, 256, 64) == 1e-4);
    CHECK(fabs(tc_lr_scaled(1e-4, TC_LR_SCALE_LINEAR, 256, 64) - 4e-4) < 1e-15);
    CHECK(fabs(tc_lr_scaled(1e-4, TC_LR_SCALE_SQRT, 256, 64) - 2e-4) < 1e-15);
    CHECK(tc_clip_coefficient(0.5, 1.0) == 1.0f);
    CHECK(fabsf(tc_clip_coefficient(4.0, 1.0) - 0.25f) < 1e-6f);
    CHECK(tc_clip_coefficient(4.0, 0) == 1.0f);
}

// The budget rule as tc-train(1) and --help state it, at batch 16 on one
// rank with the defaults (one epoch, at least 300 steps, at most 20 epochs).
static void test_budget(void) {
    long e600 = (long)tc_steps_per_epoch(600, 16), e11314 = (long)tc_steps_per_epoch(11314, 16);
    long e200 = (long)tc_steps_per_epoch(200, 16), e50000 = (long)tc_steps_per_epoch(50000, 16);
    CHECK(e600 == 38 && e11314 == 708 && e200 == 13 && e50000 == 3125);
    CHECK(tc_train_budget(e600, 1, 300, 20, 0) == 300);       // 8 epochs less 4 steps
    CHECK(tc_train_budget(e11314, 1, 300, 20, 0) == 708);     // one epoch
    CHECK(tc_train_budget(e200, 1, 300, 20, 0) == 260);       // capped at 20 epochs
    CHECK(tc_train_budget(e50000, 1, 300, 20, 0) == 3125);
    CHECK(tc_train_budget(e600, 3, 0, 0, 0) == 114);          // --epochs 3 alone: exactly 3
    CHECK(tc_train_budget(e600, 1, 300, 0, 0) == 300);        // no cap on epochs
    CHECK(tc_train_budget(e600, 1, 300, 20, 50) == 50);       // --max-steps caps everything
    CHECK(tc_train_budget(e11314, 2, 300, 1, 0) == 708);      // max-epochs below epochs wins
}

int main(void) {
    RUN(test_rng);
    RUN(test_load_join);
    RUN(test_load_errors);
    RUN(test_split);
    RUN(test_epoch_order);
    RUN(test_micro_batches);
    RUN(test_schedule);
    RUN(test_budget);
    HARNESS_EXIT();
}
