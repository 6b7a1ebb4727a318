// Every CUDA training operation against the CPU backend (the reference), in
// fp32, bf16 and fp16, on random data of several shapes; then the step's
// decision and fp16 loss scaling with an injected overflow; then whole
// training steps of a tiny model on the GPU against the CPU.
//
// The CPU gets the inputs already rounded to the GPU's storage type, so the
// differences come from the GPU's arithmetic and the rounding of what it
// stores. Tolerances, |x - ref| <= s * max|ref| + r * |ref| over a tensor:
//   fp32  s = 2e-5, r = 1e-4   (other summation orders; no TF32)
//   bf16  s = 2e-2             (8 mantissa bits: stored activation gradients)
//   fp16  s = 4e-3             (11 bits)
// Weight gradients are f32 in every dtype; they differ from the CPU's in
// bf16/fp16 only through the rounded activation gradients they sum.
// Exact (same bits as the CPU, every dtype): the embedding gradients (same
// order of additions), pooling's gradient in fp32, the step's decision.
// Whole steps: gradients of a micro-batch within 1e-4 x max (fp32), cosine
// >= 0.99 (bf16) and 0.999 (fp16); parameters after 3 steps within 1e-5
// (fp32); the losses and norms of the log within 1e-5 (fp32), 2e-2 (bf16,
// fp16).
#include "tests/gpu/gpu_check.h"
#include "tests/tiny_bert.h"
#include "tests/train_problem.h"
#include "common/comm/comm.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/train_ops.h"

#include <jansson.h>

static uint64_t rng = 2024;

static float *random_input(tct_dtype t, size_t n, float spread) {
    float *x = tiny_fill(n, &rng, 0, spread);
    round_to(t, x, n);
    return x;
}

static float *copy_of(const float *x, size_t n) {
    float *y = malloc((n ? n : 1) * sizeof *y);
    memcpy(y, x, n * sizeof *y);
    return y;
}

static double share_tol(tct_dtype t) { return t == TCT_F32 ? 2e-5 : t == TCT_BF16 ? 2e-2 : 4e-3; }

// Attention's gradient goes through more rounded intermediates (the scores'
// gradient dP, then dP - rowsum(dP * P), which cancels): in bf16 and fp16
// its tolerance is this many times the others'.
static double loosen = 1;

// The tolerance above, with the worst difference printed.
static int close_to(const char *what, tct_dtype t, const float *x, const float *ref, size_t n) {
    double mx = 0, worst = 0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(ref[i]) > mx) mx = fabs(ref[i]);
        double d = fabs((double)x[i] - ref[i]);
        if (!(d <= worst)) worst = d;
    }
    double s = share_tol(t) * (t == TCT_F32 ? 1 : loosen);
    int ok = harness_close(what, x, ref, n, s * mx + 1e-30, t == TCT_F32 ? 1e-4 : 0);
    if (!ok || getenv("TC_TEST_VERBOSE"))
        printf("  %-28s %s: max |diff| %.3g of max |ref| %.3g\n", what, dtype_label(t), worst, mx);
    return ok;
}

static int same_act(tc_backend *be, const char *what, const void *dev, const float *ref, size_t n) {
    float *got = gpu_get(be, dev, n);
    int ok = got && close_to(what, be->dtype, got, ref, n);
    free(got);
    return ok;
}

static int same_f32(tc_backend *be, const char *what, const float *dev, const float *ref, size_t n) {
    float *got = gpu_get_f32(be, dev, n);
    int ok = got && close_to(what, be->dtype, got, ref, n);
    free(got);
    return ok;
}

static int identical_f32(tc_backend *be, const char *what, const float *dev, const float *ref, size_t n) {
    float *got = gpu_get_f32(be, dev, n);
    int ok = got && !memcmp(got, ref, n * sizeof *ref);
    if (got && !ok) harness_close(what, got, ref, n, 0, 0);
    free(got);
    return ok;
}

// ---------------------------------------------------------------- matmul (and the activations' derivatives)

