// Document-by-target cosine similarities and what tc-refine keeps of them,
// the CPU reference (kernels/cuda/similarity_topk.cu is its twin).
//
// Dims: N rows of x (documents), M targets (term or class embeddings),
// D embedding width, G groups of targets (classes), K kept per row.
//   x        (N, D)  rows L2-normalised by the caller
//   t        (M, D)  rows L2-normalised
//   s        (N, M)  s[i][j] = x[i] . t[j]
//   offsets  (G+1)   group g is targets offsets[g] .. offsets[g+1]-1
//   out      (N, G)  out[i][g] = max over the group's targets of s[i][j]
//   idx, val (N, K)  the K largest s[i][j], largest first; equal values in
//                    target order
#ifndef TC_KERNELS_CPU_SIMILARITY_TOPK_H
#define TC_KERNELS_CPU_SIMILARITY_TOPK_H

#include <math.h>
#include <stdint.h>

// Scales each row to unit length; an all-zero row stays zero (its cosine
// with anything is then 0, as in scikit-learn).
void tc_cpu_normalize_rows(float *x, int64_t n, int d);

// s = x . t^T through OpenBLAS.
void tc_cpu_similarity(const float *x, int64_t n, const float *t, int64_t m, int d, float *s);

// Maximum of s over each group; an empty group gives -infinity.
void tc_cpu_group_max(const float *s, int64_t n, int64_t m, const int32_t *offsets, int g, float *out);

// Top k of each row (k <= m). A NaN never outranks a number.
void tc_cpu_topk_rows(const float *s, int64_t n, int64_t m, int k, int32_t *idx, float *val);

// The order both backends use: (v, j) ranks before (w, l).
// An empty slot (l < 0) ranks last; a NaN counts as -infinity.
static inline int tc_topk_better(float v, int32_t j, float w, int32_t l) {
    if (l < 0) return 1;
    if (v != v) v = -INFINITY;
    if (w != w) w = -INFINITY;
    return v > w || (v == w && j < l);
}

#endif
