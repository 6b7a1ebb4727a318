// The forward pass on the CPU backend against the double-precision
// reference (tests/bert_reference.h), on tiny random models of several
// shapes (odd head counts, head size 1, with and without pooler, each
// activation), every pooling, with and without normalization, kept
// activations, batching that must not change results, and bad batches.
#include "tests/harness.h"
#include "tests/ensure.h"
#include "tests/tiny_bert.h"
#include "tests/bert_reference.h"
#include "common/model/bert_forward.h"
#include "common/error.h"

static char dir[1024];

static int load_tiny(tc_bert_model *m, const tiny_bert_spec *s, const char *name) {
    snprintf(dir, sizeof dir, "%s/%s", harness_tmpdir(), name);
    if (tiny_bert_write(dir, s) || tc_bert_model_load(m, dir)) {
        printf("  %s\n", tc_error());
        return -1;
    }
    return 0;
}

typedef struct {
    int B;
    int32_t *lengths;
    int32_t **rows, **types;
} batch;

static batch random_batch(int B, int max_len, int vocab, int type_vocab, uint64_t seed) {
    batch b = {B, calloc((size_t)B, 4), calloc((size_t)B, sizeof(int32_t *)), calloc((size_t)B, sizeof(int32_t *))};
    uint64_t st = seed * 7919 + 3;
    for (int i = 0; i < B; i++) {
        int len = 1 + (int)((tiny_random(&st) + 1) / 2 * max_len);
        b.lengths[i] = len > max_len ? max_len : len;
        b.rows[i] = malloc((size_t)max_len * 4);
        b.types[i] = malloc((size_t)max_len * 4);
        for (int t = 0; t < max_len; t++) {
            int id = (int)((tiny_random(&st) + 1) / 2 * vocab);
            b.rows[i][t] = id >= vocab ? vocab - 1 : id;
            b.types[i][t] = t * 2 >= b.lengths[i] ? type_vocab - 1 : 0;  // second half: the last type
        }
    }
    return b;
}

static void free_batch(batch *b) {
    for (int i = 0; i < b->B; i++) free(b->rows[i]), free(b->types[i]);
    free(b->lengths), free(b->rows), free(b->types);
}

// Runs the batch through a forward made with `opt` and compares every row
// with the reference.
static int check_against_reference(tc_backend *be, const tc_bert_model *m, const batch *b, tc_bert_run_options opt,
                                   int with_types) {
    tc_bert_forward *fw;
    if (tc_bert_forward_create(&fw, be, m, &opt)) {
        printf("  create: %s\n", tc_error());
        return 0;
    }
    int C = m->cfg.hidden, ok = 1;
    float *out = calloc((size_t)b->B * C, 4), *ref = calloc((size_t)b->B * C, 4);
    double *one = calloc((size_t)C, 8);
    if (tc_bert_forward_submit(fw, (const int32_t *const *)b->rows, with_types ? (const int32_t *const *)b->types : NULL,
                               b->lengths, b->B) ||
        tc_bert_forward_collect(fw, out)) {
        printf("  run: %s\n", tc_error());
        ok = 0;
    }
    for (int i = 0; ok && i < b->B; i++) {
        ref_bert_encode(m, b->rows[i], with_types ? b->types[i] : NULL, b->lengths[i], opt.pooling, opt.normalize, one);
        for (int c = 0; c < C; c++) ref[i * C + c] = (float)one[c];
    }
    if (ok) ok = harness_close("embeddings", out, ref, (size_t)b->B * C, 2e-5, 1e-4);
    free(out), free(ref), free(one);
    tc_bert_forward_free(fw);
    return ok;
}

static void test_shapes_against_reference(void) {
    struct {
        int hidden, heads, layers, inter, pooler;
        const char *act;
    } cases[] = {
        {16, 4, 2, 40, 0, "gelu"}, {30, 3, 2, 50, 1, "gelu_new"}, {35, 5, 1, 20, 1, "relu"},
        {7, 7, 2, 9, 0, "gelu"},   // head size 1
        {48, 1, 1, 64, 1, "gelu"}, // one head
    };
    tc_backend *be = tc_backend_cpu_create(3);
    ENSURE(be);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tiny_bert_spec s = tiny_bert_default();
        s.hidden = cases[i].hidden, s.heads = cases[i].heads, s.layers = cases[i].layers;
        s.intermediate = cases[i].inter, s.pooler = cases[i].pooler, s.act = cases[i].act, s.seed = 10 + i;
        s.prefix = i % 2 ? "bert." : "";
        tc_bert_model m;
        ENSURE(load_tiny(&m, &s, "shapes") == 0);
        batch b = random_batch(9, s.positions, s.vocab, s.types, i);
        for (int pool = TC_POOL_MEAN; pool <= (s.pooler ? TC_POOL_POOLER : TC_POOL_CLS); pool++)
            for (int norm = 0; norm < 2; norm++) {
                tc_bert_run_options opt = {.max_batch = 9, .max_tokens = 9 * s.positions, .max_len = s.positions,
                                           .pooling = (tc_pooling)pool, .normalize = norm};
                CHECKF(check_against_reference(be, &m, &b, opt, (int)(i + (size_t)pool) % 2),
                       "case %zu pooling %d normalize %d", i, pool, norm);
            }
        free_batch(&b);
        tc_bert_model_free(&m);
    }
    tc_backend_destroy(be);
}