static void check_matmul(tc_backend *be, int N, int IC, int OC, tc_activation act, int bias, int accumulate,
                         int with_dinp) {
    tct_dtype t = be->dtype;
    size_t ni = (size_t)N * IC, no = (size_t)N * OC, wi = (size_t)OC * IC;
    float *inp = random_input(t, ni, 1), *w = random_input(t, wi, 1.0f / sqrtf((float)IC));
    float *pre = random_input(t, no, 2), *dout = random_input(t, no, 1), *dinp0 = random_input(t, ni, 1);
    float *dw0 = tiny_fill(wi, &rng, 0, 0.1f), *db0 = tiny_fill((size_t)OC, &rng, 0, 0.1f);
    float *c_dout = copy_of(dout, no), *c_dinp = copy_of(dinp0, ni), *c_dw = copy_of(dw0, wi), *c_db = copy_of(db0, (size_t)OC);
    tc_cpu_matmul_backward(NULL, with_dinp ? c_dinp : NULL, c_dw, bias ? c_db : NULL, c_dout, inp, w,
                           act != TC_ACT_NONE ? pre : NULL, N, IC, OC, act, accumulate);
    void *d_inp = gpu_put(be, inp, ni), *d_w = gpu_put(be, w, wi), *d_pre = gpu_put(be, pre, no);
    void *d_dout = gpu_put(be, dout, no), *d_dinp = gpu_put(be, dinp0, ni);
    float *d_dw = gpu_put_raw(be, dw0, wi * 4), *d_db = gpu_put_raw(be, db0, (size_t)OC * 4);
    int rc = be->ops->matmul_backward(be, with_dinp ? d_dinp : NULL, d_dw, bias ? d_db : NULL, d_dout, d_inp, d_w,
                                      act != TC_ACT_NONE ? d_pre : NULL, N, IC, OC, act, accumulate);
    CHECKF(rc == 0, "matmul_backward: %s", tc_error());
    CHECKF(same_act(be, "matmul dz", d_dout, c_dout, no) && (!with_dinp || same_act(be, "matmul dinp", d_dinp, c_dinp, ni)) &&
               same_f32(be, "matmul dw", d_dw, c_dw, wi) && (!bias || same_f32(be, "matmul dbias", d_db, c_db, (size_t)OC)),
           "%dx%dx%d act %d bias %d accumulate %d dinp %d %s", N, IC, OC, (int)act, bias, accumulate, with_dinp,
           dtype_label(t));
    free(inp), free(w), free(pre), free(dout), free(dinp0), free(dw0), free(db0);
    free(c_dout), free(c_dinp), free(c_dw), free(c_db);
    void *bufs[] = {d_inp, d_w, d_pre, d_dout, d_dinp, d_dw, d_db};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) be->ops->free(be, bufs[i]);
}

static void test_matmul_backward(void) {
    NEED_GPU();
    int shapes[][3] = {{1, 8, 8}, {77, 384, 1152}, {300, 64, 256}, {5, 33, 17}, {1000, 40, 16}};
    for (int k = 0; k < 3; k++) {
        tc_backend *be = tc_backend_cuda_create(0, gpu_dtypes[k]);
        ENSURE(be);
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
            for (int act = TC_ACT_NONE; act <= TC_ACT_TANH; act++)
                for (int variant = 0; variant < 3; variant++)  // bias + write; no bias + accumulate; bias, no dinp
                    check_matmul(be, shapes[s][0], shapes[s][1], shapes[s][2], (tc_activation)act, variant != 1,
                                 variant == 1, variant != 2);
        tc_backend_destroy(be);
    }
}

// ---------------------------------------------------------------- layer norm

static void check_layernorm(tc_backend *be, int N, int C, int accumulate, int in_place) {
    tct_dtype t = be->dtype;
    size_t nc = (size_t)N * C;
    float *x = random_input(t, nc, 2), *w = random_input(t, (size_t)C, 1), *b = random_input(t, (size_t)C, 1);
    float *dout = random_input(t, nc, 1), *dx0 = random_input(t, nc, 1), *out = malloc(nc * 4);
    float *mean = malloc((size_t)N * 4), *rstd = malloc((size_t)N * 4);
    tc_cpu_layernorm_forward(NULL, out, mean, rstd, NULL, x, NULL, w, b, 1e-5f, N, C);
    float *dw0 = tiny_fill((size_t)C, &rng, 0, 0.1f), *db0 = tiny_fill((size_t)C, &rng, 0, 0.1f);
    float *c_dx = copy_of(in_place ? dout : dx0, nc), *c_dout = copy_of(dout, nc), *c_dw = copy_of(dw0, (size_t)C),
          *c_db = copy_of(db0, (size_t)C);
    tc_cpu_layernorm_backward(NULL, in_place ? c_dout : c_dx, c_dw, c_db, c_dout, x, mean, rstd, w, N, C, accumulate);
    void *d_x = gpu_put(be, x, nc), *d_w = gpu_put(be, w, (size_t)C), *d_dout = gpu_put(be, dout, nc);
    void *d_dx = gpu_put(be, dx0, nc);
    float *d_mean = gpu_put_raw(be, mean, (size_t)N * 4), *d_rstd = gpu_put_raw(be, rstd, (size_t)N * 4);
    float *d_dw = gpu_put_raw(be, dw0, (size_t)C * 4), *d_db = gpu_put_raw(be, db0, (size_t)C * 4);
    void *target = in_place ? d_dout : d_dx;
    CHECKF(be->ops->layernorm_backward(be, target, d_dw, d_db, d_dout, d_x, d_mean, d_rstd, d_w, N, C, accumulate) == 0,
           "layernorm_backward: %s", tc_error());
    CHECKF(same_act(be, "layernorm dx", target, in_place ? c_dout : c_dx, nc) &&
               same_f32(be, "layernorm dw", d_dw, c_dw, (size_t)C) && same_f32(be, "layernorm db", d_db, c_db, (size_t)C),
           "%dx%d accumulate %d in place %d %s", N, C, accumulate, in_place, dtype_label(t));
    free(x), free(w), free(b), free(dout), free(dx0), free(out), free(mean), free(rstd), free(dw0), free(db0);
    free(c_dx), free(c_dout), free(c_dw), free(c_db);
    void *bufs[] = {d_x, d_w, d_dout, d_dx, d_mean, d_rstd, d_dw, d_db};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) be->ops->free(be, bufs[i]);
}

