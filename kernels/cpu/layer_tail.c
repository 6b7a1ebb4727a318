// The rest of a transformer layer after attention (kernels/backend.h:
// layer_tail_forward) with oneDNN's bf16 or int8 products, one block of rows
// at a time. Run as five whole-batch operations, each writes its (N, C) or
// (N, F) result to memory and the next reads it back: at batch 32 and ~120
// tokens a document, the FFN's (N, F) alone is 24 MiB, past every cache. A
// pool task here takes TC_ONEDNN_BLOCK_ROWS rows through the output
// projection, the first layer norm, both FFN products and the second layer
// norm, its intermediate rows (64 x (2C + F) floats, 576 KiB for MiniLM) in
// its own buffer, which stays in the core's cache from one to the next.
// The blocks are those tc_onednn_matmul_forward makes, and each step is the
// same code as the operation it replaces, so the result is the same to the
// bit as the operations run one by one (tests/unit/test_layer_tail.c).
#include "common/error.h"
#include "kernels/cpu/cpu_ops.h"

#include <stdlib.h>

enum { ROWS = TC_ONEDNN_BLOCK_ROWS };

typedef struct {
    void *buf;  // (ROWS, 2C + F) f32: h (ROWS, C), y (ROWS, C), f (ROWS, F)
    size_t bytes;
    int failed;  // out of memory
} thread_buffer;

struct tc_cpu_layer_tail {
    thread_buffer *threads;
    int n_threads;
};

tc_cpu_layer_tail *tc_cpu_layer_tail_create(int threads) {
    tc_cpu_layer_tail *lt = tc_calloc(1, sizeof *lt);
    if (lt && !(lt->threads = tc_calloc((size_t)threads, sizeof *lt->threads))) {
        free(lt);
        return NULL;
    }
    if (lt) lt->n_threads = threads;
    return lt;
}

void tc_cpu_layer_tail_destroy(tc_cpu_layer_tail *lt) {
    if (!lt) return;
    for (int t = 0; t < lt->n_threads; t++) free(lt->threads[t].buf);
    free(lt->threads);
    free(lt);
}

typedef struct {
    tc_onednn *d;
    tc_cpu_layer_tail *lt;
    const tc_onednn_weight *attproj, *fc, *fcproj;
    float *out;
    const float *atty, *x;
    const tc_layer_tail *t;
    int N, C, F;
} tail_job;

static void tail_task(void *ctx, int task, int thread) {
    const tail_job *j = ctx;
    const tc_layer_tail *t = j->t;
    thread_buffer *b = &j->lt->threads[thread];
    size_t C = (size_t)j->C, F = (size_t)j->F, begin = (size_t)task * ROWS;
    int M = j->N - (int)begin < ROWS ? j->N - (int)begin : ROWS;
    if (b->failed) return;
    if (tc_cpu_grow(&b->buf, &b->bytes, ROWS * (2 * C + F) * sizeof(float))) {
        b->failed = 1;
        return;
    }
    float *h = b->buf, *y = h + ROWS * C, *f = y + ROWS * C, *out = j->out + begin * C;
    const float *x = j->x + begin * C;
    // the residual's rows, first read by the layer norm after the product:
    // asked for now, they arrive while it runs (its share fell by 40%)
    for (size_t at = 0; at < (size_t)M * C; at += 16) __builtin_prefetch(x + at);
    if (tc_onednn_block_forward(j->d, j->attproj, thread, y, NULL, j->atty + begin * C, t->attproj_b, M,
                                TC_ACT_NONE))
        return;
    tc_cpu_layernorm_rows(h, y, x, t->ln1_w, t->ln1_b, t->eps, M, j->C);
    if (tc_onednn_block_forward(j->d, j->fc, thread, f, NULL, h, t->fc_b, M, t->act) ||
        tc_onednn_block_forward(j->d, j->fcproj, thread, y, NULL, f, t->fcproj_b, M, TC_ACT_NONE))
        return;
    tc_cpu_layernorm_rows(out, y, h, t->ln2_w, t->ln2_b, t->eps, M, j->C);  // x's rows were read: out may be x
}

int tc_cpu_layer_tail_forward(tc_pool *pool, tc_onednn *d, tc_cpu_layer_tail *lt, float *out, const float *atty,
                              const float *x, const tc_layer_tail *t, int N, int C, int F) {
    if (tc_onednn_check_pool(d, pool)) return -1;
    if (tc_pool_size(pool) > lt->n_threads)
        return tc_fail("layer tail: made for %d threads, run on %d", lt->n_threads, tc_pool_size(pool));
    tail_job j = {d, lt, NULL, NULL, NULL, out, atty, x, t, N, C, F};
    if (!(j.attproj = tc_onednn_prepare(d, t->attproj_w, C, C)) || !(j.fc = tc_onednn_prepare(d, t->fc_w, C, F)) ||
        !(j.fcproj = tc_onednn_prepare(d, t->fcproj_w, F, C)))
        return -1;
    tc_pool_run(pool, (N + ROWS - 1) / ROWS, tail_task, &j);
    int rc = tc_onednn_failure(d);
    for (int i = 0; i < lt->n_threads; i++)
        if (lt->threads[i].failed) {
            lt->threads[i].failed = 0;
            if (rc == 0) rc = tc_fail("out of memory (a layer's buffers for %d rows)", ROWS);
        }
    return rc;
}