static void test_keep_activations(void) {
    tiny_bert_spec s = tiny_bert_default();
    s.pooler = 1;
    tc_bert_model m;
    ENSURE(load_tiny(&m, &s, "keep") == 0);
    tc_backend *be = tc_backend_cpu_create(2);
    batch b = random_batch(5, 20, s.vocab, s.types, 77);
    tc_bert_run_options opt = {.max_batch = 8, .max_tokens = 100, .max_len = 20, .pooling = TC_POOL_POOLER,
                               .normalize = 1, .keep = 1};
    CHECK(check_against_reference(be, &m, &b, opt, 1));
    // the kept activations are each layer's own: layer 0's output feeds layer 1
    tc_bert_forward *fw;
    ENSURE(tc_bert_forward_create(&fw, be, &m, &opt) == 0);
    float out[5 * 16];
    ENSURE(tc_bert_forward_submit(fw, (const int32_t *const *)b.rows, NULL, b.lengths, 5) == 0);
    ENSURE(tc_bert_forward_collect(fw, out) == 0);
    const tc_bert_acts *a = &fw->a;
    int N = 0, C = 16;
    for (int i = 0; i < 5; i++) N += b.lengths[i];
    CHECK(a->emb && a->att && a->res1 && a->fch && a->ln1_mean && a->pooler_pre);
    const float *ln2_0 = a->ln2, *res1_1 = (const float *)a->res1 + (size_t)100 * C,
                *attproj_1 = (const float *)a->attproj + (size_t)100 * C;
    int same = 1;
    for (int i = 0; i < N * C; i++) same &= fabsf(res1_1[i] - (ln2_0[i] + attproj_1[i])) <= 1e-6f;
    CHECK(same);
    // probabilities of layer 1, sequence 0, head 0 sum to one over its length
    const float *att1 = (const float *)a->att + (size_t)8 * 4 * 20 * 20;
    for (int t = 0; t < b.lengths[0]; t++) {
        double sum = 0;
        for (int j = 0; j < 20; j++) sum += att1[t * 20 + j];
        CHECKF(fabs(sum - 1) < 1e-5, "row %d sums to %g", t, sum);
    }
    tc_bert_forward_free(fw);
    free_batch(&b);
    tc_backend_destroy(be);
    tc_bert_model_free(&m);
}

// A sequence's embedding does not depend on its batch, its place in it, or
// the thread count.
static void test_batching_does_not_change_results(void) {
    tiny_bert_spec s = tiny_bert_default();
    s.hidden = 24, s.heads = 3;
    tc_bert_model m;
    ENSURE(load_tiny(&m, &s, "batching") == 0);
    batch b = random_batch(12, 24, s.vocab, s.types, 5);
    int C = 24;
    float *all = calloc(12 * (size_t)C, 4), *alone = calloc(12 * (size_t)C, 4), *two = calloc(12 * (size_t)C, 4);
    tc_bert_run_options opt = {.max_batch = 12, .max_tokens = 12 * 24, .max_len = 24, .normalize = 1};
    tc_backend *be3 = tc_backend_cpu_create(3), *be1 = tc_backend_cpu_create(1);
    tc_bert_forward *fw3, *fw1;
    ENSURE(tc_bert_forward_create(&fw3, be3, &m, &opt) == 0 && tc_bert_forward_create(&fw1, be1, &m, &opt) == 0);
    ENSURE(tc_bert_forward_submit(fw3, (const int32_t *const *)b.rows, NULL, b.lengths, 12) == 0);
    ENSURE(tc_bert_forward_collect(fw3, all) == 0);
    for (int i = 0; i < 12; i++) {
        ENSURE(tc_bert_forward_submit(fw1, (const int32_t *const *)&b.rows[i], NULL, &b.lengths[i], 1) == 0);
        ENSURE(tc_bert_forward_collect(fw1, alone + i * C) == 0);
    }
    CHECK_CLOSE("alone vs batched", alone, all, 12 * (size_t)C, 1e-6, 1e-5);
    // two batches in flight, collected in order
    ENSURE(tc_bert_forward_submit(fw3, (const int32_t *const *)b.rows, NULL, b.lengths, 5) == 0);
    ENSURE(tc_bert_forward_submit(fw3, (const int32_t *const *)b.rows + 5, NULL, b.lengths + 5, 7) == 0);
    CHECK(tc_bert_forward_submit(fw3, (const int32_t *const *)b.rows, NULL, b.lengths, 1) == -1);
    ENSURE(tc_bert_forward_collect(fw3, two) == 0 && tc_bert_forward_collect(fw3, two + 5 * C) == 0);
    CHECK(tc_bert_forward_collect(fw3, two) == -1);
    CHECK_CLOSE("two in flight", two, all, 12 * (size_t)C, 1e-6, 1e-5);
    tc_bert_forward_free(fw3), tc_bert_forward_free(fw1);
    tc_backend_destroy(be3), tc_backend_destroy(be1);
    free(all), free(alone), free(two);
    free_batch(&b);
    tc_bert_model_free(&m);
}