static void test_layernorm_backward(void) {
    NEED_GPU();
    int shapes[][2] = {{1, 1}, {37, 384}, {200, 768}, {3, 1000}, {5000, 16}};
    for (int k = 0; k < 3; k++) {
        tc_backend *be = tc_backend_cuda_create(0, gpu_dtypes[k]);
        ENSURE(be);
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
            check_layernorm(be, shapes[s][0], shapes[s][1], 0, 0);
            check_layernorm(be, shapes[s][0], shapes[s][1], 1, 0);
            check_layernorm(be, shapes[s][0], shapes[s][1], 0, 1);
        }
        tc_backend_destroy(be);
    }
}

// ---------------------------------------------------------------- attention

static void check_attention(tc_backend *be, int B, const int *lengths, int C, int NH) {
    tct_dtype t = be->dtype;
    int32_t offsets[65] = {0};
    int T = 0;
    for (int b = 0; b < B; b++) {
        offsets[b + 1] = offsets[b] + lengths[b];
        if (lengths[b] > T) T = lengths[b];
    }
    int N = offsets[B];
    size_t att_n = (size_t)B * NH * T * T, nq = (size_t)N * 3 * C, ny = (size_t)N * C;
    float *qkv = random_input(t, nq, 1.5f), *y = malloc(ny * 4), *att = malloc(att_n * 4);
    float *scratch = malloc(tc_cpu_attention_scratch_bytes(1, T) > tc_cpu_attention_backward_scratch_bytes(1, T)
                                ? tc_cpu_attention_scratch_bytes(1, T)
                                : tc_cpu_attention_backward_scratch_bytes(1, T));
    tc_seq_layout host = {B, T, N, offsets, offsets};
    tc_cpu_attention_forward(NULL, y, att, scratch, qkv, &host, C, NH, NULL);
    round_to(t, att, att_n);  // the GPU keeps them in its type
    float *datty = random_input(t, ny, 1), *ref = calloc(nq, 4);
    tc_cpu_attention_backward(NULL, ref, scratch, datty, att, qkv, &host, C, NH, NULL);
    void *d_qkv = gpu_put(be, qkv, nq), *d_att = gpu_put(be, att, att_n), *d_datty = gpu_put(be, datty, ny);
    void *d_dqkv = be->ops->alloc(be, nq * 4);
    void *d_scratch = be->ops->alloc(be, be->ops->attention_backward_scratch_bytes(be, B, T, C, NH));
    int32_t *d_off = gpu_put_raw(be, offsets, (size_t)(B + 1) * 4);
    tc_seq_layout dev = {B, T, N, offsets, d_off};
    CHECKF(be->ops->attention_backward(be, d_dqkv, d_scratch, d_datty, d_att, d_qkv, &dev, C, NH, NULL) == 0,
           "attention_backward: %s", tc_error());
    loosen = 2.5;
    CHECKF(same_act(be, "attention dqkv", d_dqkv, ref, nq), "B %d C %d NH %d %s", B, C, NH, dtype_label(t));
    loosen = 1;
    free(qkv), free(y), free(att), free(scratch), free(datty), free(ref);
    void *bufs[] = {d_qkv, d_att, d_datty, d_dqkv, d_scratch, d_off};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) be->ops->free(be, bufs[i]);
}

static void test_attention_backward(void) {
    NEED_GPU();
    check_attention_shapes(check_attention);
}

// ---------------------------------------------------------------- embeddings, pooling, normalize

