// The BERT encoder's forward pass, written once against the backend
// interface (kernels/backend.h): embeddings, L post-norm transformer layers
// (self-attention, feed-forward), pooling, normalization. The same code runs
// on the CPU and on each GPU.
//
// Buffers are sized once, at creation, for the largest batch (max_batch
// sequences, max_tokens token rows, max_len tokens per sequence) and live in
// the backend's memory. Without `keep`, the layers share one set of
// activation buffers; with it, every layer keeps its own (what a backward
// pass reads), laid out (L, ...) as below.
//
// Batches are queued: submit() packs the token ids into staging memory,
// uploads them and queues the whole forward pass and the download of the
// embeddings; collect() waits for the oldest batch and hands its embeddings
// over. Two batches may be in flight, so a GPU computes one while the host
// prepares the next. (The CPU computes inside submit().)
#ifndef TC_BERT_FORWARD_H
#define TC_BERT_FORWARD_H

#include "common/model/bert_model.h"
#include "kernels/backend.h"

typedef struct {
    int max_batch;       // B at most
    int max_tokens;      // N at most (token rows of a batch)
    int max_len;         // T at most (tokens of one sequence, <= positions)
    tc_pooling pooling;
    int normalize;       // L2-normalize the embeddings
    int keep;            // keep every layer's activations
    int checkpoint;      // with keep: keep only each layer's output; the backward
                         // pass recomputes a layer's inside (tc_bert_forward_layer)
} tc_bert_run_options;

// Activations in backend memory; LK = L with keep, else 1 (1 also with
// checkpoint, except for ln2: the layers' outputs). Buffers marked "keep"
// are NULL without it.
typedef struct {
    int32_t *ids;      // (N) token ids
    int32_t *types;    // (N) token type ids
    int32_t *pos;      // (N) positions within their sequence
    int32_t *offsets;  // (B+1) sequence starts
    int32_t *rel_bucket;  // (2 max_len - 1) bucket of each distance (MPNet), else NULL
    void *emb;         // (N, C) embeddings before their layer norm (keep)
    void *x0;          // (N, C) embeddings after it: layer 0's input
    float *emb_mean, *emb_rstd;  // (N) (keep)
    void *qkv;         // (LK, N, 3C) query, key, value
    void *att;         // (LK, B, NH, T, T) attention probabilities (keep)
    void *atty;        // (LK, N, C) attention output, before its projection
    void *attproj;     // (LK, N, C) after it
    void *res1;        // (LK, N, C) layer input + attproj (keep)
    void *ln1;         // (LK, N, C) attention block output
    float *ln1_mean, *ln1_rstd;  // (LK, N) (keep)
    void *fch;         // (LK, N, F) intermediate before its activation (keep)
    void *fch_act;     // (LK, N, F) after it
    void *fcproj;      // (LK, N, C) output dense
    void *res2;        // (LK, N, C) ln1 + fcproj (keep)
    void *ln2;         // (LK, N, C) layer output
    float *ln2_mean, *ln2_rstd;  // (LK, N) (keep)
    void *cls;         // (B, C) [CLS] rows, the pooler's input
    void *pooler_pre;  // (B, C) pooler dense before tanh (keep)
    void *pooled;      // (B, C) pooled
    void *out;         // (B, C) embeddings (normalized when asked)
    float *out_f32;    // (B, C) f32 copy when the backend computes in bf16/f16
    void *scratch;     // attention scratch
} tc_bert_acts;

// Host staging for one batch in flight (pinned on a GPU).
typedef struct {
    int32_t *ids, *types, *pos, *offsets;  // (N), (N), (N), (B+1)
    float *out;                            // (B, C)
    int B, N, has_types;
} tc_bert_staging;

typedef struct {
    tc_backend *be;
    const tc_bert_model *model;
    tc_bert_run_options opt;
    tc_bert_params w;            // weights in backend memory
    void *weights_memory;        // NULL when w points at the model's f32 parameters
    tc_bert_acts a;
    tc_attn_bias bias;           // the relative position bias (MPNet)
    const tc_attn_bias *bias_or_null;
    void *acts_memory;
    size_t acts_bytes;
    tc_bert_staging staging[2];
    long submitted, collected;
} tc_bert_forward;

int tc_bert_forward_create(tc_bert_forward **fw, tc_backend *be, const tc_bert_model *model,
                           const tc_bert_run_options *opt);
void tc_bert_forward_free(tc_bert_forward *fw);

// Queues one batch of B sequences: rows[b] holds lengths[b] token ids;
// type_rows may be NULL (all type 0; a model without token types ignores
// them). Positions count from the model's pos_offset; in an MPNet model a
// token that is the padding id takes the padding position and the others
// count on past it, as transformers numbers them. Fails (tc_fail) on ids or types out of
// range, empty or too long sequences, a batch over the sizes given at
// creation, or a third batch in flight.
int tc_bert_forward_submit(tc_bert_forward *fw, const int32_t *const *rows, const int32_t *const *type_rows,
                           const int32_t *lengths, int B);
// Waits for the oldest batch in flight; its embeddings (B, C) f32 into out.
int tc_bert_forward_collect(tc_bert_forward *fw, float *out);

// Queues layer l of the last batch again from its kept input, refilling the
// layer's activations (activation checkpointing: the backward pass calls it
// before each layer's backward). The same inputs give the same bits.
int tc_bert_forward_layer(tc_bert_forward *fw, int l, const tc_seq_layout *layout);

// The slot of layer l's activations inside a layer (0 when checkpointing).
static inline int tc_bert_inner_slot(const tc_bert_forward *fw, int l) {
    return fw->opt.keep && !fw->opt.checkpoint ? l : 0;
}

#endif
