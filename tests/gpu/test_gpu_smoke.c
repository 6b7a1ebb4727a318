// The CUDA toolchain end to end on every visible GPU: a kernel, cuBLAS and
// NCCL, each checked against known numbers.
#include "tests/harness.h"
#include "kernels/cuda/device.h"

static void test_kernel_cublas_nccl(void) {
    char why[512] = "";
    int n = tc_cuda_device_count(why, sizeof why);
    CHECKF(n > 0, "no usable GPU: %s", why);
    for (int d = 0; d < n; d++) {
        char name[256];
        if (tc_cuda_device_describe(d, name, sizeof name) == 0) printf("  %s\n", name);
        CHECKF(tc_cuda_smoke_test(d, why, sizeof why) == 0, "GPU %d: %s", d, why);
    }
}

int main(void) {
    RUN(test_kernel_cublas_nccl);
    HARNESS_EXIT();
}
