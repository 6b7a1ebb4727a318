// Data parallel over GPUs with NCCL (DESIGN section 6): a communicator whose
// collectives over the backend's memory (gradients) are NCCL's, queued on
// the training backend's stream (no host wait), and whose host collectives
// (loss sums, flags, broadcasts of small host data) are those of the
// communicator it wraps:
//   one process, several GPUs: a thread per GPU (common/comm/comm_threads.h),
//     NCCL communicators from ncclCommInitAll;
//   one process per GPU (mpirun, srun): the MPI communicator
//     (common/comm/comm.h), NCCL bootstrapped by ncclCommInitRank with the unique
//     id that rank 0 draws and broadcasts over MPI.
// Only in builds with CUDA (TC_HAVE_CUDA).
#ifndef TC_COMM_NCCL_H
#define TC_COMM_NCCL_H

#include "common/comm/comm.h"
#include "kernels/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

// n NCCL communicators over the GPUs devices[0..n-1] into comms (rank r on
// devices[r]), their host collectives among threads; timeout: their
// comm->timeout, which also bounds their start. 0 or -1 after tc_fail.
int tc_comm_nccl_threads_create(int n, const int *devices, double timeout, tc_comm **comms);

// Wraps `host` (an MPI communicator, taken over: destroyed with the
// result) with NCCL on GPU `device`; the start, and the result's
// collectives, are bounded by host->timeout. NULL after tc_fail (host
// destroyed too).
tc_comm *tc_comm_nccl_over(tc_comm *host, int device);

// The training backend whose stream the device collectives go on; before
// the first of them. Starts the watchdog of the queued collectives
// (common/comm/watchdog.h) with comm->timeout as it is now.
int tc_comm_nccl_attach(tc_comm *comm, tc_backend *be);

#ifdef __cplusplus
}
#endif
#endif
