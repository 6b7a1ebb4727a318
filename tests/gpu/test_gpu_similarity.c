// The CUDA similarity kernels against the CPU reference: per-group maxima and
// top k on several shapes (ties included), and sharding: the same batch cut
// over one GPU listed twice, and over every visible GPU, gives the CPU's
// rows in the CPU's order.
#include "tests/harness.h"
#include "common/error.h"
#include "common/embeddings/similarity.h"

#include <stdint.h>

#if TC_HAVE_CUDA
#include "kernels/cuda/device.h"
#endif

static float uniform(uint64_t *state) {
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(*state >> 11) / 9007199254740992.0) * 2.0f - 1.0f;
}

static int visible_gpus(void) {
#if TC_HAVE_CUDA
    char why[256];
    return tc_cuda_device_count(why, sizeof why);
#else
    return 0;
#endif
}

typedef struct {
    int64_t n, m;
    int d, g, k;
} shape;

static void fill(float *p, int64_t count, uint64_t seed) {
    for (int64_t i = 0; i < count; i++) p[i] = uniform(&seed);
}

// Compares GPU devices `gpu` with the CPU on one shape; returns 1 if equal.
static int compare(const shape *sh, const tc_devices *gpu) {
    float *x = malloc((size_t)(sh->n * sh->d) * sizeof *x), *t = malloc((size_t)(sh->m * sh->d) * sizeof *t);
    int32_t *offsets = malloc((size_t)(sh->g + 1) * sizeof *offsets);
    float *cpu_out = malloc((size_t)(sh->n * sh->g) * sizeof(float)), *gpu_out = malloc((size_t)(sh->n * sh->g) * sizeof(float));
    float *cv = malloc((size_t)(sh->n * sh->k) * sizeof(float)), *gv = malloc((size_t)(sh->n * sh->k) * sizeof(float));
    int32_t *ci = malloc((size_t)(sh->n * sh->k) * sizeof(int32_t)), *gi = malloc((size_t)(sh->n * sh->k) * sizeof(int32_t));
    fill(x, sh->n * sh->d, 1 + (uint64_t)sh->n);
    fill(t, sh->m * sh->d, 2 + (uint64_t)sh->m);
    if (sh->m > 3) memcpy(t + 3 * sh->d, t, (size_t)sh->d * sizeof *t);  // a tie: target 3 equals target 0
    for (int c = 0; c <= sh->g; c++) offsets[c] = (int32_t)(sh->m * c / sh->g);
    tc_devices cpu = {0};
    tc_similarity *a = NULL, *b = NULL;
    int ok = tc_similarity_open(&a, &cpu, 2, TCT_F32, t, sh->m, sh->d, offsets, sh->g) == 0 &&
             tc_similarity_open(&b, gpu, 2, TCT_F32, t, sh->m, sh->d, offsets, sh->g) == 0 &&
             tc_similarity_group_max(a, x, sh->n, cpu_out) == 0 && tc_similarity_group_max(b, x, sh->n, gpu_out) == 0 &&
             tc_similarity_topk(a, x, sh->n, sh->k, ci, cv) == 0 && tc_similarity_topk(b, x, sh->n, sh->k, gi, gv) == 0;
    if (!ok) printf("  %s\n", tc_error());
    if (ok) ok = harness_close("group max", gpu_out, cpu_out, (size_t)(sh->n * sh->g), 1e-5, 1e-5);
    if (ok) ok = harness_close("top-k values", gv, cv, (size_t)(sh->n * sh->k), 1e-5, 1e-5);
    int64_t swapped = 0;
    for (int64_t i = 0; ok && i < sh->n * sh->k; i++)
        if (gi[i] != ci[i] && fabsf(gv[i] - cv[i]) > 1e-6f) swapped++;  // equal-within-rounding swaps are fine
    if (swapped) printf("  %lld top-k indices differ\n", (long long)swapped), ok = 0;
    tc_similarity_close(a), tc_similarity_close(b);
    free(x), free(t), free(offsets), free(cpu_out), free(gpu_out), free(cv), free(gv), free(ci), free(gi);
    return ok;
}

static const shape shapes[] = {
    {1, 4, 8, 2, 4}, {37, 23, 19, 6, 3}, {1000, 531, 384, 531, 4}, {20000, 100, 384, 27, 32}, {9000, 5000, 64, 500, 8}};

static void test_one_gpu_matches_cpu(void) {
    if (visible_gpus() == 0) SKIP("no GPU is visible");
    tc_devices gpu = {.n_gpus = 1, .gpus = {0}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        CHECKF(compare(&shapes[i], &gpu), "shape %zu", i);
}

static void test_sharded_matches_cpu(void) {
    int n = visible_gpus();
    if (n == 0) SKIP("no GPU is visible");
    tc_devices twice = {.n_gpus = 2, .gpus = {0, 0}};  // two shards on one device: the sharding path
    tc_devices all = {.n_gpus = n};
    for (int i = 0; i < n && i < TC_MAX_GPUS; i++) all.gpus[i] = i;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        CHECKF(compare(&shapes[i], &twice), "two shards, shape %zu", i);
        CHECKF(compare(&shapes[i], &all), "%d GPUs, shape %zu", n, i);
    }
}

int main(void) {
    RUN(test_one_gpu_matches_cpu);
    RUN(test_sharded_matches_cpu);
    HARNESS_EXIT();
}
