// The contrastive objective of tc-train (--objective contrastive): the
// encoder alone is trained on (anchor, positive) pairs with the
// multiple-negatives ranking loss of sentence-transformers
// (MultipleNegativesRankingLoss, cos_sim, scale 20):
//
//   s_ij   = scale * cos(a_i, p_j)        every anchor against every positive
//   loss_i = logsumexp_j s_ij - s_ii      cross-entropy, its own positive the label
//
// With several ranks the candidates are every rank's positives of the
// micro-batch (an all-gather of the embeddings), so the negatives number
// batch x ranks; each rank computes the whole (small) score matrix and keeps
// the gradients of its own rows, which then flow back through its own
// encoder pass. The loss and the gradient do not depend on how the pairs
// are split between ranks: 2 ranks at batch B equal 1 rank at batch 2B.
//
// A micro-batch is embedded in chunks (GradCache, as sentence-transformers'
// CachedMultipleNegativesRankingLoss): every chunk forward, the loss and
// the embeddings' gradient on the host, then each chunk's forward again with
// its activations and its backward pass. One chunk holding the whole
// micro-batch (the default) is the plain loss, forwarded once. The encoder
// pass's memory is that of a chunk; the host holds the micro-batch's
// embeddings and their gradients, (2 x batch x ranks, hidden) each.
//
// The encoder is the classifier's (common/model/classifier.h) with its head
// unused; only the encoder's gradients are written.
#ifndef TC_CONTRASTIVE_H
#define TC_CONTRASTIVE_H

#include <stdint.h>

#include "common/comm/comm.h"
#include "common/model/classifier.h"

// sentence-transformers' default scale of the cosine similarities.
#define TC_MNRL_DEFAULT_SCALE 20.0

// The loss of n anchors (n, C) against m >= n candidates (m, C) (anchor i's
// positive is candidate i), as sentence-transformers computes it. row_loss
// (n), if not NULL, receives each anchor's loss; d_anchor (n, C) and d_cand
// (m, C), if not NULL, receive the gradients of grad_scale x the summed
// loss. Returns the summed loss (NaN when an embedding is not finite).
double tc_mnrl_loss(const float *anchor, const float *cand, int n, int m, int C, double scale, double grad_scale,
                    double *row_loss, float *d_anchor, float *d_cand);

typedef struct tc_contrastive tc_contrastive;

// Host and backend buffers for micro-batches of at most `batch` pairs per
// rank, forwarded `chunk` rows at a time (0: 2 x batch, the whole
// micro-batch); chunk must not exceed the classifier's max_batch.
int tc_contrastive_create(tc_contrastive **ct, tc_classifier *cl, tc_comm *comm, int batch, int chunk,
                          double scale);
void tc_contrastive_free(tc_contrastive *ct);

// One micro-batch of this rank: rows[0..B) the anchors, rows[B..2B) their
// positives (B may be 0: the rank still takes part in the all-gather, as
// every rank must). Adds grad_scale x the gradient of the micro-batch's
// summed loss (over all ranks' anchors) into cl->grads; *loss receives the
// summed loss of this rank's own anchors.
int tc_contrastive_batch(tc_contrastive *ct, const int32_t *const *rows, const int32_t *lengths, int B,
                         double grad_scale, double *loss);

// Retrieval over a validation set of pairs, shared by the ranks (rank r
// embeds pairs r, r + ranks, ...; all ranks then hold every embedding):
// each anchor's positive ranked among all the set's positives.
// sums: [0] the loss summed over anchors (the cross-entropy over all
// candidates), [1] reciprocal ranks within the top 10 (MRR@10 x n),
// [2] anchors whose positive ranks first (recall@1 x n), [3] n.
// rows/lengths: the n pairs as tc_contrastive_batch takes them
// (anchors, then positives), fetched by the callback in batches.
typedef void (*tc_pair_rows_fn)(void *ctx, uint64_t pair, const int32_t **anchor, int32_t *anchor_len,
                                const int32_t **positive, int32_t *positive_len);
int tc_contrastive_validate(tc_contrastive *ct, uint64_t n, tc_pair_rows_fn rows, void *ctx, double sums[4]);

#endif
