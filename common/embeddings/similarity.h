// Cosine similarities of document embeddings against a fixed set of target
// embeddings, on the CPU (OpenBLAS in fp32; oneDNN in bf16 or int8, the
// targets as the product's weights) or sharded over GPUs (cuBLAS, fp32),
// reduced where they are computed:
//   group max   (N, G): the best target of each group (a class's name and
//               key terms) -- what the annotation search needs;
//   top k       (N, K): the K most similar targets (class embeddings) --
//               what refinement needs.
// A batch of N rows is cut into one contiguous shard per GPU; every shard
// writes its own rows of the output, so results come back in input order
// whatever the number of devices.
#ifndef TC_SIMILARITY_H
#define TC_SIMILARITY_H

#include <stdint.h>

#include "common/comm/devices.h"

typedef struct tc_similarity tc_similarity;

// targets (M, D), normalised on a copy. group_offsets (G+1) groups
// consecutive targets (NULL, 0: no groups). threads: CPU threads.
// precision: TCT_F32 anywhere; TCT_BF16 or TCT_I8 on the CPU only, where
// tc_precision_select allowed it (-1 after tc_fail otherwise).
int tc_similarity_open(tc_similarity **s, const tc_devices *devices, int threads, tct_dtype precision,
                       const float *targets, int64_t m, int d, const int32_t *group_offsets, int n_groups);

// out (N, G). x (N, D) is not changed (it is normalised on a copy).
int tc_similarity_group_max(tc_similarity *s, const float *x, int64_t n, float *out);

// idx, val (N, K), K <= 32 and K <= M; largest first.
int tc_similarity_topk(tc_similarity *s, const float *x, int64_t n, int k, int32_t *idx, float *val);

// "CPU (OpenBLAS, 2 threads)", "CPU (oneDNN int8, 1 thread)" or "GPU 0, 1"
const char *tc_similarity_backend(const tc_similarity *s);

void tc_similarity_close(tc_similarity *s);

#endif
