// cuBLAS, opened with dlopen when the first handle is made (see
// cublas_loader.h). Linked as a library, libcublas and the libcublasLt it
// needs run their initializers as every program starts, whether it uses a
// GPU or not: an empty main() linked with them takes ~0.1 s and 25,800 page
// faults (86 MB touched) more than without, a third of tc-encode's start on
// a CPU. So the programs do not link them: the functions the backend calls
// are defined here, with cuBLAS's own declarations, and forward to the
// library opened on first use. A function added to the backend that is not
// here fails to link, never silently.
#include "kernels/cuda/cublas_loader.h"

#include <cublas_v2.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#define TC_STRINGIFY_(x) #x
#define TC_STRINGIFY(x) TC_STRINGIFY_(x)

namespace {

const char library_name[] = "libcublas.so." TC_STRINGIFY(CUBLAS_VER_MAJOR);

struct functions {
    cublasStatus_t (*create)(cublasHandle_t *);
    cublasStatus_t (*destroy)(cublasHandle_t);
    cublasStatus_t (*set_stream)(cublasHandle_t, cudaStream_t);
    cublasStatus_t (*set_math_mode)(cublasHandle_t, cublasMath_t);
    const char *(*status_string)(cublasStatus_t);
    cublasStatus_t (*sgemm)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const float *,
                            const float *, int, const float *, int, const float *, float *, int);
    cublasStatus_t (*gemm)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void *,
                           const void *, cudaDataType, int, const void *, cudaDataType, int, const void *, void *,
                           cudaDataType, int, cublasComputeType_t, cublasGemmAlgo_t);
    cublasStatus_t (*gemm_strided_batched)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                                           const void *, const void *, cudaDataType, int, long long, const void *,
                                           cudaDataType, int, long long, const void *, void *, cudaDataType, int,
                                           long long, int, cublasComputeType_t, cublasGemmAlgo_t);
};

functions fn;
int loaded;  // 1 ready, -1 failed (why says why)
char why_text[300];
pthread_once_t once = PTHREAD_ONCE_INIT;

template <typename T> int find(void *library, T *slot, const char *name) {
    void *f = dlsym(library, name);
    if (!f) snprintf(why_text, sizeof why_text, "%s has no %s", library_name, name);
    *slot = reinterpret_cast<T>(f);
    return f ? 0 : -1;
}

void load(void) {
    void *library = dlopen(library_name, RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        const char *e = dlerror();
        snprintf(why_text, sizeof why_text, "cannot load %s: %s", library_name, e ? e : "unknown error");
        loaded = -1;
        return;
    }
    int bad = find(library, &fn.create, "cublasCreate_v2") | find(library, &fn.destroy, "cublasDestroy_v2") |
              find(library, &fn.set_stream, "cublasSetStream_v2") |
              find(library, &fn.set_math_mode, "cublasSetMathMode") |
              find(library, &fn.status_string, "cublasGetStatusString") |
              find(library, &fn.sgemm, "cublasSgemm_v2") | find(library, &fn.gemm, "cublasGemmEx") |
              find(library, &fn.gemm_strided_batched, "cublasGemmStridedBatchedEx");
    loaded = bad ? -1 : 1;  // the library stays open either way: a handle may outlive any caller
}

}  // namespace

extern "C" const char *tc_cublas_library_name(void) { return library_name; }

extern "C" int tc_cublas_load(char *why, size_t why_size) {
    pthread_once(&once, load);
    if (loaded == 1) return 0;
    if (why && why_size) snprintf(why, why_size, "%s", why_text);
    return -1;
}

// Only a handle reaches the other functions, and there is none without a
// successful create: they can call the library directly.
cublasStatus_t CUBLASWINAPI cublasCreate_v2(cublasHandle_t *handle) {
    return tc_cublas_load(NULL, 0) ? CUBLAS_STATUS_NOT_INITIALIZED : fn.create(handle);
}

cublasStatus_t CUBLASWINAPI cublasDestroy_v2(cublasHandle_t handle) { return fn.destroy(handle); }

cublasStatus_t CUBLASWINAPI cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream) {
    return fn.set_stream(handle, stream);
}

cublasStatus_t CUBLASWINAPI cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
    return fn.set_math_mode(handle, mode);
}

// Also asked about a failed create, when the library may be missing.
const char *CUBLASWINAPI cublasGetStatusString(cublasStatus_t status) {
    if (tc_cublas_load(NULL, 0)) return why_text;
    return fn.status_string(status);
}

cublasStatus_t CUBLASWINAPI cublasSgemm_v2(cublasHandle_t handle, cublasOperation_t transa,
                                           cublasOperation_t transb, int m, int n, int k, const float *alpha,
                                           const float *A, int lda, const float *B, int ldb, const float *beta,
                                           float *C, int ldc) {
    return fn.sgemm(handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

cublasStatus_t CUBLASWINAPI cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                                         int m, int n, int k, const void *alpha, const void *A, cudaDataType Atype,
                                         int lda, const void *B, cudaDataType Btype, int ldb, const void *beta,
                                         void *C, cudaDataType Ctype, int ldc, cublasComputeType_t computeType,
                                         cublasGemmAlgo_t algo) {
    return fn.gemm(handle, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb, beta, C, Ctype, ldc,
                   computeType, algo);
}

cublasStatus_t CUBLASWINAPI cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa,
                                                       cublasOperation_t transb, int m, int n, int k,
                                                       const void *alpha, const void *A, cudaDataType Atype, int lda,
                                                       long long int strideA, const void *B, cudaDataType Btype,
                                                       int ldb, long long int strideB, const void *beta, void *C,
                                                       cudaDataType Ctype, int ldc, long long int strideC,
                                                       int batchCount, cublasComputeType_t computeType,
                                                       cublasGemmAlgo_t algo) {
    return fn.gemm_strided_batched(handle, transa, transb, m, n, k, alpha, A, Atype, lda, strideA, B, Btype, ldb,
                                   strideB, beta, C, Ctype, ldc, strideC, batchCount, computeType, algo);
}
