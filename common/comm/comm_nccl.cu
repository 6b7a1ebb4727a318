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
#include "kernels/cuda/cuda_train.cuh"

#include <nccl.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "common/comm/comm_nccl.h"
#include "common/comm/comm_threads.h"
}

#define NCCL_CHECK(call)                                                                                  \
    do {                                                                                                  \
        ncclResult_t nccl_err_ = (call);                                                                  \
        if (nccl_err_ != ncclSuccess)                                                                     \
            return tc_fail("%s failed: %s (%s:%d)", #call, ncclGetErrorString(nccl_err_), __FILE__, __LINE__); \
    } while (0)

namespace {

struct nccl_impl {
    tc_comm *host;        // host collectives (threads or MPI), owned
    ncclComm_t nccl;
    int device;
    cudaStream_t stream;  // the attached backend's
    cudaStream_t side;    // the overlapped all-reduces
    cudaEvent_t ready, done;
};

nccl_impl *impl_of(tc_comm *comm) { return (nccl_impl *)comm->impl; }

ncclDataType_t nccl_type(tc_comm_dtype dtype) { return dtype == TC_COMM_F64 ? ncclDouble : ncclFloat; }
size_t elem_size(tc_comm_dtype dtype) { return dtype == TC_COMM_F64 ? 8 : 4; }

int host_allreduce(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) {
    tc_comm *h = impl_of(comm)->host;
    return h->ops->allreduce_sum(h, buf, count, dtype);
}

int host_broadcast(tc_comm *comm, void *buf, size_t bytes, int root) {
    tc_comm *h = impl_of(comm)->host;
    return h->ops->broadcast(h, buf, bytes, root);
}

int host_barrier(tc_comm *comm) {
    tc_comm *h = impl_of(comm)->host;
    return h->ops->barrier(h);
}

void nccl_destroy(tc_comm *comm) {
    nccl_impl *d = impl_of(comm);
    if (d) {
        cudaSetDevice(d->device);
        if (d->stream) cudaStreamSynchronize(d->stream);
        if (d->side) cudaStreamSynchronize(d->side), cudaStreamDestroy(d->side);
        if (d->ready) cudaEventDestroy(d->ready);
        if (d->done) cudaEventDestroy(d->done);
        if (d->nccl) ncclCommDestroy(d->nccl);
        tc_comm_destroy(d->host);
        free(d);
    }
    free(comm);
}

int ready(tc_comm *comm) {
    nccl_impl *d = impl_of(comm);
    if (!d->stream) return tc_fail("NCCL rank %d: no backend attached", comm->rank);
    CUDA_CHECK(cudaSetDevice(d->device));
    return 0;
}

int device_allreduce(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) {
    nccl_impl *d = impl_of(comm);
    if (count == 0) return 0;
    if (ready(comm)) return -1;
    NCCL_CHECK(ncclAllReduce(buf, buf, count, nccl_type(dtype), ncclSum, d->nccl, d->stream));
    return 0;
}

int device_reduce_scatter(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) {
    nccl_impl *d = impl_of(comm);
    size_t each = count / (size_t)comm->size, tail = count - each * (size_t)comm->size, es = elem_size(dtype);
    char *base = (char *)buf;
    if (count == 0) return 0;
    if (ready(comm)) return -1;
    NCCL_CHECK(ncclGroupStart());
    if (each)  // in place: the rank's share of the result lands on its own share
        NCCL_CHECK(ncclReduceScatter(base, base + comm->rank * each * es, each, nccl_type(dtype), ncclSum, d->nccl,
                                     d->stream));
    char *rest = base + each * (size_t)comm->size * es;
    if (tail) NCCL_CHECK(ncclReduce(rest, rest, tail, nccl_type(dtype), ncclSum, comm->size - 1, d->nccl, d->stream));
    NCCL_CHECK(ncclGroupEnd());
    return 0;
}

int device_allgather(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) {
    nccl_impl *d = impl_of(comm);
    size_t each = count / (size_t)comm->size, tail = count - each * (size_t)comm->size, es = elem_size(dtype);
    char *base = (char *)buf;
    if (count == 0) return 0;
    if (ready(comm)) return -1;
    NCCL_CHECK(ncclGroupStart());
    if (each)  // in place: each rank sends its own share of buf
        NCCL_CHECK(ncclAllGather(base + comm->rank * each * es, base, each, nccl_type(dtype), d->nccl, d->stream));
    char *rest = base + each * (size_t)comm->size * es;
    if (tail) NCCL_CHECK(ncclBroadcast(rest, rest, tail, nccl_type(dtype), comm->size - 1, d->nccl, d->stream));
    NCCL_CHECK(ncclGroupEnd());
    return 0;
}

int device_pieces_async(tc_comm *comm, void *const *bufs, const size_t *counts, int n, tc_comm_dtype dtype) {
    nccl_impl *d = impl_of(comm);
    if (n == 0) return 0;
    if (ready(comm)) return -1;
    CUDA_CHECK(cudaEventRecord(d->ready, d->stream));
    CUDA_CHECK(cudaStreamWaitEvent(d->side, d->ready, 0));
    NCCL_CHECK(ncclGroupStart());
    for (int i = 0; i < n; i++)
        if (counts[i]) NCCL_CHECK(ncclAllReduce(bufs[i], bufs[i], counts[i], nccl_type(dtype), ncclSum, d->nccl, d->side));
    NCCL_CHECK(ncclGroupEnd());
    return 0;
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
                              device_wait};

tc_comm *wrap(tc_comm *host, ncclComm_t nccl, int device) {
    tc_comm *c = (tc_comm *)calloc(1, sizeof *c);
    nccl_impl *d = (nccl_impl *)calloc(1, sizeof *d);
    if (!c || !d) {
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
    strcpy(c->name, "nccl");
    c->impl = d;
    return c;
}

int init_all(int n, const int *devices, ncclComm_t *ncomms) {
    NCCL_CHECK(ncclCommInitAll(ncomms, n, devices));
    return 0;
}

int init_rank(tc_comm *host, int device, ncclComm_t *nccl) {
    ncclUniqueId id;
    if (host->rank == 0) NCCL_CHECK(ncclGetUniqueId(&id));
    if (host->ops->broadcast(host, &id, sizeof id, 0)) return -1;
    CUDA_CHECK(cudaSetDevice(device));
    NCCL_CHECK(ncclCommInitRank(nccl, host->size, id, host->rank));
    return 0;
}

}  // namespace

extern "C" int tc_comm_nccl_threads_create(int n, const int *devices, tc_comm **comms) {
    tc_comm **hosts = (tc_comm **)calloc((size_t)n, sizeof *hosts);
    ncclComm_t *ncomms = (ncclComm_t *)calloc((size_t)n, sizeof *ncomms);
    int rc = !hosts || !ncomms ? tc_fail("out of memory") : 0;
    if (rc == 0) rc = tc_comm_threads_create(n, hosts);
    if (rc == 0 && init_all(n, devices, ncomms)) {
        for (int r = 0; r < n; r++) tc_comm_destroy(hosts[r]);
        rc = -1;
    }
    for (int r = 0; rc == 0 && r < n; r++) {
        comms[r] = wrap(hosts[r], ncomms[r], devices[r]);
        if (!comms[r]) {  // undo: the wrapped ones own theirs, the rest by hand
            for (int q = 0; q < r; q++) tc_comm_destroy(comms[q]);
            for (int q = r; q < n; q++) ncclCommDestroy(ncomms[q]), tc_comm_destroy(hosts[q]);
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
        ncclCommDestroy(nccl);
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
    return 0;
}
