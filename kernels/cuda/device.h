// CUDA devices as the C side sees them. Only built with the CUDA backend
// (TC_HAVE_CUDA); callers guard with #if TC_HAVE_CUDA.
#ifndef TC_CUDA_DEVICE_H
#define TC_CUDA_DEVICE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// Number of usable devices; 0 with the reason in `why` when there is no
// driver or no GPU (never an error: the CPU is then the backend).
int tc_cuda_device_count(char *why, size_t why_size);

// Name and memory of a device, for messages.
int tc_cuda_device_describe(int device, char *text, size_t size);

// The first kernel and library calls, used by the GPU smoke test: scales a
// device vector with a kernel, multiplies with cuBLAS, and all-reduces over
// a one-rank NCCL communicator. Returns 0 when all three give the expected
// numbers; otherwise -1 with the reason in `why`.
int tc_cuda_smoke_test(int device, char *why, size_t why_size);

// The CUDA backend's stream (a cudaStream_t), for C code that queues work
// of its own in order with the backend's (the NCCL watchdog's GPU test
// holds it with a host function).
typedef struct tc_backend tc_backend;  // kernels/backend.h
void *tc_cuda_stream_handle(tc_backend *be);

#ifdef __cplusplus
}
#endif
#endif
