// NCCL communicators (common/comm/comm_nccl.h): device collectives by NCCL on the
// attached backend's stream, host collectives by the wrapped communicator.
// The overlapped all-reduces (allreduce_sum_device_async) go on a second
// stream of the same GPU: an event marks where the backend's stream is when
// a piece is ready, the second stream waits for it and sums the piece while
// the backward pass goes on; device_wait puts the backend's stream behind
// everything the second stream was given.
// Sharded collectives follow tc_comm_shard: count / size values a rank, the
// last rank also the remainder; NCCL wants equal shares, so the equal part
// goes through ncclReduceScatter / ncclAllGather and the remainder through
// ncclReduce / ncclBroadcast rooted at the last rank, in one group.
//
// A dead or hung rank (DESIGN section 6, tc-train --comm-timeout): the
// communicators are non-blocking (ncclConfig_t.blocking = 0), so no NCCL
// call waits on a peer: a call that returns ncclInProgress is polled
// (ncclCommGetAsyncError) until the timeout. What the stream runs later is
// watched by a watchdog (common/comm/watchdog.h): an event after every
// queued collective, and NCCL's own asynchronous error, looked at a few
// times a second; when one is late or NCCL reports a broken peer, the
// communicator is aborted (ncclCommAbort, which also ends the kernels
// waiting inside it) and every later call, and tc_comm_check, fails with
// the line. Over MPI, the first rank to see it then waits at an MPI
// barrier (itself bounded by the timeout) to name the ranks that are gone.
// The NCCL handle is touched under a lock by the owner's calls and the
// watchdog's, so that an abort never frees it under a call in flight.
#include "kernels/cuda/cuda_train.cuh"

#include <nccl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern "C" {
#include "common/comm/comm_nccl.h"
#include "common/comm/comm_threads.h"
#include "common/comm/watchdog.h"
}

