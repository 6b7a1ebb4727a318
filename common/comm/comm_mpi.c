// The communicator over MPI ranks started by mpirun (Open MPI). Compiled
// only where the build probe found MPI (TC_HAVE_MPI); the Makefile adds
// MPI's compile flags to this file alone and its libraries to tc-train.
//
// A rank that stops answering (stopped, hung, cut off) would leave the
// others in their next collective forever: mpirun ends the job when a rank
// exits, not when it hangs. So every collective is started non-blocking and
// waited for at most comm->timeout seconds; and each rank, as it starts a
// collective, tells every other one its count of collectives (small
// messages on a communicator of their own), and while it waits repeats it a
// few times a second, so that a rank that gives up names the ranks that
// never arrived or went silent after arriving (stopped inside the
// collective).
#include "common/comm/comm.h"
#include "common/error.h"

#if TC_HAVE_MPI
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { HEARTBEAT_TAG = 1, HEARTBEAT_RING = 1024, MAX_NAMED = 8 };

typedef struct {
    MPI_Comm heartbeat;
    int64_t started;                 // collectives this rank started
    int64_t *seen;                   // (size) the last collective each rank was heard starting
    double *heard;                   // (size) when each rank was last heard from
    double next_tick;                // when a waiting rank next repeats its count
    int64_t ring[HEARTBEAT_RING];    // send buffers: a send's value stays put while it may be in flight
} mpi_impl;

