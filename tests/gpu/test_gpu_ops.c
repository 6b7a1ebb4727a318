// Every CUDA operation against the CPU backend, in fp32 (tight: 2e-5
// absolute + 1e-4 relative), bf16 (3e-2 + 2e-2) and fp16 (4e-3 + 3e-3),
// on random data of several shapes. The CPU reference gets the inputs
// already rounded to the GPU's storage type, so the tolerances measure the
// GPU's arithmetic and the rounding of its results, nothing else.
#include "tests/gpu/gpu_check.h"
#include "tests/tiny_bert.h"
#include "kernels/cpu/cpu_ops.h"

static uint64_t rng = 99;

static float *random_input(tct_dtype t, size_t n, float spread) {
    float *x = tiny_fill(n, &rng, 0, spread);
    round_to(t, x, n);
    return x;
}

// Compares a GPU buffer with the CPU's result; frees the host copy.
static int same(tc_backend *be, const char *what, const void *dev, const float *ref, size_t n) {
    float *got = gpu_get(be, dev, n);
    if (!got) return 0;
    int ok = harness_close(what, got, ref, n, gpu_atol(be->dtype), gpu_rtol(be->dtype));
    if (!ok) printf("  (%s, %s)\n", what, dtype_label(be->dtype));
    free(got);
    return ok;
}

static void test_embeddings(void) {
    NEED_GPU();
    int V = 41, P = 33, TT = 2, C = 72, N = 90;
    int32_t ids[90], pos[90], types[90];
    for (int n = 0; n < N; n++) ids[n] = (n * 13) % V, pos[n] = n % P, types[n] = n % 2;
    for (int k = 0; k < 3; k++) {
        tc_backend *be = tc_backend_cuda_create(0, gpu_dtypes[k]);
        ENSURE(be);
        float *wte = random_input(be->dtype, (size_t)V * C, 1), *wpe = random_input(be->dtype, (size_t)P * C, 1),
              *wtt = random_input(be->dtype, (size_t)TT * C, 1), *ref = malloc((size_t)N * C * 4);
        void *dwte = gpu_put(be, wte, (size_t)V * C), *dwpe = gpu_put(be, wpe, (size_t)P * C),
             *dwtt = gpu_put(be, wtt, (size_t)TT * C), *dout = be->ops->alloc(be, (size_t)N * C * 4);
        int32_t *dids = gpu_put_raw(be, ids, sizeof ids), *dpos = gpu_put_raw(be, pos, sizeof pos),
                *dtypes = gpu_put_raw(be, types, sizeof types);
        for (int with_types = 0; with_types < 2; with_types++) {
            tc_cpu_embeddings_forward(NULL, ref, ids, pos, with_types ? types : NULL, wte, wpe, wtt, N, C);
            CHECK(be->ops->embeddings_forward(be, dout, dids, dpos, with_types ? dtypes : NULL, dwte, dwpe, dwtt, N, C) == 0);
            CHECK(same(be, "embeddings", dout, ref, (size_t)N * C));
        }
        free(wte), free(wpe), free(wtt), free(ref);
        be->ops->free(be, dwte), be->ops->free(be, dwpe), be->ops->free(be, dwtt), be->ops->free(be, dout);
        be->ops->free(be, dids), be->ops->free(be, dpos), be->ops->free(be, dtypes);
        tc_backend_destroy(be);
    }
}