static void test_embeddings_backward(void) {
    NEED_GPU();
    enum { V = 41, P = 33, TT = 2, C = 72, N = 300 };
    int32_t ids[N], pos[N], types[N];
    for (int n = 0; n < N; n++) ids[n] = (n * 13) % V, pos[n] = (n * 7) % P, types[n] = n % 3 == 0;
    ids[5] = ids[6] = ids[7] = 40;  // a run of one row
    for (int k = 0; k < 3; k++) {
        tc_backend *be = tc_backend_cuda_create(0, gpu_dtypes[k]);
        ENSURE(be);
        float *dout = random_input(be->dtype, (size_t)N * C, 1);
        void *d_dout = gpu_put(be, dout, (size_t)N * C);
        int32_t *d_ids = gpu_put_raw(be, ids, sizeof ids), *d_pos = gpu_put_raw(be, pos, sizeof pos),
                *d_types = gpu_put_raw(be, types, sizeof types);
        for (int variant = 0; variant < 3; variant++) {  // all three; no types; no word table
            float *wte = tiny_fill((size_t)V * C, &rng, 0, 0.5f), *wpe = tiny_fill((size_t)P * C, &rng, 0, 0.5f),
                  *wtt = tiny_fill((size_t)TT * C, &rng, 0, 0.5f);
            float *d_wte = gpu_put_raw(be, wte, (size_t)V * C * 4), *d_wpe = gpu_put_raw(be, wpe, (size_t)P * C * 4),
                  *d_wtt = gpu_put_raw(be, wtt, (size_t)TT * C * 4);
            const int32_t *ty = variant == 1 ? NULL : types;
            tc_cpu_embeddings_backward(NULL, variant == 2 ? NULL : wte, wpe, wtt, dout, ids, pos, ty, N, C);
            CHECKF(be->ops->embeddings_backward(be, variant == 2 ? NULL : d_wte, d_wpe, d_wtt, d_dout, d_ids, d_pos,
                                                variant == 1 ? NULL : d_types, N, C) == 0,
                   "embeddings_backward: %s", tc_error());
            // the same additions in the same order: the same bits
            CHECKF(identical_f32(be, "dwte", d_wte, wte, (size_t)V * C) && identical_f32(be, "dwpe", d_wpe, wpe, (size_t)P * C) &&
                       identical_f32(be, "dwtt", d_wtt, wtt, (size_t)TT * C),
                   "variant %d %s", variant, dtype_label(be->dtype));
            free(wte), free(wpe), free(wtt);
            be->ops->free(be, d_wte), be->ops->free(be, d_wpe), be->ops->free(be, d_wtt);
        }
        free(dout);
        be->ops->free(be, d_dout), be->ops->free(be, d_ids), be->ops->free(be, d_pos), be->ops->free(be, d_types);
        tc_backend_destroy(be);
    }
}

static void test_pool_normalize_backward(void) {
    NEED_GPU();
    enum { B = 6, C = 200 };
    int lengths[B] = {1, 4, 9, 2, 30, 3};
    int32_t offsets[B + 1] = {0};
    for (int b = 0; b < B; b++) offsets[b + 1] = offsets[b] + lengths[b];
    int N = offsets[B];
    for (int k = 0; k < 3; k++) {
        tc_backend *be = tc_backend_cuda_create(0, gpu_dtypes[k]);
        ENSURE(be);
        float *dout = random_input(be->dtype, (size_t)B * C, 1), *ref = malloc((size_t)N * C * 4);
        void *d_dout = gpu_put(be, dout, (size_t)B * C), *d_dx = be->ops->alloc(be, (size_t)N * C * 4);
        int32_t *d_off = gpu_put_raw(be, offsets, sizeof offsets);
        tc_seq_layout host = {B, 30, N, offsets, offsets}, dev = {B, 30, N, offsets, d_off};
        for (int mode = TC_POOL_MEAN; mode <= TC_POOL_POOLER; mode++) {
            tc_cpu_pool_backward(NULL, ref, dout, &host, C, (tc_pooling)mode);
            CHECK(be->ops->pool_backward(be, d_dx, d_dout, &dev, C, (tc_pooling)mode) == 0);
            CHECKF(same_act(be, "pool dx", d_dx, ref, (size_t)N * C), "mode %d %s", mode, dtype_label(be->dtype));
        }
        // normalize: random rows and one of zeros (the floor's branch)
        float *x = random_input(be->dtype, (size_t)B * C, 3), *dx = malloc((size_t)B * C * 4);
        memset(x + 2 * C, 0, C * sizeof *x);
        tc_cpu_normalize_backward(NULL, dx, dout, x, B, C);
        void *d_x = gpu_put(be, x, (size_t)B * C), *d_n = be->ops->alloc(be, (size_t)B * C * 4);
        CHECK(be->ops->normalize_backward(be, d_n, d_dout, d_x, B, C) == 0);
        // row 2 is dout / 1e-12: compare the others, and row 2 relative to itself
        float *got = gpu_get(be, d_n, (size_t)B * C);
        CHECK(got && close_to("normalize dx", be->dtype, got, dx, 2 * C) &&
              close_to("normalize dx", be->dtype, got + 3 * C, dx + 3 * C, 3 * C) &&
              close_to("normalize dx (zero row)", be->dtype, got + 2 * C, dx + 2 * C, C));
        free(got), free(x), free(dx), free(dout), free(ref);
        be->ops->free(be, d_dout), be->ops->free(be, d_dx), be->ops->free(be, d_off), be->ops->free(be, d_x),
            be->ops->free(be, d_n);
        tc_backend_destroy(be);
    }
}

// ---------------------------------------------------------------- loss, norm, optimizer