static int mpi_fail(const char *what, int rc) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    return tc_fail("MPI %s: %.*s", what, len, text);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// The counts other ranks sent so far.
static void drain_heartbeats(mpi_impl *m) {
    int flag = 1;
    while (flag) {
        MPI_Status st;
        if (MPI_Iprobe(MPI_ANY_SOURCE, HEARTBEAT_TAG, m->heartbeat, &flag, &st) != MPI_SUCCESS || !flag) return;
        int64_t k;
        if (MPI_Recv(&k, 1, MPI_INT64_T, st.MPI_SOURCE, HEARTBEAT_TAG, m->heartbeat, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return;
        if (k > m->seen[st.MPI_SOURCE]) m->seen[st.MPI_SOURCE] = k;
        m->heard[st.MPI_SOURCE] = now();
    }
}

static void send_count(tc_comm *comm, int64_t *k) {
    mpi_impl *m = comm->impl;
    for (int r = 0; r < comm->size; r++) {
        MPI_Request req;
        if (r != comm->rank && MPI_Isend(k, 1, MPI_INT64_T, r, HEARTBEAT_TAG, m->heartbeat, &req) == MPI_SUCCESS)
            MPI_Request_free(&req);
    }
}

// This rank starts its next collective: every other rank hears of it.
static void announce(tc_comm *comm) {
    mpi_impl *m = comm->impl;
    drain_heartbeats(m);  // what arrived meanwhile: the queue of messages stays short
    int64_t *k = &m->ring[++m->started % HEARTBEAT_RING];
    *k = m->started;
    m->seen[comm->rank] = m->started;
    send_count(comm, k);
}

// How often a waiting rank says it is still there, and how long a silence
// names a rank: a few ticks, well inside the timeout.
static double tick_period(const tc_comm *comm) { return comm->timeout > 0 ? fmin(0.25, comm->timeout / 8) : 0.25; }

// Still waiting: the same count again, from the buffer that holds it.
static void tick(tc_comm *comm) {
    mpi_impl *m = comm->impl;
    double t = now();
    if (t < m->next_tick) return;
    m->next_tick = t + tick_period(comm);
    send_count(comm, &m->ring[m->started % HEARTBEAT_RING]);
}

// The collective did not complete in time: the line names the ranks not
// heard starting it, and those silent for half the timeout (a waiting rank
// ticks several times in that span).
static int lost(tc_comm *comm, const char *what) {
    mpi_impl *m = comm->impl;
    drain_heartbeats(m);
    double t = now(), quiet = fmax(comm->timeout / 2, 4 * tick_period(comm));
    char names[160] = "";
    int n = 0, len = 0;
    for (int r = 0; r < comm->size; r++)
        if (r != comm->rank && (m->seen[r] < m->started || t - m->heard[r] > quiet) && n++ < MAX_NAMED && len < (int)sizeof names - 16)
            len += snprintf(names + len, sizeof names - (size_t)len, "%s%d", n > 1 ? ", " : "", r);
    if (n > MAX_NAMED) snprintf(names + len, sizeof names - (size_t)len, " and %d more", n - MAX_NAMED);
    if (n == 0)
        snprintf(comm->lost, sizeof comm->lost, "rank %d: the %s did not complete within %g s (--comm-timeout): stopping",
                 comm->rank, what, comm->timeout);
    else
        snprintf(comm->lost, sizeof comm->lost,
                 "rank %d: no answer from rank%s %s within %g s (--comm-timeout; dead or hung): stopping", comm->rank,
                 n > 1 ? "s" : "", names, comm->timeout);
    return tc_fail("%s", comm->lost);
}

// Waits for a started collective, at most comm->timeout seconds. MPI
// progresses inside MPI_Test: spin first, then poll every 50 us.
static int wait_for(tc_comm *comm, MPI_Request *req, const char *what) {
    double deadline = comm->timeout > 0 ? now() + comm->timeout : INFINITY;
    for (long spins = 0;; spins++) {
        int done = 0, rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) return mpi_fail(what, rc);
        if (done) return 0;
        if (spins < 1000) continue;
        drain_heartbeats(comm->impl);
        tick(comm);
        if (now() > deadline) return lost(comm, what);  // the request is left: MPI is not used again
        nanosleep(&(struct timespec){0, 50000}, NULL);
    }
}

// A collective started by `started` (an MPI_I... call's return code).
static int finish(tc_comm *comm, int started, MPI_Request *req, const char *what) {
    if (comm->lost[0]) return tc_fail("%s", comm->lost);
    return started == MPI_SUCCESS ? wait_for(comm, req, what) : mpi_fail(what, started);
}

// MPI counts are ints: large buffers go in pieces.
enum { MPI_PIECE = 1 << 28 };

static int mpi_allreduce(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) {
    MPI_Datatype type = dtype == TC_COMM_F64 ? MPI_DOUBLE : MPI_FLOAT;
    size_t size = dtype == TC_COMM_F64 ? 8 : 4;
    for (size_t at = 0; at < count; at += MPI_PIECE) {
        int n = (int)(count - at < MPI_PIECE ? count - at : MPI_PIECE);
        MPI_Request req;
        if (!comm->lost[0]) announce(comm);
        int rc = comm->lost[0] ? MPI_SUCCESS
                               : MPI_Iallreduce(MPI_IN_PLACE, (char *)buf + at * size, n, type, MPI_SUM, MPI_COMM_WORLD, &req);
        if (finish(comm, rc, &req, "all-reduce")) return -1;
    }
    return 0;
}

static int mpi_broadcast(tc_comm *comm, void *buf, size_t bytes, int root) {
    for (size_t at = 0; at < bytes; at += MPI_PIECE) {
        int n = (int)(bytes - at < MPI_PIECE ? bytes - at : MPI_PIECE);
        MPI_Request req;
        if (!comm->lost[0]) announce(comm);
        int rc = comm->lost[0] ? MPI_SUCCESS : MPI_Ibcast((char *)buf + at, n, MPI_BYTE, root, MPI_COMM_WORLD, &req);
        if (finish(comm, rc, &req, "broadcast")) return -1;
    }
    return 0;
}

static int mpi_barrier(tc_comm *comm) {
    MPI_Request req;
    if (!comm->lost[0]) announce(comm);
    int rc = comm->lost[0] ? MPI_SUCCESS : MPI_Ibarrier(MPI_COMM_WORLD, &req);
    return finish(comm, rc, &req, "barrier");
}

// After a lost rank, MPI_Finalize would wait for it: the process leaves
// without, and the launcher ends the job.
static void mpi_destroy(tc_comm *comm) {
    mpi_impl *m = comm->impl;
    if (!comm->lost[0]) {
        MPI_Comm_free(&m->heartbeat);
        MPI_Finalize();
    }
    free(m->seen);
    free(m->heard);
    free(m);
    free(comm);
}

// The shards of tc_comm_shard as MPI's per-rank counts and offsets.
static int shard_counts(const tc_comm *comm, size_t count, int **counts, int **displs) {
    if (count > INT_MAX) return tc_fail("MPI: %zu values are too many for one sharded collective", count);
    *counts = tc_malloc_array((size_t)comm->size, sizeof **counts);
    *displs = tc_malloc_array((size_t)comm->size, sizeof **displs);
    if (!*counts || !*displs) {
        free(*counts), free(*displs);
        return -1;
    }
    for (int r = 0; r < comm->size; r++) {
        size_t begin, end;
        tc_comm_shard(count, comm->size, r, &begin, &end);
        (*counts)[r] = (int)(end - begin);
        (*displs)[r] = (int)begin;
    }
    return 0;
}

static int mpi_reduce_scatter(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) {
    MPI_Datatype type = dtype == TC_COMM_F64 ? MPI_DOUBLE : MPI_FLOAT;
    size_t size = dtype == TC_COMM_F64 ? 8 : 4;
    int *counts = NULL, *displs = NULL;
    if (shard_counts(comm, count, &counts, &displs)) return -1;
    MPI_Request req;
    if (!comm->lost[0]) announce(comm);
    int rc = comm->lost[0] ? MPI_SUCCESS
                           : MPI_Ireduce_scatter(MPI_IN_PLACE, buf, counts, type, MPI_SUM, MPI_COMM_WORLD, &req);
    rc = finish(comm, rc, &req, "reduce-scatter");
    // in place, the rank's sums arrive at the start of buf: move them to its shard
    if (rc == 0) memmove((char *)buf + (size_t)displs[comm->rank] * size, buf, (size_t)counts[comm->rank] * size);
    free(counts), free(displs);
    return rc;
}

static int mpi_allgather(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) {
    MPI_Datatype type = dtype == TC_COMM_F64 ? MPI_DOUBLE : MPI_FLOAT;
    int *counts = NULL, *displs = NULL;
    if (shard_counts(comm, count, &counts, &displs)) return -1;
    MPI_Request req;
    if (!comm->lost[0]) announce(comm);
    int rc = comm->lost[0] ? MPI_SUCCESS
                           : MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts, displs, type,
                                             MPI_COMM_WORLD, &req);
    rc = finish(comm, rc, &req, "all-gather");
    free(counts), free(displs);
    return rc;
}

