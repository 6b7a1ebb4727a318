// The TELEClass classifier (DESIGN section 1, step 5): the BERT encoder
// plus a bilinear text-label matching head,
//   score(d, c) = doc(d) . W . e_c
// doc(d) (C) the encoder's pooled output (the pooler, [CLS] or the mean of
// the tokens, L2-normalized if asked), W (C, D) the interaction matrix,
// e_c (D) the vector of class c, initialised from an embedding of the
// class's name and trained with the rest. Everything is trained with a
// multi-label binary cross-entropy on the scores as logits, weighted per
// element (targets' masks and document weights):
//   loss = scale * sum_d sum_c w_dc * BCE(score(d, c), y_dc)
// where the trainer sets scale to 1 / (documents in the optimizer step), the
// mean over documents (the default), or 1, the plain sum of the reference
// TELEClass implementation. The mean keeps the loss and the gradient's
// size independent of the batch, so the rate, the clipping threshold and
// `--lr-scale` mean the same at any batch size, and one rank at batch 8 and
// two at batch 4 compute the same update.
//
// Dropout is off: the reference implementation fine-tunes the encoder as
// loaded by from_pretrained, i.e. in evaluation mode.
//
// Parameters are f32 in backend memory. The encoder's are the forward
// pass's weights (on the CPU, the model's own buffer); the head's are
//   Wt (D, C)  W transposed, so doc . W is one matmul_forward
//   E  (K, D)  the class vectors
// Gradients live in one flat f32 buffer: the encoder's in the model's
// layout, then Wt, then E. The optimizer walks them by parameter group.
//
// Mixed precision (a GPU computing in bf16 or f16): the f32 parameters are
// the masters the optimizer updates; the forward and backward passes read
// copies in the compute type, refreshed from the masters after each update
// (tc_classifier_refresh). In f32 the copies are the masters themselves.
#ifndef TC_CLASSIFIER_H
#define TC_CLASSIFIER_H

#include "common/model/bert_backward.h"
#include "common/model/bert_forward.h"
#include "common/model/bert_model.h"

typedef struct {
    int max_batch, max_tokens, max_len;
    tc_pooling pooling;
    int normalize;
    int checkpoint_activations;  // keep each layer's output only; recompute the rest in backward
} tc_classifier_options;

// A parameter tensor (or a group of them, for the encoder's per-kind
// blocks) as the optimizer sees it.
typedef struct {
    const char *name;     // "encoder.word_embeddings", "head.weight", ...
    float *param;         // f32 in backend memory
    size_t offset, count; // in the flat gradient and moment buffers
    int decay;            // weight decay applies (not to biases and layer norms)
} tc_param_group;

enum { TC_HEAD_GROUPS = 2, TC_MAX_PARAM_GROUPS = TC_BERT_NUM_PARAMS + TC_HEAD_GROUPS };

typedef struct {
    tc_backend *be;
    tc_bert_model *model;
    tc_classifier_options opt;
    tc_bert_forward *fw;
    tc_bert_backward *bw;
    int C, D, K;
    float *head;            // backend: [Wt (D, C) | E (K, D)]
    float *Wt, *E;
    float *grads;           // backend: (n_total) [encoder | Wt | E]
    size_t n_encoder, n_head, n_total;
    tc_param_group groups[TC_MAX_PARAM_GROUPS];
    int n_groups;
    // per-batch buffers in backend memory
    void *u;                // (B, D) doc . W
    void *logits;           // (B, K)
    void *d_logits, *d_u, *d_doc;
    float *targets, *weights;  // (B, K) f32
    float *loss_rows;       // (B) f32
    float *host_rows;       // (B) host copy of loss_rows
    float *host_doc;        // (B, C) host: the forward's collected output
    void *memory;
    // mixed precision
    float *encoder_master;  // (n_encoder) f32 masters of the encoder on a GPU (in f32 the
                            // forward's own weights); NULL on the CPU (the model's buffer)
    void *Wt_c, *E_c;       // the head in the compute type (Wt, E themselves in f32)
    float *logits_f32;      // (B, K) the logits in f32 for the host (NULL in f32)
    // queued micro-batches (tc_classifier_queue_batch): pinned staging of
    // targets and weights, two slots, and how many were staged
    float *stage[2];
    long staged;
    // Set by the trainer for the micro-batch that completes a step's
    // gradient: called after the head's backward (stage L + 1: W and E),
    // then as the encoder's become final (tc_bert_backward's layer_done).
    int (*grads_ready)(void *ctx, int stage);
    void *grads_ready_ctx;
} tc_classifier;

// Builds the classifier on a loaded model. class_vectors (K, D) host f32
// initialise E; head_weight (C, D) host f32 initialises W, or NULL (then
// the caller sets it, e.g. with tc_classifier_init_head).
int tc_classifier_create(tc_classifier **cl, tc_backend *be, tc_bert_model *model, const tc_classifier_options *opt,
                         const float *class_vectors, int K, int D, const float *head_weight);
void tc_classifier_free(tc_classifier *cl);

// W initialised as TELEClass does: uniform in +-1/sqrt(C) from the seed, or
// the identity (C == D only), so that the untrained head scores by the
// similarity of document and class name.
int tc_classifier_init_head(tc_classifier *cl, uint64_t seed, int identity);

// Replaces W (C, D) and/or E (K, D) from the host; either may be NULL.
int tc_classifier_set_head(tc_classifier *cl, const float *W, const float *E);

// The head's tensors on the host: W (C, D) and E (K, D).
int tc_classifier_get_head(tc_classifier *cl, float *W, float *E);

// Encodes a batch with the encoder alone: out (B, C) host (class names'
// vectors are made this way).
int tc_classifier_encode(tc_classifier *cl, const int32_t *const *rows, const int32_t *lengths, int B, float *out);

// Scores of a batch: scores (B, K) host.
int tc_classifier_scores(tc_classifier *cl, const int32_t *const *rows, const int32_t *lengths, int B, float *scores);

// One micro-batch of training: forward, loss, backward. Adds the gradients
// into cl->grads (zero them with tc_classifier_zero_grads before a step);
// targets and weights (B, K) host f32; row_loss (B) host receives each
// document's weighted loss (before `scale`); scores (B, K) host, if not
// NULL, the logits.
int tc_classifier_train_batch(tc_classifier *cl, const int32_t *const *rows, const int32_t *lengths, int B,
                              const float *targets, const float *weights, float scale, float *row_loss,
                              float *scores);

int tc_classifier_zero_grads(tc_classifier *cl);

// The same micro-batch, queued: nothing waits for the backend (on a GPU the
// host goes on to the next batch while this one computes). The loss goes
// into state (bce_loss_step: the rows' sum, a non-finite sum records tag),
// and the loss gradient is multiplied by state->loss_scale.
int tc_classifier_queue_batch(tc_classifier *cl, const int32_t *const *rows, const int32_t *lengths, int B,
                              const float *targets, const float *weights, float scale, tc_train_state *state,
                              int64_t tag);

// Queues the copy of the f32 masters into the compute-type copies (after
// an update; nothing in f32).
int tc_classifier_refresh(tc_classifier *cl);

// Weighted BCE of scores (B, K) host, per document, without gradients
// (validation): row_loss (B) host.
int tc_classifier_eval_loss(tc_classifier *cl, const float *targets, const float *weights, int B, float *row_loss);

#endif
