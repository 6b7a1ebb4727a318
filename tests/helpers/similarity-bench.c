// Benchmark helper for tests/bench/bench_refine.sh: times the similarity
// step of tc-refine on random unit vectors.
//   similarity-bench N M D G K GPUS THREADS BATCH [PRECISION]
// N documents against M targets of width D in G groups (annotate: the
// per-group maximum) and the top K of G class embeddings (refine: the first
// G targets stand for them); GPUS is "none" or a list; PRECISION fp32
// (default), bf16 or int8 (the CPU).
// Prints "group_max DOCS_PER_S topk DOCS_PER_S backend".
#include "common/comm/devices.h"
#include "common/error.h"
#include "common/cli/progress.h"
#include "common/embeddings/similarity.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fill(float *p, size_t n, uint64_t seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (float)((double)(seed >> 11) / 9007199254740992.0 - 0.5);
    }
}

int main(int argc, char **argv) {
    if (argc != 9 && argc != 10) {
        fprintf(stderr, "usage: similarity-bench N M D G K GPUS THREADS BATCH [PRECISION]\n");
        return 2;
    }
    int64_t n = atoll(argv[1]), m = atoll(argv[2]);
    int d = atoi(argv[3]), g = atoi(argv[4]), k = atoi(argv[5]), threads = atoi(argv[7]), batch = atoi(argv[8]);
    tc_devices dev = {0};
    char why[64] = "";
    int visible = strcmp(argv[6], "none") ? TC_MAX_GPUS : 0;  // checked by the CUDA calls themselves
    tct_dtype precision = TCT_F32;
    if (tc_devices_parse(argv[6], visible, why, &dev) ||
        (argc == 10 && tc_precision_select(argv[9], &dev, &precision)))
        return fprintf(stderr, "similarity-bench: %s\n", tc_error()), 1;
    float *x = malloc((size_t)(n * d) * sizeof *x), *t = malloc((size_t)(m * d) * sizeof *t);
    float *out = malloc((size_t)batch * (size_t)(g > k ? g : k) * sizeof *out);
    int32_t *idx = malloc((size_t)batch * (size_t)k * sizeof *idx), *offsets = malloc((size_t)(g + 1) * sizeof *offsets);
    fill(x, (size_t)(n * d), 1), fill(t, (size_t)(m * d), 2);
    for (int c = 0; c <= g; c++) offsets[c] = (int32_t)(m * c / g);
    tc_similarity *grouped, *flat;
    if (tc_similarity_open(&grouped, &dev, threads, precision, t, m, d, offsets, g) ||
        tc_similarity_open(&flat, &dev, threads, precision, t, g, d, NULL, 0))
        return fprintf(stderr, "similarity-bench: %s\n", tc_error()), 1;
    // one warm-up batch each (GPU context, BLAS buffers)
    if (tc_similarity_group_max(grouped, x, batch < n ? batch : n, out) ||
        tc_similarity_topk(flat, x, batch < n ? batch : n, k, idx, out))
        return fprintf(stderr, "similarity-bench: %s\n", tc_error()), 1;
    double t0 = tc_seconds();
    for (int64_t at = 0; at < n; at += batch)
        if (tc_similarity_group_max(grouped, x + at * d, n - at < batch ? n - at : batch, out))
            return fprintf(stderr, "similarity-bench: %s\n", tc_error()), 1;
    double t1 = tc_seconds();
    for (int64_t at = 0; at < n; at += batch)
        if (tc_similarity_topk(flat, x + at * d, n - at < batch ? n - at : batch, k, idx, out))
            return fprintf(stderr, "similarity-bench: %s\n", tc_error()), 1;
    double t2 = tc_seconds();
    printf("group_max %.0f topk %.0f %s\n", (double)n / (t1 - t0), (double)n / (t2 - t1), tc_similarity_backend(flat));
    tc_similarity_close(grouped), tc_similarity_close(flat);
    free(x), free(t), free(out), free(idx), free(offsets);
    return 0;
}
