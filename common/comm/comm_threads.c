// Communicators among the threads of one process (common/comm/comm_threads.h):
// each collective publishes the rank's buffer in the group, waits at a
// barrier, and reads the others' buffers; a second barrier keeps a buffer
// unchanged until every rank has read it.
#include "common/comm/comm_threads.h"
#include "common/error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int size, alive;
    pthread_barrier_t barrier;
    pthread_mutex_t lock;
    void **bufs;  // [size]: what each rank published
} thread_group;

static thread_group *group_of(tc_comm *comm) { return comm->impl; }

static size_t elem_size(tc_comm_dtype dtype) { return dtype == TC_COMM_F64 ? 8 : 4; }

static void wait_all(thread_group *g) { pthread_barrier_wait(&g->barrier); }

// sum (count values) = the sum of every rank's buffer in rank order.
static void add_up(thread_group *g, void *sum, size_t begin, size_t end, tc_comm_dtype dtype) {
    for (size_t i = begin; i < end; i++) {
        if (dtype == TC_COMM_F64) {
            double s = 0;
            for (int r = 0; r < g->size; r++) s += ((const double *)g->bufs[r])[i];
            ((double *)sum)[i - begin] = s;
        } else {
            float s = 0;
            for (int r = 0; r < g->size; r++) s += ((const float *)g->bufs[r])[i];
            ((float *)sum)[i - begin] = s;
        }
    }
}

// The sum of [begin, end) of every rank's buf into buf; all ranks call it
// with their own range.
static int reduce_range(tc_comm *comm, void *buf, size_t begin, size_t end, tc_comm_dtype dtype) {
    thread_group *g = group_of(comm);
    size_t es = elem_size(dtype);
    void *sum = end > begin ? malloc((end - begin) * es) : NULL;
    g->bufs[comm->rank] = buf;
    wait_all(g);
    if (sum) add_up(g, sum, begin, end, dtype);
    wait_all(g);  // every rank has read every buffer
    if (sum) memcpy((char *)buf + begin * es, sum, (end - begin) * es);
    free(sum);
    return end > begin && !sum ? tc_fail("out of memory (a sum over %d threads)", g->size) : 0;
}

static int threads_allreduce(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) {
    return reduce_range(comm, buf, 0, count, dtype);
}

static int threads_reduce_scatter(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) {
    size_t begin, end;
    tc_comm_shard(count, comm->size, comm->rank, &begin, &end);
    return reduce_range(comm, buf, begin, end, dtype);
}

static int threads_allgather(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) {
    thread_group *g = group_of(comm);
    size_t es = elem_size(dtype);
    g->bufs[comm->rank] = buf;
    wait_all(g);
    for (int r = 0; r < comm->size; r++) {
        size_t begin, end;
        tc_comm_shard(count, comm->size, r, &begin, &end);
        if (r != comm->rank && end > begin)
            memcpy((char *)buf + begin * es, (const char *)g->bufs[r] + begin * es, (end - begin) * es);
    }
    wait_all(g);
    return 0;
}

static int threads_broadcast(tc_comm *comm, void *buf, size_t bytes, int root) {
    thread_group *g = group_of(comm);
    g->bufs[comm->rank] = buf;
    wait_all(g);
    if (comm->rank != root && bytes) memcpy(buf, g->bufs[root], bytes);
    wait_all(g);
    return 0;
}

static int threads_barrier(tc_comm *comm) {
    wait_all(group_of(comm));
    return 0;
}

static void group_release(thread_group *g) {
    pthread_mutex_lock(&g->lock);
    int last = --g->alive == 0;
    pthread_mutex_unlock(&g->lock);
    if (!last) return;
    pthread_barrier_destroy(&g->barrier);
    pthread_mutex_destroy(&g->lock);
    free(g->bufs);
    free(g);
}

static void threads_destroy(tc_comm *comm) {
    group_release(group_of(comm));
    free(comm);
}

// Host memory: a bucket's sums are there when the call returns.
static int threads_pieces(tc_comm *comm, void *const *bufs, const size_t *counts, int n, tc_comm_dtype dtype) {
    for (int i = 0; i < n; i++)
        if (threads_allreduce(comm, bufs[i], counts[i], dtype)) return -1;
    return 0;
}

static int threads_wait(tc_comm *comm) { return 0; }

static const tc_comm_ops threads_ops = {threads_allreduce, threads_broadcast,      threads_barrier,   threads_destroy,
                                        threads_allreduce, threads_reduce_scatter, threads_allgather, threads_pieces,
                                        threads_wait,      NULL};

int tc_comm_threads_create(int size, tc_comm **comms) {
    if (size < 1) return tc_fail("a group of %d threads", size);
    thread_group *g = tc_calloc(1, sizeof *g);
    if (!g) return -1;
    g->bufs = tc_calloc((size_t)size, sizeof *g->bufs);
    if (!g->bufs || pthread_barrier_init(&g->barrier, NULL, (unsigned)size) != 0) {
        free(g->bufs);
        free(g);
        return tc_fail("cannot set up a group of %d threads", size);
    }
    pthread_mutex_init(&g->lock, NULL);
    g->size = size;
    for (int r = 0; r < size; r++) {
        comms[r] = tc_calloc(1, sizeof **comms);
        if (!comms[r]) {
            for (int q = 0; q < r; q++) free(comms[q]);
            pthread_barrier_destroy(&g->barrier);
            pthread_mutex_destroy(&g->lock);
            free(g->bufs);
            free(g);
            return -1;
        }
        comms[r]->ops = &threads_ops;
        comms[r]->rank = r;
        comms[r]->size = size;
        strcpy(comms[r]->name, "threads");
        comms[r]->impl = g;
    }
    g->alive = size;
    return 0;
}