// The CPU backend's memory is the host's: the device collectives are the host ones.
static const tc_comm_ops mpi_ops = {mpi_allreduce, mpi_broadcast, mpi_barrier,        mpi_destroy,
                                    mpi_allreduce, mpi_reduce_scatter, mpi_allgather, NULL,
                                    NULL,          NULL};

tc_comm *tc_comm_mpi_create(void) {
    int rc = MPI_Init(NULL, NULL);
    if (rc != MPI_SUCCESS) {
        mpi_fail("init", rc);
        return NULL;
    }
    // errors come back as codes, reported as one line, instead of aborting
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    tc_comm *c = tc_calloc(1, sizeof *c);
    mpi_impl *m = tc_calloc(1, sizeof *m);
    if (c) MPI_Comm_size(MPI_COMM_WORLD, &c->size);
    if (m && c) m->seen = tc_calloc((size_t)c->size, sizeof *m->seen);
    if (m && c) m->heard = tc_calloc((size_t)c->size, sizeof *m->heard);
    if (!c || !m || !m->seen || !m->heard || (rc = MPI_Comm_dup(MPI_COMM_WORLD, &m->heartbeat)) != MPI_SUCCESS) {
        if (c && m && m->seen && m->heard) mpi_fail("heartbeat communicator", rc);
        if (m) free(m->seen), free(m->heard);
        free(m), free(c);
        MPI_Finalize();
        return NULL;
    }
    c->ops = &mpi_ops;
    c->impl = m;
    c->timeout = TC_COMM_DEFAULT_TIMEOUT;
    for (int r = 0; r < c->size; r++) m->heard[r] = now();
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    strcpy(c->name, "mpi");
    return c;
}
#else
typedef int tc_comm_mpi_not_built;  // ISO C wants a translation unit to declare something
#endif