static void test_loss_norm_adamw(void) {
    NEED_GPU();
    enum { B = 37, K = 531 };
    tc_backend *cpu = tc_backend_cpu_create(1);
    ENSURE(cpu);
    for (int k = 0; k < 3; k++) {
        tc_backend *be = tc_backend_cuda_create(0, gpu_dtypes[k]);
        ENSURE(be);
        size_t bk = (size_t)B * K;
        float *logits = random_input(be->dtype, bk, 8), *y = malloc(bk * 4), *w = malloc(bk * 4);
        for (size_t i = 0; i < bk; i++) y[i] = (float)(i % 7 == 0), w[i] = i % 11 == 3 ? 0.0f : i % 5 == 0 ? 0.5f : 1.0f;
        float loss[B], *dl = malloc(bk * 4);
        tc_cpu_bce_loss(NULL, loss, dl, logits, y, w, B, K, 0.03125f);
        void *d_logits = gpu_put(be, logits, bk), *d_dl = be->ops->alloc(be, bk * 4);
        float *d_y = gpu_put_raw(be, y, bk * 4), *d_w = gpu_put_raw(be, w, bk * 4), *d_loss = be->ops->alloc(be, B * 4);
        CHECK(be->ops->bce_loss(be, d_loss, d_dl, d_logits, d_y, d_w, B, K, 0.03125f) == 0);
        float *gl = gpu_get_f32(be, d_loss, B);
        CHECK(gl && harness_close("bce loss", gl, loss, B, 1e-5, 1e-5));
        CHECK(same_act(be, "bce dlogits", d_dl, dl, bk));
        // the step's loss: the same rows, their sum in the state, dlogits x the loss scale
        tc_train_state st = tc_train_state_init(4.0f), *d_st = gpu_put_raw(be, &st, sizeof st);
        CHECK(be->ops->bce_loss_step(be, d_loss, d_dl, d_logits, d_y, d_w, B, K, 0.03125f, d_st, 5) == 0);
        for (size_t i = 0; i < bk; i++) dl[i] *= 4.0f;
        CHECK(same_act(be, "bce dlogits x 4", d_dl, dl, bk));
        CHECK(be->ops->download(be, &st, d_st, sizeof st) == 0 && be->ops->synchronize(be) == 0);
        double sum = 0;
        for (int b = 0; b < B; b++) sum += gl ? gl[b] : 0;
        CHECKF(st.loss_sum == sum && st.bad_loss_tag == -1, "loss sum %.17g, rows %.17g", st.loss_sum, sum);
        free(gl);
        // the norm: host and state results, against the CPU's
        size_t n = 3000001;
        float *g = tiny_fill(n, &rng, 0, 1e-2f), *gd = gpu_put_raw(be, g, n * 4);
        double ref, got = 0;
        ENSURE(cpu->ops->sumsq(cpu, &ref, g, n) == 0);
        CHECK(be->ops->sumsq(be, &got, gd, n) == 0);
        CHECKF(fabs(got - ref) <= 1e-12 * ref, "sumsq %.17g vs %.17g", got, ref);
        CHECK(be->ops->grad_sumsq(be, d_st, gd, n) == 0 && be->ops->download(be, &st, d_st, sizeof st) == 0 &&
              be->ops->synchronize(be) == 0);
        CHECK(st.sumsq == got);
        // AdamW, from the host's step and from the state
        float *p = tiny_fill(n, &rng, 0, 1), *m = tiny_fill(n, &rng, 0, 1e-3f), *v = tiny_fill(n, &rng, 1e-4f, 1e-5f);
        float *dp = gpu_put_raw(be, p, n * 4), *dm = gpu_put_raw(be, m, n * 4), *dv = gpu_put_raw(be, v, n * 4);
        tc_adamw_args a = {1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 3, 0.5f};
        ENSURE(cpu->ops->adamw_update(cpu, p, g, m, v, n, &a) == 0);
        CHECK(be->ops->adamw_update(be, dp, gd, dm, dv, n, &a) == 0);
        float *gp = gpu_get_f32(be, dp, n), *gm = gpu_get_f32(be, dm, n), *gv = gpu_get_f32(be, dv, n);
        CHECK(gp && gm && gv && harness_close("adamw p", gp, p, n, 1e-7, 1e-6) &&
              harness_close("adamw m", gm, m, n, 1e-9, 1e-6) && harness_close("adamw v", gv, v, n, 1e-12, 1e-6));
        free(gp), free(gm), free(gv);
        free(logits), free(y), free(w), free(dl), free(g), free(p), free(m), free(v);
        void *bufs[] = {d_logits, d_dl, d_y, d_w, d_loss, d_st, gd, dp, dm, dv};
        for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) be->ops->free(be, bufs[i]);
        tc_backend_destroy(be);
    }
    tc_backend_destroy(cpu);
}

