// The NCCL communicator's watchdog on one GPU (common/comm/comm_nccl.cu,
// common/comm/watchdog.h): a one-rank communicator with a 1 s timeout
// all-reduces and passes tc_comm_check; then its stream is held by a host
// function, so the all-reduce queued behind it cannot complete (as when a
// peer never arrives): within a tick or two of the timeout the communicator
// fails with the line, and every later collective and host collective is
// refused with the same line. The case of a peer truly gone needs two GPUs
// (tests/cli/test_train_dead_rank.sh proves the same end for CPU ranks).
#include "tests/gpu/gpu_check.h"
#include "tests/ensure.h"
#include "common/comm/comm_nccl.h"
#include "common/error.h"
#include "kernels/backend.h"
#include "kernels/cuda/device.h"

#include <cuda_runtime.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int released;

static void CUDART_CB hold_stream(void *arg) {
    while (!__atomic_load_n((int *)arg, __ATOMIC_ACQUIRE)) usleep(1000);
}

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void test_held_stream_fails_the_communicator(void) {
    NEED_GPU();
    int device = 0;
    tc_comm *comm = NULL;
    ENSURE(tc_comm_nccl_threads_create(1, &device, 1.0, &comm) == 0);
    tc_backend *be = tc_backend_cuda_create(device, TCT_F32);
    ENSURE(be);
    ENSURE(tc_comm_nccl_attach(comm, be) == 0);
    float *buf = be->ops->alloc(be, 64 * sizeof *buf);
    ENSURE(buf);

    CHECK(comm->ops->allreduce_sum_device(comm, buf, 64, TC_COMM_F32) == 0);
    CHECK(be->ops->synchronize(be) == 0);
    CHECKF(tc_comm_check(comm) == 0, "%s", tc_error());

    CHECK(cudaLaunchHostFunc((cudaStream_t)tc_cuda_stream_handle(be), hold_stream, &released) == cudaSuccess);
    CHECK(comm->ops->allreduce_sum_device(comm, buf, 64, TC_COMM_F32) == 0);  // queued behind the hold
    double t0 = seconds(), took = -1;
    while (seconds() - t0 < 10) {
        if (tc_comm_check(comm)) {
            took = seconds() - t0;
            break;
        }
        usleep(10000);
    }
    const char *want = "rank 0: an NCCL collective did not complete within 1 s (--comm-timeout; a rank dead or hung): stopping";
    // a tick or two after the timeout; more under compute-sanitizer
    CHECKF(took >= 1.0 && took < 5, "failed after %.3f s (timeout 1 s)", took);
    CHECKF(!strcmp(tc_error(), want), "line '%s'", tc_error());
    CHECK(comm->ops->allreduce_sum_device(comm, buf, 64, TC_COMM_F32) == -1 && !strcmp(tc_error(), want));
    double flag = 1;
    CHECK(comm->ops->allreduce_sum(comm, &flag, 1, TC_COMM_F64) == -1 && !strcmp(tc_error(), want));

    // the all-reduce behind the hold belongs to the aborted communicator:
    // what the stream reports once released is NCCL's affair, not checked
    __atomic_store_n(&released, 1, __ATOMIC_RELEASE);
    be->ops->synchronize(be);
    tc_comm_destroy(comm);  // a failed communicator is left as it is: no wait
    be->ops->free(be, buf);
    tc_backend_destroy(be);
}

int main(void) {
    RUN(test_held_stream_fails_the_communicator);
    HARNESS_EXIT();
}
