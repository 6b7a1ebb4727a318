// The CUDA twin of kernels/cpu/similarity_topk.h: cosine similarities as a
// cuBLAS product, reduced on the device (per-group maximum, or the top k of
// each row) so that only (N, G) or (N, K) values come back to the host.
// Only built with the CUDA backend; callers guard with #if TC_HAVE_CUDA.
// Errors are recorded with tc_fail (common/error.h).
#ifndef TC_CUDA_SIMILARITY_TOPK_H
#define TC_CUDA_SIMILARITY_TOPK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { TC_CUDA_TOPK_MAX = 32 };

typedef struct tc_cuda_similarity tc_cuda_similarity;

// Uploads the targets t (M, D), rows L2-normalised, and their groups
// (offsets (G+1), or NULL with g = 0) to `device`; work buffers hold
// max_rows rows of x at a time.
int tc_cuda_similarity_create(tc_cuda_similarity **s, int device, const float *t, int64_t m, int d,
                              const int32_t *offsets, int g, int max_rows);

// out (N, G) = per-group maximum of x . t^T, for host x (N, D) normalised.
int tc_cuda_similarity_group_max(tc_cuda_similarity *s, const float *x, int64_t n, float *out);

// idx, val (N, K): the top k of each row of x . t^T (k <= TC_CUDA_TOPK_MAX, k <= M).
int tc_cuda_similarity_topk(tc_cuda_similarity *s, const float *x, int64_t n, int k, int32_t *idx, float *val);

void tc_cuda_similarity_destroy(tc_cuda_similarity *s);

#ifdef __cplusplus
}
#endif
#endif