// The decision of a step on the GPU is the CPU's, bit for bit, through a run
// of steps with overflows injected into the gradient (fp16 loss scaling):
// skipped steps leave the parameters and moments as they were, the scale
// halves on each overflow and grows back after the growth interval.
static void test_step_decide_and_overflow(void) {
    NEED_GPU();
    enum { N = 4096 };
    tc_backend *cpu = tc_backend_cpu_create(1), *be = tc_backend_cuda_create(0, TCT_F16);
    ENSURE(cpu && be);
    tc_train_state hs = tc_train_state_init(65536.0f), gs = hs, *d_st = gpu_put_raw(be, &gs, sizeof gs);
    float *g = tiny_fill(N, &rng, 0, 100), *p = tiny_fill(N, &rng, 0, 1), *m = calloc(N, 4), *v = calloc(N, 4);
    float *dg = gpu_put_raw(be, g, N * 4), *dp = gpu_put_raw(be, p, N * 4), *dm = be->ops->alloc(be, N * 4),
          *dv = be->ops->alloc(be, N * 4);
    tc_adamw_args a = {1e-3f, 0.9f, 0.999f, 1e-6f, 0.01f, 0, 0};
    for (int step = 1; step <= 12; step++) {
        int overflow = step == 2 || step == 3 || step == 9;
        for (int i = 1; i <= 12; i++) g[i] = 1.0f;
        if (overflow) g[step] = step == 3 ? NAN : INFINITY;
        ENSURE(be->ops->upload(be, dg, g, N * 4) == 0);
        tc_step_args sa = {1e-3f, 0.9f, 0.999f, 1.0, 1, 4, step};
        float p_before[N];
        memcpy(p_before, p, sizeof p_before);
        ENSURE(cpu->ops->grad_sumsq(cpu, &hs, g, N) == 0 && cpu->ops->step_decide(cpu, &hs, &sa) == 0 &&
               cpu->ops->adamw_step(cpu, p, g, m, v, N, &a, &hs) == 0);
        CHECK(be->ops->grad_sumsq(be, d_st, dg, N) == 0 && be->ops->step_decide(be, d_st, &sa) == 0 &&
              be->ops->adamw_step(be, dp, dg, dm, dv, N, &a, d_st) == 0);
        CHECK(be->ops->download(be, &gs, d_st, sizeof gs) == 0 && be->ops->synchronize(be) == 0);
        CHECKF(gs.skip == hs.skip && gs.loss_scale == hs.loss_scale && gs.grad_scale == hs.grad_scale &&
                   gs.step_size == hs.step_size && gs.bc2_sqrt == hs.bc2_sqrt && gs.adam_steps == hs.adam_steps &&
                   gs.good_steps == hs.good_steps && gs.skipped == hs.skipped && gs.first_skip == hs.first_skip,
               "step %d: GPU skip %d scale %g adam %lld, CPU skip %d scale %g adam %lld", step, gs.skip,
               (double)gs.loss_scale, (long long)gs.adam_steps, hs.skip, (double)hs.loss_scale,
               (long long)hs.adam_steps);
        CHECKF(gs.skip == overflow, "step %d: skip %d", step, gs.skip);
        if (overflow) CHECKF(!memcmp(p, p_before, sizeof p_before), "step %d moved the parameters", step);
        float *gp = gpu_get_f32(be, dp, N);
        CHECKF(gp && harness_close("parameters", gp, p, N, 1e-7, 1e-6), "step %d", step);
        free(gp);
    }
    // 65536: halved at 2 and 3, grown after 4 good steps (7), halved at 9, and 3 good steps since
    CHECKF(hs.loss_scale == 16384.0f && hs.skipped == 3 && hs.adam_steps == 9 && hs.first_skip == 2,
           "scale %g skipped %lld", (double)hs.loss_scale, (long long)hs.skipped);
    free(g), free(p), free(m), free(v);
    be->ops->free(be, d_st), be->ops->free(be, dg), be->ops->free(be, dp), be->ops->free(be, dm), be->ops->free(be, dv);
    tc_backend_destroy(be), tc_backend_destroy(cpu);
}

// Two runs of the backward operations give the same bits.
static void test_repeatable(void) {
    NEED_GPU();
    tc_backend *be = tc_backend_cuda_create(0, TCT_BF16);
    ENSURE(be);
    enum { N = 2000, IC = 96, OC = 160 };
    float *inp = random_input(be->dtype, N * IC, 1), *w = random_input(be->dtype, OC * IC, 0.1f),
          *dout = random_input(be->dtype, N * OC, 1), *pre = random_input(be->dtype, N * OC, 2);
    float *results[2][2];
    for (int run = 0; run < 2; run++) {
        void *d_inp = gpu_put(be, inp, N * IC), *d_w = gpu_put(be, w, OC * IC), *d_dout = gpu_put(be, dout, N * OC),
             *d_pre = gpu_put(be, pre, N * OC), *d_dinp = be->ops->alloc(be, N * IC * 2);
        float *d_dw = be->ops->alloc(be, OC * IC * 4), *d_db = be->ops->alloc(be, OC * 4);
        CHECK(be->ops->matmul_backward(be, d_dinp, d_dw, d_db, d_dout, d_inp, d_w, d_pre, N, IC, OC, TC_ACT_GELU, 0) == 0);
        results[run][0] = gpu_get_f32(be, d_dw, OC * IC);
        results[run][1] = gpu_get_f32(be, d_db, OC);
        void *bufs[] = {d_inp, d_w, d_dout, d_pre, d_dinp, d_dw, d_db};
        for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) be->ops->free(be, bufs[i]);
    }
    CHECK(results[0][0] && results[1][0] && !memcmp(results[0][0], results[1][0], OC * IC * 4));
    CHECK(results[0][1] && results[1][1] && !memcmp(results[0][1], results[1][1], OC * 4));
    for (int r = 0; r < 2; r++) free(results[r][0]), free(results[r][1]);
    free(inp), free(w), free(dout), free(pre);
    tc_backend_destroy(be);
}