static void test_layernorm(void) {
    NEED_GPU();
    int shapes[][2] = {{1, 1}, {37, 384}, {200, 768}, {3, 1000}};
    for (int k = 0; k < 3; k++) {
        tc_backend *be = tc_backend_cuda_create(0, gpu_dtypes[k]);
        ENSURE(be);
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
            int N = shapes[s][0], C = shapes[s][1];
            size_t nc = (size_t)N * C;
            float *x = random_input(be->dtype, nc, 2), *r = random_input(be->dtype, nc, 2),
                  *w = random_input(be->dtype, (size_t)C, 1), *b = random_input(be->dtype, (size_t)C, 1);
            float *ref = malloc(nc * 4), *sum = malloc(nc * 4), *mean = malloc((size_t)N * 4), *rstd = malloc((size_t)N * 4);
            tc_cpu_layernorm_forward(NULL, ref, mean, rstd, sum, x, r, w, b, 1e-5f, N, C);
            void *dx = gpu_put(be, x, nc), *dr = gpu_put(be, r, nc), *dw = gpu_put(be, w, (size_t)C),
                 *db = gpu_put(be, b, (size_t)C), *dout = be->ops->alloc(be, nc * 4), *dsum = be->ops->alloc(be, nc * 4);
            float *dmean = be->ops->alloc(be, (size_t)N * 4), *drstd = be->ops->alloc(be, (size_t)N * 4);
            CHECK(be->ops->layernorm_forward(be, dout, dmean, drstd, dsum, dx, dr, dw, db, 1e-5f, N, C) == 0);
            CHECK(same(be, "layernorm", dout, ref, nc));
            CHECK(same(be, "layernorm sum", dsum, sum, nc));
            float *gm = gpu_get_f32(be, dmean, (size_t)N), *gr = gpu_get_f32(be, drstd, (size_t)N);
            CHECK(gm && gr && harness_close("mean", gm, mean, (size_t)N, 1e-4, 1e-4) &&
                  harness_close("rstd", gr, rstd, (size_t)N, 1e-4, 1e-3));
            // in place over the residual, no statistics
            CHECK(be->ops->layernorm_forward(be, dr, NULL, NULL, NULL, dx, dr, dw, db, 1e-5f, N, C) == 0);
            CHECK(same(be, "layernorm in place", dr, ref, nc));
            free(x), free(r), free(w), free(b), free(ref), free(sum), free(mean), free(rstd), free(gm), free(gr);
            be->ops->free(be, dx), be->ops->free(be, dr), be->ops->free(be, dw), be->ops->free(be, db);
            be->ops->free(be, dout), be->ops->free(be, dsum), be->ops->free(be, dmean), be->ops->free(be, drstd);
        }
        tc_backend_destroy(be);
    }
}

static void test_matmul_and_activations(void) {
    NEED_GPU();
    int shapes[][3] = {{1, 8, 8}, {77, 384, 1152}, {300, 1536, 384}, {5, 33, 17}};
    for (int k = 0; k < 3; k++) {
        tc_backend *be = tc_backend_cuda_create(0, gpu_dtypes[k]);
        ENSURE(be);
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
            int N = shapes[s][0], IC = shapes[s][1], OC = shapes[s][2];
            size_t no = (size_t)N * OC;
            float *inp = random_input(be->dtype, (size_t)N * IC, 1),
                  *w = random_input(be->dtype, (size_t)OC * IC, 1.7f / sqrtf((float)IC)),
                  *bias = random_input(be->dtype, (size_t)OC, 0.5f), *ref = malloc(no * 4), *pre = malloc(no * 4);
            void *dinp = gpu_put(be, inp, (size_t)N * IC), *dw = gpu_put(be, w, (size_t)OC * IC),
                 *dbias = gpu_put(be, bias, (size_t)OC), *dout = be->ops->alloc(be, no * 4), *dpre = be->ops->alloc(be, no * 4);
            for (int act = TC_ACT_NONE; act <= TC_ACT_TANH; act++)
                for (int with_bias = 0; with_bias < 2; with_bias++) {
                    tc_cpu_matmul_forward(NULL, ref, pre, inp, w, with_bias ? bias : NULL, N, IC, OC, (tc_activation)act);
                    CHECK(be->ops->matmul_forward(be, dout, dpre, dinp, dw, with_bias ? dbias : NULL, N, IC, OC,
                                                  (tc_activation)act) == 0);
                    CHECKF(same(be, "matmul", dout, ref, no) && same(be, "matmul pre", dpre, pre, no),
                           "%dx%dx%d act %d bias %d %s", N, IC, OC, act, with_bias, dtype_label(be->dtype));
                }
            // activations alone, in place
            for (int act = TC_ACT_GELU; act <= TC_ACT_TANH; act++) {
                size_t n = (size_t)N * IC;
                float *x = malloc(n * 4);
                tc_cpu_activation_forward(NULL, x, inp, n, (tc_activation)act);
                CHECK(be->ops->activation_forward(be, dinp, dinp, n, (tc_activation)act) == 0);
                CHECKF(same(be, "activation", dinp, x, n), "act %d %s", act, dtype_label(be->dtype));
                CHECK(be->ops->upload_f32(be, dinp, inp, n) == 0);
                free(x);
            }
            free(inp), free(w), free(bias), free(ref), free(pre);
            be->ops->free(be, dinp), be->ops->free(be, dw), be->ops->free(be, dbias), be->ops->free(be, dout),
                be->ops->free(be, dpre);
        }
        tc_backend_destroy(be);
    }
}

