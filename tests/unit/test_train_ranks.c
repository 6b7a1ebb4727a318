// The trainer with ranks that are threads of one process
// (common/comm/comm_threads.h, the way tc-train drives several GPUs), here on CPU
// backends: two ranks at batch 4 make the update of one rank at batch 8
// (within float tolerance: other summation orders); the sharded optimizer
// (ZeRO stage 1: reduce-scatter, each rank's own moments, all-gather) gives
// the same bits as the unsharded one on 2 and 3 ranks (no clipping, so the
// norm's summation order does not enter); activation checkpointing gives
// the same bits as keeping everything; a step where a rank has no document
// (it still takes part in every all-reduce, in the same order).
#include "tests/harness.h"
#include "tests/ensure.h"
#include "tests/train_problem.h"
#include "common/comm/comm_threads.h"
#include "common/error.h"

#include <pthread.h>

enum { MAX_RANKS = 3, C_HIDDEN = 16 };

typedef struct {
    const train_problem *tp;
    tc_comm *comm;
    tc_train_config cfg;
    int checkpoint;
    float *enc, W[C_HIDDEN * TP_D], E[TP_K * TP_D];
    int rc;
    char error[256];
} rank_run;

static void *rank_main(void *arg) {
    rank_run *r = arg;
    tc_bert_model m;
    tc_backend *be = tc_backend_cpu_create(1);
    tc_classifier *cl = NULL;
    tc_classifier_options co = train_problem_options(r->cfg.batch, TC_POOL_MEAN);
    co.checkpoint_activations = r->checkpoint;
    tc_train_result res;
    r->rc = !be || tc_bert_model_load(&m, r->tp->dir) ? -1 : 0;
    if (r->rc == 0) {
        r->rc = tc_classifier_create(&cl, be, &m, &co, r->tp->E, TP_K, TP_D, NULL) ||
                        tc_classifier_init_head(cl, 5, 0) || tc_train_run(cl, r->comm, &r->cfg, &res)
                    ? -1
                    : 0;
        r->enc = malloc(m.n_params * sizeof *r->enc);
        if (r->rc == 0) r->rc = classifier_params(cl, r->enc, r->W, r->E);
        tc_classifier_free(cl);
        tc_bert_model_free(&m);
    }
    if (r->rc) snprintf(r->error, sizeof r->error, "%s", tc_error());
    tc_backend_destroy(be);
    return NULL;
}

// Trains on `ranks` thread ranks; rank 0's parameters into *out (owned by
// the caller's run[0]).
static int run_ranks(const train_problem *tp, int ranks, int batch, int accumulate, int shard, int checkpoint,
                     const char *name, rank_run *run) {
    tc_comm *comms[MAX_RANKS];
    pthread_t th[MAX_RANKS];
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", harness_tmpdir(), name);
    if (tc_comm_threads_create(ranks, comms)) return -1;
    for (int r = 0; r < ranks; r++) {
        memset(&run[r], 0, sizeof run[r]);
        run[r].tp = tp;
        run[r].comm = comms[r];
        run[r].cfg = train_problem_config(tp, dir, batch, 4);
        run[r].cfg.max_grad_norm = 0;
        run[r].cfg.accumulate = accumulate;
        // the attention's key biases get a zero gradient in exact arithmetic,
        // float noise in fact, which Adam would blow up to steps of the rate
        run[r].cfg.eps = 1e-4f;
        run[r].cfg.shard_optimizer = shard;
        run[r].checkpoint = checkpoint;
        if (pthread_create(&th[r], NULL, rank_main, &run[r])) return -1;
    }
    for (int r = 0; r < ranks; r++) pthread_join(th[r], NULL);
    int rc = 0;
    for (int r = 0; r < ranks; r++) {
        if (run[r].rc) printf("  %s rank %d: %s\n", name, r, run[r].error), rc = -1;
        tc_comm_destroy(comms[r]);
    }
    return rc;
}

static void free_runs(rank_run *run, int ranks) {
    for (int r = 0; r < ranks; r++) free(run[r].enc), run[r].enc = NULL;
}

static int same_bits(const rank_run *a, const rank_run *b, size_t n) {
    return !memcmp(a->enc, b->enc, n * 4) && !memcmp(a->W, b->W, sizeof a->W) && !memcmp(a->E, b->E, sizeof a->E);
}