// ---------------------------------------------------------------- whole steps

// One micro-batch's gradient (unscaled, synchronous path) on both.
static void check_batch_gradient(const train_problem *tp, tc_pooling pooling, tct_dtype dtype) {
    tc_bert_model mc, mg;
    ENSURE(tc_bert_model_load(&mc, tp->dir) == 0 && tc_bert_model_load(&mg, tp->dir) == 0);
    tc_backend *cpu = tc_backend_cpu_create(2), *gpu = tc_backend_cuda_create(0, dtype);
    ENSURE(cpu && gpu);
    tc_classifier_options co = train_problem_options(8, pooling);
    tc_classifier *cc, *gc;
    ENSURE(tc_classifier_create(&cc, cpu, &mc, &co, tp->E, TP_K, TP_D, NULL) == 0 &&
           tc_classifier_create(&gc, gpu, &mg, &co, tp->E, TP_K, TP_D, NULL) == 0);
    ENSURE(tc_classifier_init_head(cc, 5, 0) == 0 && tc_classifier_init_head(gc, 5, 0) == 0);
    const int32_t *rows[8];
    int32_t lengths[8];
    uint32_t docs[8];
    float y[8 * TP_K], w[8 * TP_K], lc[8], lg[8];
    for (int i = 0; i < 8; i++) {
        docs[i] = (uint32_t)(i * 3 + 1);
        rows[i] = tp->s.tokens + tp->s.tok_offsets[docs[i]];
        lengths[i] = tc_train_set_length(&tp->s, docs[i]);
    }
    tc_train_set_targets(&tp->s, docs, 8, TP_K, y, w);
    ENSURE(tc_classifier_zero_grads(cc) == 0 && tc_classifier_zero_grads(gc) == 0);
    ENSURE(tc_classifier_train_batch(cc, rows, lengths, 8, y, w, 0.125f, lc, NULL) == 0);
    CHECKF(tc_classifier_train_batch(gc, rows, lengths, 8, y, w, 0.125f, lg, NULL) == 0, "%s", tc_error());
    size_t n = cc->n_total;
    float *g1 = malloc(n * 4), *g2 = malloc(n * 4);
    ENSURE(classifier_grads(cc, g1) == 0 && classifier_grads(gc, g2) == 0);
    double dot = 0, a2 = 0, b2 = 0, mx = 0, worst = 0;
    for (size_t i = 0; i < n; i++) {
        dot += (double)g1[i] * g2[i], a2 += (double)g1[i] * g1[i], b2 += (double)g2[i] * g2[i];
        if (fabs(g1[i]) > mx) mx = fabs(g1[i]);
        if (fabs(g1[i] - g2[i]) > worst) worst = fabs(g1[i] - g2[i]);
    }
    double cosine = dot / sqrt(a2 * b2);
    printf("  gradient %s, %s pooling: cosine %.7f, max |diff| %.3g of max %.3g\n", dtype_label(dtype),
           tc_pooling_name(pooling), cosine, worst, mx);
    if (dtype == TCT_F32) CHECKF(worst <= 1e-4 * mx, "fp32 gradient off by %.3g (max %.3g)", worst, mx);
    else CHECKF(cosine >= (dtype == TCT_BF16 ? 0.99 : 0.999), "%s gradient cosine %.6f", dtype_label(dtype), cosine);
    CHECK(harness_close("row losses", lg, lc, 8, dtype == TCT_F32 ? 1e-5 : 2e-2, dtype == TCT_F32 ? 1e-5 : 2e-2));
    free(g1), free(g2);
    tc_classifier_free(cc), tc_classifier_free(gc);
    tc_backend_destroy(cpu), tc_backend_destroy(gpu);
    tc_bert_model_free(&mc), tc_bert_model_free(&mg);
}

// "key" of the log line of `step`.
static double log_value(const char *dir, long step, const char *key) {
    char path[4096], line[4096];
    snprintf(path, sizeof path, "%s/log.jsonl", dir);
    FILE *f = fopen(path, "r");
    double v = NAN;
    while (f && fgets(line, sizeof line, f)) {
        json_t *o = json_loads(line, 0, NULL);
        json_t *x = o ? json_object_get(o, key) : NULL;
        if (json_is_number(x) && json_integer_value(json_object_get(o, "step")) == step) v = json_number_value(x);
        json_decref(o);
    }
    if (f) fclose(f);
    return v;
}

