// tc-train's checkpoints: a directory that Hugging Face transformers loads
// as a BertModel, plus the classifier's head and, for resuming, the
// training state.
//
//   config.json               the input model's, copied
//   vocab.txt                 copied (and tokenizer_config.json,
//   tokenizer.json, special_tokens_map.json where the model has them)
//   model.safetensors         the encoder, BertModel's tensor names without a
//                             prefix: embeddings.word_embeddings.weight,
//                             encoder.layer.N.attention.self.query.weight, ...,
//                             pooler.dense.weight (when the model has one); F32
//   head.safetensors          the head, with TELEClass ClassModel's names:
//                             interaction.weight       F32 (C, D)  W
//                             label_embedding_weights  F32 (K, D)  class vectors
//   classifier.json           how to score: pooling, normalize, max_length,
//                             hidden_size, class_dim, num_classes, class_names,
//                             loss_reduction
//   optimizer.safetensors     AdamW moments exp_avg, exp_avg_sq: F32 (n) in the
//                             order of the flat gradient (common/model/classifier.h)
//   trainer_state.json        step, epoch, position in the epoch, seed, the
//                             epoch's generator state, best metric, patience
//                             count, the settings a resumed run must share
//
// score(d, c) = doc(d) . interaction.weight . label_embedding_weights[c],
// with doc(d) the encoder's output pooled as classifier.json says; the
// probability of class c is sigmoid(score).
//
// A sentence encoder (tc-train --objective contrastive) has no head: its
// checkpoint is a sentence-transformers model instead, SentenceTransformer
// loading it as tc-encode does,
//   modules.json              Transformer, Pooling (and Normalize when the
//                             encoder normalizes)
//   1_Pooling/config.json     the pooling (mean or cls tokens)
//   2_Normalize/              (empty) with Normalize
//   sentence_bert_config.json max_seq_length, do_lower_case false
// beside the files above less head.safetensors and classifier.json.
//
// A run's output directory holds checkpoint-STEP directories and symbolic
// links to them: latest (the last one written), best, final. A checkpoint is
// written under a temporary name and renamed into place, and each link is
// replaced by renaming a new link over it, so a run killed at any moment
// leaves `latest` pointing at a complete checkpoint.
#ifndef TC_CHECKPOINT_H
#define TC_CHECKPOINT_H

#include <jansson.h>
#include <stdint.h>

#include "common/model/classifier.h"

// What a checkpoint records besides the weights.
typedef struct {
    const char *source_dir;       // model directory whose config.json and vocabulary are copied
    const char *const *class_names;  // [K]
    int max_len;
    const char *loss_reduction;   // "mean" or "sum"
    json_t *trainer_state;        // trainer_state.json's object (borrowed), NULL: no training state
    const float *adam_m, *adam_v; // (n_total) host, with trainer_state
    int sentence_encoder;         // the encoder alone, as a sentence-transformers model (below)
} tc_checkpoint_info;

// Writes OUT/checkpoint-STEP (replacing one of that name) and points the
// link OUT/`link` (and OUT/latest) at it. m and v may be NULL (no state).
int tc_checkpoint_save(tc_classifier *cl, const char *out_dir, long step, const char *link,
                       const tc_checkpoint_info *info);

// Points OUT/link at OUT/checkpoint-STEP (which exists).
int tc_checkpoint_link(const char *out_dir, long step, const char *link);

// Removes checkpoint directories no link points at, and temporary ones left
// by an interrupted run.
int tc_checkpoint_prune(const char *out_dir);

// The checkpoint directory to resume from: DIR itself when it holds
// trainer_state.json, else DIR/latest. *resolved is allocated.
int tc_checkpoint_resolve(const char *dir, char **resolved);

// Loads the head (W (C, D), E (K, D), allocated) of a checkpoint.
int tc_checkpoint_load_head(const char *dir, int *K, int *D, int C, float **W, float **E);

// Loads trainer_state.json (*state: a new reference) and the moments
// (n values each, host).
int tc_checkpoint_load_state(const char *dir, size_t n, json_t **state, float *m, float *v);

// Reads classifier.json's class names (allocated, *n of them).
int tc_checkpoint_class_names(const char *dir, char ***names, int *n);

#endif