static train_problem tp;
static size_t n_encoder;

static void test_two_ranks_as_one(void) {
    rank_run one[1], two[2];
    ENSURE(run_ranks(&tp, 1, 8, 1, 0, 0, "one", one) == 0 && run_ranks(&tp, 2, 4, 1, 0, 0, "two", two) == 0);
    CHECK_CLOSE("encoder", two[0].enc, one[0].enc, n_encoder, 2e-6, 1e-5);
    CHECK_CLOSE("W", two[0].W, one[0].W, C_HIDDEN * TP_D, 2e-6, 1e-5);
    CHECK_CLOSE("E", two[0].E, one[0].E, TP_K * TP_D, 2e-6, 1e-5);
    CHECK(same_bits(&two[0], &two[1], n_encoder));  // the ranks agree
    free_runs(one, 1), free_runs(two, 2);
}

static void test_sharded_optimizer(void) {
    for (int ranks = 2; ranks <= 3; ranks++) {
        rank_run plain[MAX_RANKS], sharded[MAX_RANKS];
        ENSURE(run_ranks(&tp, ranks, 3, 1, 0, 0, "plain", plain) == 0 &&
               run_ranks(&tp, ranks, 3, 1, 1, 0, "sharded", sharded) == 0);
        CHECKF(same_bits(&plain[0], &sharded[0], n_encoder), "%d ranks: sharded differs", ranks);
        for (int r = 1; r < ranks; r++) CHECKF(same_bits(&sharded[0], &sharded[r], n_encoder), "rank %d differs", r);
        free_runs(plain, ranks), free_runs(sharded, ranks);
    }
}

static void test_checkpoint_activations(void) {
    rank_run kept[1], recomputed[1];
    ENSURE(run_ranks(&tp, 1, 8, 1, 0, 0, "kept", kept) == 0 && run_ranks(&tp, 1, 8, 1, 0, 1, "recomputed", recomputed) == 0);
    CHECK(same_bits(&kept[0], &recomputed[0], n_encoder));
    free_runs(kept, 1), free_runs(recomputed, 1);
}

// 38 documents, 3 ranks of batch 4: the 4th step has 2 documents, none for
// rank 0; and 2 ranks accumulating 2 micro-batches of 3.
static void test_rank_without_documents(void) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/short", harness_tmpdir());
    train_problem *p = malloc(sizeof *p);
    ENSURE(p && train_problem_make(p, dir, 38, 11, 0) == 0);
    rank_run one[1], three[3], sharded[3], acc[2];
    ENSURE(run_ranks(p, 1, 12, 1, 0, 0, "one12", one) == 0 && run_ranks(p, 3, 4, 1, 0, 0, "three", three) == 0 &&
           run_ranks(p, 3, 4, 1, 1, 0, "three-sharded", sharded) == 0 && run_ranks(p, 2, 3, 2, 0, 0, "acc", acc) == 0);
    CHECK_CLOSE("3 ranks: encoder", three[0].enc, one[0].enc, n_encoder, 2e-6, 1e-5);
    CHECK_CLOSE("3 ranks: E", three[0].E, one[0].E, TP_K * TP_D, 2e-6, 1e-5);
    CHECK(same_bits(&three[0], &sharded[0], n_encoder) && same_bits(&three[0], &three[2], n_encoder));
    CHECK_CLOSE("2 ranks x 2: encoder", acc[0].enc, one[0].enc, n_encoder, 2e-6, 1e-5);
    free_runs(one, 1), free_runs(three, 3), free_runs(sharded, 3), free_runs(acc, 2);
    free(p);
}

int main(void) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/ranks", harness_tmpdir());
    tc_bert_model m;
    if (train_problem_make(&tp, dir, 40, 11, 0) || tc_bert_model_load(&m, tp.dir)) {
        printf("FAIL setup: %s\n", tc_error());
        return 1;
    }
    n_encoder = m.n_params;
    tc_bert_model_free(&m);
    RUN(test_two_ranks_as_one);
    RUN(test_sharded_optimizer);
    RUN(test_checkpoint_activations);
    RUN(test_rank_without_documents);
    HARNESS_EXIT();
}
