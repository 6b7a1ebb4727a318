// The backward pass of the BERT encoder (common/model/bert_forward.h), written
// once against the backend interface like the forward: from the gradient of
// the last batch's output embeddings (B, C) down through normalization,
// pooling (the pooler dense + tanh, [CLS] or mean), every layer (output
// layer norm, feed-forward, attention layer norm, attention, the QKV
// projection) and the embeddings' layer norm to the embedding tables.
//
// It reads the activations the forward pass kept (created with keep = 1)
// and adds the parameter gradients into a flat f32 buffer laid out like the
// model's parameters (common/model/bert_model.h), so micro-batches accumulate.
// Activation gradients use four buffers whatever the depth:
//   d_hidden (N, C)  the gradient flowing down, layer to layer
//   d_atty (N, C), d_qkv (N, 3C), d_fch (N, F) inside a layer
#ifndef TC_BERT_BACKWARD_H
#define TC_BERT_BACKWARD_H

#include "common/model/bert_forward.h"

typedef struct {
    tc_bert_forward *fw;
    tc_backend *be;
    float *grads;           // (n_params) f32 in backend memory, not owned
    tc_bert_params g;       // pointers into grads
    void *d_hidden, *d_atty, *d_qkv, *d_fch;
    void *d_pooled, *d_cls; // (B, C)
    void *scratch;          // attention backward scratch
    tc_attn_bias bias;      // the forward's position bias, its gradient into g (MPNet)
    const tc_attn_bias *bias_or_null;
    void *memory;
    // Called, when set, as parameter gradients become final: after the
    // head's backward (layer = L: the pooler's), after each layer's (l, from
    // L-1 down) and after the embeddings' (-1); the trainer starts their
    // all-reduce there. A non-zero return stops the backward pass.
    int (*layer_done)(void *ctx, int layer);
    void *layer_done_ctx;
} tc_bert_backward;

// fw must keep its activations. grads: model->n_params f32 values in the
// backend's memory.
int tc_bert_backward_create(tc_bert_backward **bw, tc_bert_forward *fw, float *grads);
void tc_bert_backward_free(tc_bert_backward *bw);

// The layout of the last batch the forward pass ran (for the head and the
// backward pass).
void tc_bert_last_layout(const tc_bert_forward *fw, tc_seq_layout *layout);

// The buffer (B, C) holding the last batch's output embeddings in backend
// memory: normalized when the forward normalizes, else the pooled vectors.
void *tc_bert_output(const tc_bert_forward *fw);

// Adds the gradients of the last batch's parameters into grads, given
// d_out (B, C) in backend memory, the gradient of tc_bert_output. d_out is
// used as scratch (it is overwritten).
int tc_bert_backward_run(tc_bert_backward *bw, void *d_out);

#endif
