// How the ranks of a data-parallel run talk to each other (DESIGN section 6):
// sums over all ranks (gradients, loss and metric totals), a broadcast and a
// barrier. Two implementations of one interface:
//   single  one rank, nothing to exchange (common/comm/comm.c)
//   mpi     ranks started by mpirun (Open MPI), in builds where the probe
//           found it (TC_HAVE_MPI, common/comm/comm_mpi.c)
// The GPU build adds NCCL over device buffers, bootstrapped through the same
// launcher; the trainer only sees this interface.
//
// Every rank must call the collectives in the same order with the same
// counts. Results of allreduce_sum are identical on every rank, so that the
// ranks' parameters stay bit-identical after each update.
#ifndef TC_COMM_H
#define TC_COMM_H

#include <stddef.h>
#include <stdint.h>

typedef enum { TC_COMM_F32 = 1, TC_COMM_F64 } tc_comm_dtype;

typedef struct tc_comm tc_comm;

typedef struct {
    // buf (count values of dtype, host memory) = its sum over the ranks, in place
    int (*allreduce_sum)(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype);
    // buf (bytes) on every rank = root's
    int (*broadcast)(tc_comm *comm, void *buf, size_t bytes, int root);
    int (*barrier)(tc_comm *comm);
    void (*destroy)(tc_comm *comm);
    // The same over buffers in the training backend's memory (gradients,
    // parameters): host memory for the CPU backend (single, mpi); device
    // memory, queued on the backend's stream without waiting, for NCCL
    // (common/comm/comm_nccl.h).
    int (*allreduce_sum_device)(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype);
    // Optimizer-state sharding: rank r owns the values tc_comm_shard gives
    // it. reduce_scatter: rank r's shard of buf becomes the sum over the
    // ranks of that shard (the rest of buf is left undefined); allgather:
    // every rank's buf receives every rank's shard.
    int (*reduce_scatter_sum_device)(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype);
    int (*allgather_device)(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype);
    // Overlap with the backward pass (NULL where a communicator has none):
    // allreduce_sum_device of n pieces (bufs[i], counts[i] values) as one
    // bucket, as soon as the work queued so far has written them and
    // alongside the work queued after; device_wait makes the work queued
    // next wait for all such sums.
    int (*allreduce_pieces_async)(tc_comm *comm, void *const *bufs, const size_t *counts, int n, tc_comm_dtype dtype);
    int (*device_wait)(tc_comm *comm);
    // Where failures surface after the fact (NULL where none can: every
    // collective of the host communicators fails at once): NCCL's queued
    // collectives, watched against comm->timeout (common/comm/watchdog.h).
    // 0, or -1 after tc_fail with the line.
    int (*check)(tc_comm *comm);
} tc_comm_ops;

struct tc_comm {
    const tc_comm_ops *ops;
    int rank, size;
    char name[16];   // "single", "mpi"
    void *impl;
    // How long a collective waits for the other ranks before it fails
    // (seconds, 0: forever; MPI and NCCL), and the line it failed with,
    // naming the ranks that never arrived where the communicator can tell
    // ("" while none has). After that the communicator is unusable;
    // destroying it leaves without waiting for them.
    double timeout;
    char lost[256];
};

// The default of timeout (tc-train --comm-timeout): a rank may be busy for
// long between two collectives (a validation, a checkpoint on a slow disk),
// as PyTorch's default process-group timeout allows.
#define TC_COMM_DEFAULT_TIMEOUT 600.0

// Rank r's shard [*begin, *end) of count values: count / size each, the
// last rank also the remainder.
static inline void tc_comm_shard(size_t count, int size, int rank, size_t *begin, size_t *end) {
    size_t each = count / (size_t)size;
    *begin = (size_t)rank * each;
    *end = rank == size - 1 ? count : *begin + each;
}

// One rank.
tc_comm *tc_comm_single_create(void);

// 1 when this process was started by an MPI launcher (mpirun, srun with PMI)
// with more than one rank.
int tc_comm_launched(void);

// The number of ranks an MPI launcher (mpirun, srun) started, 0 when none
// did (one rank under mpirun: 1), and this process's rank among those on
// its node (for its GPU), 0 when unknown.
int tc_comm_launcher_size(void);
int tc_comm_local_rank(void);

#if TC_HAVE_MPI
// MPI_Init and the world communicator. NULL after tc_fail.
tc_comm *tc_comm_mpi_create(void);
#endif

static inline void tc_comm_destroy(tc_comm *comm) {
    if (comm) comm->ops->destroy(comm);
}

// Fails (on every rank alike) unless all ranks hold the same 64-bit value,
// so that ranks given different data or settings stop before training.
// `what` names the value in the message.
int tc_comm_check_same(tc_comm *comm, uint64_t value, const char *what);

// 0, or -1 after tc_fail when a collective already queued has failed (a
// rank dead or hung under NCCL): the trainer asks before it trusts what the
// device computed (a log line, a checkpoint).
static inline int tc_comm_check(tc_comm *comm) { return comm->ops->check ? comm->ops->check(comm) : 0; }

// 1 on every rank when `failed` is set on any rank, so that all ranks leave a
// loop together instead of waiting on a collective forever.
int tc_comm_any(tc_comm *comm, int failed);

#endif