// Three steps through the trainer on each backend. fp32: the parameters
// after them, the losses and norms of each (the GPU looks every 2 steps, so
// its line 2 covers steps 1-2); bf16 and fp16 (fp16 with loss scaling):
// the first step's loss and norm, no skipped step.
static void check_steps(const train_problem *tp, tct_dtype dtype) {
    char dir_c[4096], dir_g[4096];
    snprintf(dir_c, sizeof dir_c, "%s/steps-cpu", harness_tmpdir());
    snprintf(dir_g, sizeof dir_g, "%s/steps-%s", harness_tmpdir(), dtype_label(dtype));
    tc_bert_model mc, mg;
    ENSURE(tc_bert_model_load(&mc, tp->dir) == 0 && tc_bert_model_load(&mg, tp->dir) == 0);
    tc_backend *cpu = tc_backend_cpu_create(2), *gpu = tc_backend_cuda_create(0, dtype);
    tc_comm *comm = tc_comm_single_create();
    ENSURE(cpu && gpu && comm);
    tc_classifier_options co = train_problem_options(8, TC_POOL_MEAN);
    tc_classifier *cc, *gc;
    ENSURE(tc_classifier_create(&cc, cpu, &mc, &co, tp->E, TP_K, TP_D, NULL) == 0 &&
           tc_classifier_create(&gc, gpu, &mg, &co, tp->E, TP_K, TP_D, NULL) == 0);
    ENSURE(tc_classifier_init_head(cc, 5, 0) == 0 && tc_classifier_init_head(gc, 5, 0) == 0);
    tc_train_config c1 = train_problem_config(tp, dir_c, 8, 3), c2 = train_problem_config(tp, dir_g, 8, 3);
    c1.eps = c2.eps = 1e-4f;
    c2.log_every = dtype == TCT_F32 ? 2 : 1;
    c2.loss_scaling = dtype == TCT_F16;
    c2.loss_scale = 1024;
    tc_train_result r1, r2;
    ENSURE(tc_train_run(cc, comm, &c1, &r1) == 0);
    CHECKF(tc_train_run(gc, comm, &c2, &r2) == 0, "GPU training: %s", tc_error());
    double tol = dtype == TCT_F32 ? 1e-5 : 2e-2;
    long first = dtype == TCT_F32 ? 2 : 1, last = dtype == TCT_F32 ? 3 : 1;
    for (long s = first; s <= last; s++) {
        double l1 = log_value(dir_c, s, "loss"), n1 = log_value(dir_c, s, "grad_norm");
        double l2 = log_value(dir_g, s, "loss"), n2 = log_value(dir_g, s, "grad_norm");
        printf("  %s step %ld: loss %.7g (CPU %.7g), gradient norm %.7g (CPU %.7g)\n", dtype_label(dtype), s, l2, l1, n2, n1);
        CHECKF(fabs(n2 - n1) <= tol * n1, "step %ld norm %.7g vs %.7g", s, n2, n1);
        // the GPU's line 2 covers steps 1-2 in fp32: losses of single steps only
        if (s != 2) CHECKF(fabs(l2 - l1) <= tol * fabs(l1), "step %ld loss %.7g vs %.7g", s, l2, l1);
    }
    if (dtype == TCT_F16) CHECKF(log_value(dir_g, 3, "skipped_steps") == 0, "fp16 skipped steps at a scale of 1024");
    if (dtype == TCT_F32) {
        size_t ne = cc->n_encoder, nw = (size_t)cc->C * TP_D;
        float *e1 = malloc(ne * 4), *e2 = malloc(ne * 4), W1[16 * TP_D], W2[16 * TP_D], E1[TP_K * TP_D], E2[TP_K * TP_D];
        ENSURE(classifier_params(cc, e1, W1, E1) == 0 && classifier_params(gc, e2, W2, E2) == 0);
        CHECK(harness_close("encoder after 3 steps", e2, e1, ne, 1e-5, 1e-5));
        CHECK(harness_close("W after 3 steps", W2, W1, nw, 1e-5, 1e-5) &&
              harness_close("E after 3 steps", E2, E1, TP_K * TP_D, 1e-5, 1e-5));
        free(e1), free(e2);
    }
    tc_classifier_free(cc), tc_classifier_free(gc);
    tc_backend_destroy(cpu), tc_backend_destroy(gpu);
    tc_comm_destroy(comm);
    tc_bert_model_free(&mc), tc_bert_model_free(&mg);
}

static void test_training_steps(void) {
    NEED_GPU();
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/problem", harness_tmpdir());
    train_problem tp;
    ENSURE(train_problem_make(&tp, dir, 40, 77, 1) == 0);
    for (int k = 0; k < 3; k++) {
        check_batch_gradient(&tp, TC_POOL_MEAN, gpu_dtypes[k]);
        check_batch_gradient(&tp, TC_POOL_POOLER, gpu_dtypes[k]);
        check_steps(&tp, gpu_dtypes[k]);
    }
}

int main(void) {
    RUN(test_matmul_backward);
    RUN(test_layernorm_backward);
    RUN(test_attention_backward);
    RUN(test_embeddings_backward);
    RUN(test_pool_normalize_backward);
    RUN(test_loss_norm_adamw);
    RUN(test_step_decide_and_overflow);
    RUN(test_repeatable);
    RUN(test_training_steps);
    HARNESS_EXIT();
}
