// tc-train's training loop, shared by the CPU and GPU builds: epochs of
// shuffled documents, steps of batch x ranks x accumulate documents,
// gradients all-reduced over the ranks (common/comm/comm.h), clipping by the
// global norm, AdamW with warmup and linear decay, validation, the best /
// latest / final checkpoints (common/model/checkpoint.h), early stopping, the
// metrics log (common/train/train_log.h), and resuming exactly where a
// checkpoint left off.
//
// Every rank runs the same loop on the same data; rank r computes its
// micro-batches (common/train/train_data.h) and the sum of all ranks' gradients,
// each already divided by the step's document count (the mean reduction),
// is the step's gradient. Only rank 0 writes files.
//
// A step is queued whole (forward, loss, backward, all-reduce, norm,
// clipping, AdamW) with its figures kept in backend memory
// (kernels/train_state.h); the host reads them back every log_every steps
// and at validations, checkpoints and epoch ends, so that a GPU never waits
// for the host in between. A non-finite loss or gradient stops the run at
// that look, naming the step; with fp16 loss scaling, a step with a
// non-finite gradient is skipped and the scale halved instead.
#ifndef TC_TRAINER_H
#define TC_TRAINER_H

#include <stdint.h>

#include "common/model/classifier.h"
#include "common/cli/cli.h"
#include "common/comm/comm.h"
#include "common/train/optim.h"
#include "common/train/train_data.h"

// How a step's loss combines its documents' weighted losses
// (sum_c w_dc BCE(score(d, c), y_dc), w_dc the document's weight or 0 where
// masked):
//   mean      divided by the number of the step's documents
//   sum       summed, as the reference implementation
//   weighted  divided by the sum of the step's document weights: a step's
//             loss stays a mean however heavy its documents, so a batch
//             that holds a heavily weighted pseudo-document no longer
//             makes the loss and gradient jump
typedef enum { TC_LOSS_MEAN = 0, TC_LOSS_SUM, TC_LOSS_WEIGHTED } tc_loss_reduction;
const char *tc_loss_reduction_name(tc_loss_reduction r);
int tc_loss_reduction_parse(const char *name, tc_loss_reduction *r);

// What is trained: the TELEClass classifier (common/model/classifier.h), or
// the encoder alone on pairs (common/train/contrastive.h).
typedef enum { TC_OBJECTIVE_CLASSIFIER = 0, TC_OBJECTIVE_CONTRASTIVE } tc_objective;

// tc-train's training budget by default (tc_train_budget): one epoch, at
// least TC_DEFAULT_MIN_STEPS optimizer steps, at most TC_DEFAULT_MAX_EPOCHS
// passes.
enum { TC_DEFAULT_MIN_STEPS = 300, TC_DEFAULT_MAX_EPOCHS = 20 };

typedef struct {
    // data: documents of `train` listed in train_idx, validation in val_idx
    // of `val` (NULL: none)
    const tc_train_set *train;
    const uint32_t *train_idx;
    uint64_t n_train;
    const tc_train_set *val;
    const uint32_t *val_idx;
    uint64_t n_val;
    // steps
    int batch, accumulate, epochs;
    long min_steps;            // at least this many steps, in more epochs if need be (tc_train_budget)
    int max_epochs;            // ... but no more passes than this (0: no limit)
    long max_steps;            // stop after this many steps (0: the epochs decide)
    uint64_t seed;
    // optimizer
    double lr;                 // the peak rate, already scaled by the effective batch
    double warmup_ratio;       // of all steps, unless warmup_steps >= 0
    long warmup_steps;
    int constant_lr;
    float beta1, beta2, eps, weight_decay, max_grad_norm;
    tc_loss_reduction loss;    // how a step's per-document losses are combined
    // validation, checkpoints, log
    long eval_every;           // steps between validations (0: each epoch's end)
    long save_every;           // steps between resumable checkpoints (0: at validations)
    int patience;              // validations without improvement before stopping (0: never)
    const char *out_dir;
    const char *log_path;      // NULL: OUT/log.jsonl
    const char *tensorboard;   // TensorBoard event files' directory (NULL: OUT/runs; "": none)
    const char *resume_dir;    // a checkpoint to continue from, or NULL
    const char *source_dir;    // the model directory (config.json, vocabulary)
    const char *const *class_names;
    int max_len;
    const tc_cli *cli;         // progress line and notes
    // how often the host looks at the backend: a GPU runs the steps in
    // between without waiting for the host (kernels/train_state.h)
    long log_every;            // steps per log line (0: 1); also at validations, checkpoints, epoch ends
    // fp16: dynamic loss scaling (skips steps whose gradient is not finite)
    int loss_scaling;
    float loss_scale;          // its initial scale (0: 65536)
    int scale_growth_interval; // finite steps before the scale doubles (0: 2000)
    // ZeRO stage 1: rank r keeps the AdamW moments of its shard of the flat
    // parameters (tc_comm_shard) and updates that shard alone; gradients are
    // reduce-scattered, parameters all-gathered
    int shard_optimizer;
    // --objective contrastive: `train` and `val` hold the anchors, these the
    // positives of the same rows (row i pairs with row i); the classifier's
    // head is left alone and the checkpoints are sentence-transformers models
    tc_objective objective;
    const tc_train_set *train_positives, *val_positives;
    double similarity_scale;   // the cosine similarities' multiplier (0: 20)
    int cached_chunk;          // sequences per encoder pass (0: the whole micro-batch)
} tc_train_config;

typedef struct {
    long steps;
    double last_loss, best_metric;
    long best_step;
    int stopped_early;
} tc_train_result;

// Runs the training on an existing classifier (its weights are the start,
// or the resumed checkpoint's). Errors: one line (a non-finite loss names
// the step and the batch).
int tc_train_run(tc_classifier *cl, tc_comm *comm, const tc_train_config *cfg, tc_train_result *result);

#endif