static void check_attention(tc_backend *be, int B, const int *lengths, int C, int NH) {
    int32_t offsets[65] = {0};
    int T = 0;
    for (int b = 0; b < B; b++) {
        offsets[b + 1] = offsets[b] + lengths[b];
        if (lengths[b] > T) T = lengths[b];
    }
    int N = offsets[B];
    size_t att_n = (size_t)B * NH * T * T;
    float *qkv = random_input(be->dtype, (size_t)N * 3 * C, 2), *ref = malloc((size_t)N * C * 4),
          *att = malloc(att_n * 4), *scratch = malloc(tc_cpu_attention_scratch_bytes(1, T));
    tc_seq_layout host = {B, T, N, offsets, offsets};
    tc_cpu_attention_forward(NULL, ref, att, scratch, qkv, &host, C, NH, NULL);
    void *dqkv = gpu_put(be, qkv, (size_t)N * 3 * C), *dout = be->ops->alloc(be, (size_t)N * C * 4),
         *datt = be->ops->alloc(be, att_n * 4),
         *dscratch = be->ops->alloc(be, be->ops->attention_scratch_bytes(be, B, T, C, NH));
    int32_t *doff = gpu_put_raw(be, offsets, (size_t)(B + 1) * 4);
    tc_seq_layout dev = {B, T, N, offsets, doff};
    CHECK(be->ops->attention_forward(be, dout, NULL, dscratch, dqkv, &dev, C, NH, NULL) == 0);
    CHECKF(same(be, "attention", dout, ref, (size_t)N * C), "B %d C %d NH %d %s", B, C, NH, dtype_label(be->dtype));
    CHECK(be->ops->attention_forward(be, dout, datt, dscratch, dqkv, &dev, C, NH, NULL) == 0);
    CHECK(same(be, "attention (kept)", dout, ref, (size_t)N * C));
    CHECK(same(be, "probabilities", datt, att, att_n));
    free(qkv), free(ref), free(att), free(scratch);
    be->ops->free(be, dqkv), be->ops->free(be, dout), be->ops->free(be, datt), be->ops->free(be, dscratch),
        be->ops->free(be, doff);
}

static void test_attention(void) {
    NEED_GPU();
    check_attention_shapes(check_attention);
}

static void test_pooling_normalize_convert(void) {
    NEED_GPU();
    int B = 6, C = 200, lengths[6] = {1, 4, 9, 2, 30, 3};
    int32_t offsets[7] = {0};
    for (int b = 0; b < B; b++) offsets[b + 1] = offsets[b] + lengths[b];
    int N = offsets[B];
    for (int k = 0; k < 3; k++) {
        tc_backend *be = tc_backend_cuda_create(0, gpu_dtypes[k]);
        ENSURE(be);
        float *x = random_input(be->dtype, (size_t)N * C, 3), *ref = malloc((size_t)B * C * 4);
        void *dx = gpu_put(be, x, (size_t)N * C), *dout = be->ops->alloc(be, (size_t)B * C * 4);
        int32_t *doff = gpu_put_raw(be, offsets, sizeof offsets);
        tc_seq_layout host = {B, 30, N, offsets, offsets}, dev = {B, 30, N, offsets, doff};
        for (int mode = TC_POOL_MEAN; mode <= TC_POOL_CLS; mode++) {
            tc_cpu_pool_forward(NULL, ref, x, &host, C, (tc_pooling)mode);
            CHECK(be->ops->pool_forward(be, dout, dx, &dev, C, (tc_pooling)mode) == 0);
            CHECKF(same(be, "pooling", dout, ref, (size_t)B * C), "mode %d %s", mode, dtype_label(be->dtype));
        }
        tc_cpu_normalize_forward(NULL, ref, x, B, C);
        CHECK(be->ops->normalize_forward(be, dout, dx, B, C) == 0);
        CHECK(same(be, "normalize", dout, ref, (size_t)B * C));
        CHECK(be->ops->normalize_forward(be, dx, dx, B, C) == 0);  // in place
        CHECK(same(be, "normalize in place", dx, ref, (size_t)B * C));
        // f32 -> backend type -> f32 is exact for values already rounded to it
        CHECK(be->ops->upload_f32(be, dx, x, (size_t)N * C) == 0);
        float *back = gpu_get(be, dx, (size_t)N * C);
        CHECK(back && !memcmp(back, x, (size_t)N * C * 4));
        free(back), free(x), free(ref);
        be->ops->free(be, dx), be->ops->free(be, dout), be->ops->free(be, doff);
        tc_backend_destroy(be);
    }
}

int main(void) {
    RUN(test_embeddings);
    RUN(test_layernorm);
    RUN(test_matmul_and_activations);
    RUN(test_attention);
    RUN(test_pooling_normalize_convert);
    HARNESS_EXIT();
}
