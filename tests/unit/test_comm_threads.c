// Communicators among threads (common/comm/comm_threads.h), three ranks: sums in
// rank order (every rank the same bits), broadcast from a rank other than
// 0, the barrier, and the sharded pair (reduce-scatter, all-gather) on a
// count that does not divide by the ranks (tc_comm_shard: the last rank
// takes the remainder).
#include "tests/harness.h"
#include "tests/ensure.h"
#include "common/comm/comm_threads.h"
#include "common/error.h"

#include <pthread.h>

enum { RANKS = 3, COUNT = 10 };

typedef struct {
    tc_comm *comm;
    int ok;
    float sum[COUNT], shard[COUNT], gathered[COUNT];
    double sum64[2];
    char text[16];
} rank_ctx;

static void *rank_main(void *arg) {
    rank_ctx *c = arg;
    tc_comm *comm = c->comm;
    int r = comm->rank, ok = 1;
    for (int i = 0; i < COUNT; i++) c->sum[i] = (float)(r + 1) * 0.1f + (float)i;
    ok &= comm->ops->allreduce_sum(comm, c->sum, COUNT, TC_COMM_F32) == 0;
    c->sum64[0] = 1.0 / (r + 3), c->sum64[1] = r;
    ok &= comm->ops->allreduce_sum_device(comm, c->sum64, 2, TC_COMM_F64) == 0;
    snprintf(c->text, sizeof c->text, "rank %d", r);
    ok &= comm->ops->broadcast(comm, c->text, sizeof c->text, 1) == 0;
    ok &= comm->ops->barrier(comm) == 0;
    for (int i = 0; i < COUNT; i++) c->shard[i] = (float)(10 * r + i);
    ok &= comm->ops->reduce_scatter_sum_device(comm, c->shard, COUNT, TC_COMM_F32) == 0;
    size_t begin, end;
    tc_comm_shard(COUNT, comm->size, r, &begin, &end);
    for (int i = 0; i < COUNT; i++) c->gathered[i] = (size_t)i >= begin && (size_t)i < end ? (float)(100 * r + i) : -1;
    ok &= comm->ops->allgather_device(comm, c->gathered, COUNT, TC_COMM_F32) == 0;
    c->ok = ok;
    return NULL;
}

static void test_three_threads(void) {
    tc_comm *comms[RANKS];
    ENSURE(tc_comm_threads_create(RANKS, comms) == 0);
    rank_ctx ctx[RANKS];
    pthread_t th[RANKS];
    for (int r = 0; r < RANKS; r++) {
        memset(&ctx[r], 0, sizeof ctx[r]);
        ctx[r].comm = comms[r];
        CHECK(comms[r]->rank == r && comms[r]->size == RANKS);
        ENSURE(pthread_create(&th[r], NULL, rank_main, &ctx[r]) == 0);
    }
    for (int r = 0; r < RANKS; r++) pthread_join(th[r], NULL);
    for (int r = 0; r < RANKS; r++) {
        CHECK(ctx[r].ok);
        for (int i = 0; i < COUNT; i++) {
            float want = 0;
            for (int q = 0; q < RANKS; q++) want += (float)(q + 1) * 0.1f + (float)i;
            CHECKF(ctx[r].sum[i] == want, "rank %d sum[%d] %g, want %g", r, i, ctx[r].sum[i], want);
        }
        CHECK(ctx[r].sum64[0] == 1.0 / 3 + 1.0 / 4 + 1.0 / 5 && ctx[r].sum64[1] == 3);
        CHECK(!strcmp(ctx[r].text, "rank 1"));
        size_t begin, end;
        tc_comm_shard(COUNT, RANKS, r, &begin, &end);
        for (size_t i = begin; i < end; i++)
            CHECKF(ctx[r].shard[i] == (float)(0 + 10 + 20 + 3 * (int)i), "rank %d shard[%zu] %g", r, i, ctx[r].shard[i]);
        for (int i = 0; i < COUNT; i++) {
            int owner = i < 3 ? 0 : i < 6 ? 1 : 2;  // 10 / 3: 3, 3 and the last rank 4
            CHECKF(ctx[r].gathered[i] == (float)(100 * owner + i), "rank %d gathered[%d] %g", r, i, ctx[r].gathered[i]);
        }
    }
    for (int r = 0; r < RANKS; r++) tc_comm_destroy(comms[r]);
}

static void test_shards(void) {
    size_t b, e;
    tc_comm_shard(10, 3, 0, &b, &e);
    CHECK(b == 0 && e == 3);
    tc_comm_shard(10, 3, 2, &b, &e);
    CHECK(b == 6 && e == 10);
    tc_comm_shard(2, 4, 1, &b, &e);  // fewer values than ranks: the last rank has them all
    CHECK(b == 0 && e == 0);
    tc_comm_shard(2, 4, 3, &b, &e);
    CHECK(b == 0 && e == 2);
    tc_comm_shard(7, 1, 0, &b, &e);
    CHECK(b == 0 && e == 7);
}

int main(void) {
    RUN(test_three_threads);
    RUN(test_shards);
    HARNESS_EXIT();
}
