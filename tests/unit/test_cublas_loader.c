// cuBLAS is opened on first use, not at program start
// (kernels/cuda/cublas_loader.cu): a program that never makes a handle
// never loads it, and the first handle finds every function the backend
// calls. Needs no GPU: opening the library and making a handle without one
// fail cleanly.
#include "tests/harness.h"

#if TC_HAVE_CUDA
#include "kernels/cuda/cublas_loader.h"

#include <cublas_v2.h>
#include <dlfcn.h>

static int is_loaded(const char *name) {
    void *h = dlopen(name, RTLD_NOW | RTLD_NOLOAD);
    if (h) dlclose(h);
    return h != NULL;
}

// Runs first: nothing before it in this process has asked for cuBLAS.
static void test_not_loaded_at_start(void) {
    char lt[64];
    snprintf(lt, sizeof lt, "libcublasLt.so.%d", CUBLAS_VER_MAJOR);
    CHECKF(!is_loaded(tc_cublas_library_name()), "%s was loaded as the program started", tc_cublas_library_name());
    CHECKF(!is_loaded(lt), "%s was loaded as the program started", lt);
}

static void test_loads_on_first_use(void) {
    char why[300] = "";
    int rc = tc_cublas_load(why, sizeof why);
    if (rc && !strncmp(why, "cannot load", 11)) SKIP("%s (the CUDA runtime libraries are not installed)", why);
    CHECKF(rc == 0, "%s", why);
    CHECK(is_loaded(tc_cublas_library_name()));
    char again[300] = "";
    CHECK(tc_cublas_load(again, sizeof again) == rc);  // once per process
}

// Through the forwarding functions: a handle where there is a GPU, a
// status with its text where there is none.
static void test_create(void) {
    cublasHandle_t handle = NULL;
    cublasStatus_t st = cublasCreate(&handle);
    const char *text = cublasGetStatusString(st);
    CHECKF(text && text[0], "no text for status %d", (int)st);
    if (st == CUBLAS_STATUS_SUCCESS) {
        CHECK(handle != NULL);
        CHECK(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH) == CUBLAS_STATUS_SUCCESS);
        CHECK(cublasDestroy(handle) == CUBLAS_STATUS_SUCCESS);
    } else {
        CHECKF(st == CUBLAS_STATUS_NOT_INITIALIZED || st == CUBLAS_STATUS_ALLOC_FAILED,
               "cublasCreate without a usable GPU: status %d (%s)", (int)st, text);
        printf("  no handle here: %s\n", text);
    }
}

int main(void) {
    RUN(test_not_loaded_at_start);
    RUN(test_loads_on_first_use);
    RUN(test_create);
    HARNESS_EXIT();
}
#else
static void test_cublas_loader(void) { SKIP("this build has no CUDA backend (nvcc was not found or CUDA=0)"); }

int main(void) {
    RUN(test_cublas_loader);
    HARNESS_EXIT();
}
#endif
