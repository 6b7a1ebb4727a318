// cuBLAS, opened when the first handle is made instead of at program start.
// Only built with the CUDA backend (TC_HAVE_CUDA); callers guard with
// #if TC_HAVE_CUDA.
#ifndef TC_CUDA_CUBLAS_LOADER_H
#define TC_CUDA_CUBLAS_LOADER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// The library's file name (libcublas.so.N, N the headers' major version).
const char *tc_cublas_library_name(void);

// Opens the library and finds every function the backend calls, once per
// process (later calls return the first call's result). 0 when it is
// ready; -1 with the reason in `why` (may be NULL) otherwise.
int tc_cublas_load(char *why, size_t why_size);

#ifdef __cplusplus
}
#endif
#endif