static int submit_fails(tc_bert_forward *fw, int32_t *const *rows, const int32_t *lengths, int B, const char *needle) {
    if (tc_bert_forward_submit(fw, (const int32_t *const *)rows, NULL, lengths, B) == 0) {
        float out[64 * 16];
        tc_bert_forward_collect(fw, out);
        printf("  accepted\n");
        return 0;
    }
    if (!strstr(tc_error(), needle)) {
        printf("  message: %s\n", tc_error());
        return 0;
    }
    return 1;
}

static void test_bad_batches(void) {
    tiny_bert_spec s = tiny_bert_default();
    tc_bert_model m;
    ENSURE(load_tiny(&m, &s, "bad") == 0);
    tc_backend *be = tc_backend_cpu_create(1);
    tc_bert_forward *fw;
    tc_bert_run_options opt = {.max_batch = 4, .max_tokens = 30, .max_len = 20, .pooling = TC_POOL_POOLER};
    CHECK(tc_bert_forward_create(&fw, be, &m, &opt) == -1 && strstr(tc_error(), "no pooler"));
    opt.pooling = TC_POOL_MEAN;
    opt.max_len = 25;
    CHECK(tc_bert_forward_create(&fw, be, &m, &opt) == -1 && strstr(tc_error(), "the model has 24 positions"));
    opt.max_len = 20;
    ENSURE(tc_bert_forward_create(&fw, be, &m, &opt) == 0);
    int32_t row[24] = {2, 7, 9, 3}, bad_id[3] = {2, 50, 3}, bad_neg[3] = {2, -1, 3};
    int32_t *rows[5] = {row, row, row, row, row}, len[5] = {4, 4, 4, 4, 4};
    CHECK(submit_fails(fw, rows, len, 5, "batch of 5 sequences (1..4)"));
    CHECK(submit_fails(fw, rows, len, 0, "batch of 0 sequences"));
    int32_t long_len[1] = {21}, zero_len[1] = {0}, many[2] = {20, 20};
    CHECK(submit_fails(fw, rows, long_len, 1, "sequence 0 has 21 tokens (1..20)"));
    CHECK(submit_fails(fw, rows, zero_len, 1, "sequence 0 has 0 tokens"));
    CHECK(submit_fails(fw, rows, many, 2, "batch of more than 30 tokens"));
    int32_t *bad_rows[2] = {row, bad_id}, bad_len[2] = {4, 3};
    CHECK(submit_fails(fw, bad_rows, bad_len, 2, "sequence 1, token 1: id 50 outside the vocabulary (0..49)"));
    bad_rows[1] = bad_neg;
    CHECK(submit_fails(fw, bad_rows, bad_len, 2, "id -1 outside"));
    int32_t types[4] = {0, 2, 0, 0};
    const int32_t *type_rows[1] = {types};
    CHECK(tc_bert_forward_submit(fw, (const int32_t *const *)rows, type_rows, len, 1) == -1 &&
          strstr(tc_error(), "token type 2 (0..1)"));
    float out[16];
    CHECK(tc_bert_forward_submit(fw, (const int32_t *const *)rows, NULL, len, 1) == 0 &&
          tc_bert_forward_collect(fw, out) == 0);  // still usable after refusals
    tc_bert_forward_free(fw);
    tc_backend_destroy(be);
    tc_bert_model_free(&m);
}

int main(void) {
    RUN(test_shapes_against_reference);
    RUN(test_keep_activations);
    RUN(test_batching_does_not_change_results);
    RUN(test_bad_batches);
    HARNESS_EXIT();
}