namespace {

struct nccl_impl {
    tc_comm *host;        // host collectives (threads or MPI), owned
    ncclComm_t nccl;
    int device;
    cudaStream_t stream;  // the attached backend's
    cudaStream_t side;    // the overlapped all-reduces
    cudaEvent_t ready, done;
    cudaEvent_t marks[TC_WATCHDOG_MARKS];  // one after each queued collective
    tc_watchdog *watch;
    pthread_mutex_t handle_lock;  // nccl: calls and the abort
    int aborted;                  // under handle_lock
    int named;                    // over MPI: the barrier that names the lost ranks has run
    char error[192];              // the watchdog's hooks' text
};

nccl_impl *impl_of(tc_comm *comm) { return (nccl_impl *)comm->impl; }

double now() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// ---- the NCCL handle under its lock

int handle_status(nccl_impl *d, ncclResult_t *status) {
    pthread_mutex_lock(&d->handle_lock);
    int alive = !d->aborted;
    if (alive && ncclCommGetAsyncError(d->nccl, status) != ncclSuccess) *status = ncclInternalError;
    pthread_mutex_unlock(&d->handle_lock);
    return alive;
}

void abort_handle(void *ctx) {
    nccl_impl *d = (nccl_impl *)ctx;
    pthread_mutex_lock(&d->handle_lock);
    if (!d->aborted && d->nccl) ncclCommAbort(d->nccl);
    d->aborted = 1;
    pthread_mutex_unlock(&d->handle_lock);
}

// The line of a failure: the watchdog's, recorded in comm->lost.
int failed(tc_comm *comm) {
    nccl_impl *d = impl_of(comm);
    const char *line = d->watch ? tc_watchdog_failure(d->watch) : NULL;
    if (!line && !comm->lost[0]) return 0;
    if (line && !comm->lost[0]) snprintf(comm->lost, sizeof comm->lost, "%s", line);
    return tc_fail("%s", comm->lost);
}

void give_up(tc_comm *comm, const char *line) {
    nccl_impl *d = impl_of(comm);
    if (d->watch) {
        tc_watchdog_fail(d->watch, line);
    } else {
        snprintf(comm->lost, sizeof comm->lost, "%s", line);
        abort_handle(d);
    }
}

// A call's result: ncclInProgress (a non-blocking communicator still at
// it) is polled until it settles, at most comm->timeout seconds.
int settle(tc_comm *comm, ncclResult_t rc, const char *what) {
    nccl_impl *d = impl_of(comm);
    double deadline = comm->timeout > 0 ? now() + comm->timeout : 0;
    while (rc == ncclInProgress) {
        if (!handle_status(d, &rc)) return failed(comm) ? -1 : tc_fail("rank %d: NCCL aborted", comm->rank);
        if (rc != ncclInProgress) break;
        if (deadline > 0 && now() > deadline) {
            char line[256];
            snprintf(line, sizeof line, "rank %d: NCCL's %s did not complete within %g s (--comm-timeout; a rank dead or hung): stopping",
                     comm->rank, what, comm->timeout);
            give_up(comm, line);
            return failed(comm);
        }
        struct timespec pause = {0, 100000};
        nanosleep(&pause, NULL);
    }
    if (rc == ncclSuccess) return 0;
    return tc_fail("rank %d: NCCL's %s failed: %s (%s)", comm->rank, what, ncclGetErrorString(rc), ncclGetLastError(NULL));
}

// One NCCL call on the handle, settled. Every call goes through here.
#define NCCL_CALL(comm, what, call)                                            \
    do {                                                                       \
        nccl_impl *d_ = impl_of(comm);                                         \
        pthread_mutex_lock(&d_->handle_lock);                                  \
        ncclResult_t r_ = d_->aborted ? ncclInvalidUsage : (call);             \
        int aborted_ = d_->aborted;                                            \
        pthread_mutex_unlock(&d_->handle_lock);                                \
        if (aborted_) return failed(comm) ? -1 : tc_fail("rank %d: NCCL aborted", (comm)->rank); \
        if (settle(comm, r_, what)) return -1;                                 \
    } while (0)

// ---- the watchdog's hooks

int mark_done(void *ctx, int slot) {
    nccl_impl *d = (nccl_impl *)ctx;
    cudaSetDevice(d->device);
    cudaError_t e = cudaEventQuery(d->marks[slot]);
    if (e == cudaSuccess) return 1;
    if (e == cudaErrorNotReady) return 0;
    snprintf(d->error, sizeof d->error, "CUDA: %s", cudaGetErrorString(e));
    return -1;
}

const char *transport_error(void *ctx) {
    nccl_impl *d = (nccl_impl *)ctx;
    ncclResult_t status = ncclSuccess;
    if (d->error[0]) return d->error;
    if (!handle_status(d, &status) || status == ncclSuccess || status == ncclInProgress) return NULL;
    snprintf(d->error, sizeof d->error, "NCCL reports %s (a peer gone?)", ncclGetErrorString(status));
    return d->error;
}

// After a collective queued on stream s: a mark the watchdog times.
int mark(tc_comm *comm, cudaStream_t s) {
    nccl_impl *d = impl_of(comm);
    int slot = tc_watchdog_slot(d->watch);
    if (slot < 0) {
        failed(comm);  // the watchdog's line, kept in comm->lost
        return -1;
    }
    CUDA_CHECK(cudaEventRecord(d->marks[slot], s));
    tc_watchdog_arm(d->watch, slot);
    return 0;
}

// The wrapped communicator, bounded by this one's timeout.
tc_comm *host_of(tc_comm *comm) {
    tc_comm *h = impl_of(comm)->host;
    h->timeout = comm->timeout;
    return h;
}

// The first look at a failure over MPI names the ranks that are gone: an
// MPI barrier, bounded by the timeout, that they will not reach (the line
// stays NCCL's when every rank reaches it: a GPU hung, not a rank).
int check(tc_comm *comm) {
    nccl_impl *d = impl_of(comm);
    if (!failed(comm)) return 0;
    if (!d->named && !strcmp(d->host->name, "mpi")) {
        d->named = 1;
        tc_comm *h = host_of(comm);
        if (h->ops->barrier(h) && h->lost[0]) snprintf(comm->lost, sizeof comm->lost, "%s", h->lost);
    }
    return tc_fail("%s", comm->lost);
}

ncclDataType_t nccl_type(tc_comm_dtype dtype) { return dtype == TC_COMM_F64 ? ncclDouble : ncclFloat; }
size_t elem_size(tc_comm_dtype dtype) { return dtype == TC_COMM_F64 ? 8 : 4; }

// ---- host collectives: the wrapped communicator's, with this one's
// timeout, its failure line passed on

int host_done(tc_comm *comm, int rc) {
    tc_comm *h = impl_of(comm)->host;
    if (rc && h->lost[0] && !comm->lost[0]) snprintf(comm->lost, sizeof comm->lost, "%s", h->lost);
    return rc;
}

int host_allreduce(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) {
    if (check(comm)) return -1;
    tc_comm *h = host_of(comm);
    return host_done(comm, h->ops->allreduce_sum(h, buf, count, dtype));
}

int host_broadcast(tc_comm *comm, void *buf, size_t bytes, int root) {
    if (check(comm)) return -1;
    tc_comm *h = host_of(comm);
    return host_done(comm, h->ops->broadcast(h, buf, bytes, root));
}

int host_barrier(tc_comm *comm) {
    if (check(comm)) return -1;
    tc_comm *h = host_of(comm);
    return host_done(comm, h->ops->barrier(h));
}

// A communicator that failed is left as it is: its streams may hold work
// that never ends, and the abort freed the handle.
void nccl_destroy(tc_comm *comm) {
    nccl_impl *d = impl_of(comm);
    if (d) {
        int broken = comm->lost[0] || (d->watch && tc_watchdog_failure(d->watch));
        cudaSetDevice(d->device);
        if (!broken && d->stream) cudaStreamSynchronize(d->stream);  // bounded by the watchdog
        if (!broken && d->side) cudaStreamSynchronize(d->side);
        tc_watchdog_stop(d->watch);  // joined: aborted is final
        if (!broken && !d->aborted) {
            if (d->side) cudaStreamDestroy(d->side);
            if (d->ready) cudaEventDestroy(d->ready);
            if (d->done) cudaEventDestroy(d->done);
            for (int i = 0; i < TC_WATCHDOG_MARKS; i++)
                if (d->marks[i]) cudaEventDestroy(d->marks[i]);
            if (d->nccl) ncclCommDestroy(d->nccl);
        } else if (!d->aborted && d->nccl) {
            ncclCommAbort(d->nccl);
        }
        pthread_mutex_destroy(&d->handle_lock);
        tc_comm_destroy(d->host);
        free(d);
    }
    free(comm);
}

int ready(tc_comm *comm) {
    nccl_impl *d = impl_of(comm);
    if (!d->stream) return tc_fail("NCCL rank %d: no backend attached", comm->rank);
    if (check(comm)) return -1;
    CUDA_CHECK(cudaSetDevice(d->device));
    return 0;
}

// ---- device collectives

int device_allreduce(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) {
    nccl_impl *d = impl_of(comm);
    if (count == 0) return 0;
    if (ready(comm)) return -1;
    NCCL_CALL(comm, "all-reduce", ncclAllReduce(buf, buf, count, nccl_type(dtype), ncclSum, d->nccl, d->stream));
    return mark(comm, d->stream);
}

int device_reduce_scatter(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) {
    nccl_impl *d = impl_of(comm);
    size_t each = count / (size_t)comm->size, tail = count - each * (size_t)comm->size, es = elem_size(dtype);
    char *base = (char *)buf, *rest = base + each * (size_t)comm->size * es;
    if (count == 0) return 0;
    if (ready(comm)) return -1;
    NCCL_CALL(comm, "group start", ncclGroupStart());
    if (each)  // in place: the rank's share of the result lands on its own share
        NCCL_CALL(comm, "reduce-scatter", ncclReduceScatter(base, base + comm->rank * each * es, each, nccl_type(dtype), ncclSum,
                                                            d->nccl, d->stream));
    if (tail)
        NCCL_CALL(comm, "reduce", ncclReduce(rest, rest, tail, nccl_type(dtype), ncclSum, comm->size - 1, d->nccl, d->stream));
    NCCL_CALL(comm, "reduce-scatter", ncclGroupEnd());
    return mark(comm, d->stream);
}

int device_allgather(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) {
    nccl_impl *d = impl_of(comm);
    size_t each = count / (size_t)comm->size, tail = count - each * (size_t)comm->size, es = elem_size(dtype);
    char *base = (char *)buf, *rest = base + each * (size_t)comm->size * es;
    if (count == 0) return 0;
    if (ready(comm)) return -1;
    NCCL_CALL(comm, "group start", ncclGroupStart());
    if (each)  // in place: each rank sends its own share of buf
        NCCL_CALL(comm, "all-gather", ncclAllGather(base + comm->rank * each * es, base, each, nccl_type(dtype), d->nccl, d->stream));
    if (tail)
        NCCL_CALL(comm, "broadcast", ncclBroadcast(rest, rest, tail, nccl_type(dtype), comm->size - 1, d->nccl, d->stream));
    NCCL_CALL(comm, "all-gather", ncclGroupEnd());
    return mark(comm, d->stream);
}

int device_pieces_async(tc_comm *comm, void *const *bufs, const size_t *counts, int n, tc_comm_dtype dtype) {
    nccl_impl *d = impl_of(comm);
    if (n == 0) return 0;
    if (ready(comm)) return -1;
    CUDA_CHECK(cudaEventRecord(d->ready, d->stream));
    CUDA_CHECK(cudaStreamWaitEvent(d->side, d->ready, 0));
    NCCL_CALL(comm, "group start", ncclGroupStart());
    for (int i = 0; i < n; i++)
        if (counts[i]) NCCL_CALL(comm, "all-reduce", ncclAllReduce(bufs[i], bufs[i], counts[i], nccl_type(dtype), ncclSum, d->nccl, d->side));
    NCCL_CALL(comm, "overlapped all-reduce", ncclGroupEnd());
    return mark(comm, d->side);
}

int device_wait(tc_comm *comm) {
    nccl_impl *d = impl_of(comm);
    if (ready(comm)) return -1;
    CUDA_CHECK(cudaEventRecord(d->done, d->side));
    CUDA_CHECK(cudaStreamWaitEvent(d->stream, d->done, 0));
    return 0;
}

const tc_comm_ops nccl_ops = {host_allreduce,   host_broadcast,        host_barrier,     nccl_destroy,
                              device_allreduce, device_reduce_scatter, device_allgather, device_pieces_async,
                              device_wait,      check};

tc_comm *wrap(tc_comm *host, ncclComm_t nccl, int device) {
    tc_comm *c = (tc_comm *)calloc(1, sizeof *c);
    nccl_impl *d = (nccl_impl *)calloc(1, sizeof *d);
    if (!c || !d || pthread_mutex_init(&d->handle_lock, NULL)) {
        free(c);
        free(d);
        tc_fail("out of memory");
        return nullptr;
    }
    d->host = host;
    d->nccl = nccl;
    d->device = device;
    c->ops = &nccl_ops;
    c->rank = host->rank;
    c->size = host->size;
    c->timeout = host->timeout;
    strcpy(c->name, "nccl");
    c->impl = d;
    return c;
}

// Waits for a non-blocking communicator's start, at most timeout seconds
// (0: forever). On failure the caller aborts it.
int settle_start(ncclComm_t nccl, ncclResult_t rc, double timeout, int rank) {
    double deadline = timeout > 0 ? now() + timeout : 0;
    while (rc == ncclInProgress) {
        if (ncclCommGetAsyncError(nccl, &rc) != ncclSuccess) rc = ncclInternalError;
        if (rc != ncclInProgress) break;
        if (deadline > 0 && now() > deadline)
            return tc_fail("rank %d: NCCL's start did not complete within %g s (--comm-timeout; a rank dead or hung)", rank,
                           timeout);
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
    if (rc == ncclSuccess) return 0;
    return tc_fail("rank %d: NCCL's start failed: %s (%s)", rank, ncclGetErrorString(rc), ncclGetLastError(NULL));
}

ncclConfig_t nonblocking_config() {
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    return config;
}

// One process, n GPUs: the ranks' starts in one group (what
// ncclCommInitAll does, but with the non-blocking configuration).
int init_all(int n, const int *devices, ncclComm_t *ncomms, double timeout) {
    ncclUniqueId id;
    ncclResult_t rc = ncclGetUniqueId(&id);
    if (rc != ncclSuccess) return tc_fail("ncclGetUniqueId failed: %s", ncclGetErrorString(rc));
    ncclConfig_t config = nonblocking_config();
    rc = ncclGroupStart();
    for (int r = 0; r < n && (rc == ncclSuccess || rc == ncclInProgress); r++) {
        CUDA_CHECK(cudaSetDevice(devices[r]));
        rc = ncclCommInitRankConfig(&ncomms[r], n, id, r, &config);
    }
    ncclResult_t ended = ncclGroupEnd();
    if (rc == ncclSuccess || rc == ncclInProgress) rc = ended;
    int bad = rc != ncclSuccess && rc != ncclInProgress
                  ? tc_fail("ncclCommInitRankConfig failed: %s (%s)", ncclGetErrorString(rc), ncclGetLastError(NULL))
                  : 0;
    for (int r = 0; r < n && !bad; r++) bad = settle_start(ncomms[r], ncclInProgress, timeout, r);
    for (int r = 0; bad && r < n; r++)
        if (ncomms[r]) ncclCommAbort(ncomms[r]), ncomms[r] = nullptr;
    return bad ? -1 : 0;
}

int init_rank(tc_comm *host, int device, ncclComm_t *nccl) {
    ncclUniqueId id;
    if (host->rank == 0) {
        ncclResult_t rc = ncclGetUniqueId(&id);
        if (rc != ncclSuccess) return tc_fail("ncclGetUniqueId failed: %s", ncclGetErrorString(rc));
    }
    if (host->ops->broadcast(host, &id, sizeof id, 0)) return -1;
    CUDA_CHECK(cudaSetDevice(device));
    ncclConfig_t config = nonblocking_config();
    ncclResult_t rc = ncclCommInitRankConfig(nccl, host->size, id, host->rank, &config);
    int bad = rc != ncclSuccess && rc != ncclInProgress
                  ? tc_fail("ncclCommInitRankConfig failed: %s (%s)", ncclGetErrorString(rc), ncclGetLastError(NULL))
                  : settle_start(*nccl, rc, host->timeout, host->rank);
    if (bad && *nccl) ncclCommAbort(*nccl), *nccl = nullptr;
    return bad;
}

}  // namespace

extern "C" int tc_comm_nccl_threads_create(int n, const int *devices, double timeout, tc_comm **comms) {
    tc_comm **hosts = (tc_comm **)calloc((size_t)n, sizeof *hosts);
    ncclComm_t *ncomms = (ncclComm_t *)calloc((size_t)n, sizeof *ncomms);
    int rc = !hosts || !ncomms ? tc_fail("out of memory") : 0;
    if (rc == 0) rc = tc_comm_threads_create(n, hosts);
    if (rc == 0 && init_all(n, devices, ncomms, timeout)) {
        for (int r = 0; r < n; r++) tc_comm_destroy(hosts[r]);
        rc = -1;
    }
    for (int r = 0; rc == 0 && r < n; r++) {
        hosts[r]->timeout = timeout;
        comms[r] = wrap(hosts[r], ncomms[r], devices[r]);
        if (!comms[r]) {  // undo: the wrapped ones own theirs, the rest by hand
            for (int q = 0; q < r; q++) tc_comm_destroy(comms[q]);
            for (int q = r; q < n; q++) ncclCommAbort(ncomms[q]), tc_comm_destroy(hosts[q]);
            rc = -1;
        }
    }
    free(hosts);
    free(ncomms);
    return rc;
}

extern "C" tc_comm *tc_comm_nccl_over(tc_comm *host, int device) {
    ncclComm_t nccl = nullptr;
    if (init_rank(host, device, &nccl)) {
        tc_fail_context("rank %d, GPU %d", host->rank, device);
        tc_comm_destroy(host);
        return nullptr;
    }
    tc_comm *c = wrap(host, nccl, device);
    if (!c) {
        ncclCommAbort(nccl);
        tc_comm_destroy(host);
    }
    return c;
}

extern "C" int tc_comm_nccl_attach(tc_comm *comm, tc_backend *be) {
    if (strcmp(comm->name, "nccl")) return 0;  // host communicators need no stream
    nccl_impl *d = impl_of(comm);
    d->stream = tc_cuda_stream_of(be);
    CUDA_CHECK(cudaSetDevice(d->device));
    if (!d->side) CUDA_CHECK(cudaStreamCreateWithFlags(&d->side, cudaStreamNonBlocking));
    if (!d->ready) CUDA_CHECK(cudaEventCreateWithFlags(&d->ready, cudaEventDisableTiming));
    if (!d->done) CUDA_CHECK(cudaEventCreateWithFlags(&d->done, cudaEventDisableTiming));
    for (int i = 0; i < TC_WATCHDOG_MARKS; i++)
        if (!d->marks[i]) CUDA_CHECK(cudaEventCreateWithFlags(&d->marks[i], cudaEventDisableTiming));
    if (!d->watch) {
        tc_watchdog_hooks hooks = {d, mark_done, transport_error, abort_handle, NULL, 0, comm->rank, "an NCCL collective"};
        d->watch = tc_watchdog_start(&hooks, comm->timeout);
        if (!d->watch) return -1;
    }
    return 0;
}
