// Ranks that are threads of one process (tc-train over several GPUs in one
// process: a thread per GPU, each running the trainer as one rank). The
// host collectives go through shared memory and a barrier; the sums add the
// ranks' buffers in rank order, so every rank gets the same bits. Buffers of
// the backend's memory are taken as host memory (CPU backends); GPUs wrap
// these communicators with NCCL (common/comm/comm_nccl.h).
//
// Every rank's thread must call the collectives in the same order; a rank
// that fails has to end the process (the others would wait for it).
#ifndef TC_COMM_THREADS_H
#define TC_COMM_THREADS_H

#include "common/comm/comm.h"

// size communicators of one group into comms[0..size-1] (comms[r] has rank
// r). Each is destroyed on its own; the group goes with the last.
int tc_comm_threads_create(int size, tc_comm **comms);

#endif
