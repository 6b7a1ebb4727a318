// The optimizer's host-side arithmetic: the learning-rate schedule (linear
// warmup, then linear decay to zero), scaling of the rate by the effective
// batch, and the clipping coefficient of the gradient's global norm. The
// update itself (AdamW) and the norm are backend operations
// (kernels/backend.h: adamw_update, sumsq, with their settings
// tc_adamw_args in kernels/train_state.h), so that they run where the
// parameters live.
#ifndef TC_OPTIM_H
#define TC_OPTIM_H

#include <stdint.h>

typedef enum { TC_LR_SCALE_NONE = 0, TC_LR_SCALE_LINEAR, TC_LR_SCALE_SQRT } tc_lr_scaling;

int tc_lr_scaling_parse(const char *name, tc_lr_scaling *out);  // "none", "linear", "sqrt"
const char *tc_lr_scaling_name(tc_lr_scaling s);

// The rate for an effective batch, given the rate `lr` meant for base_batch:
// none: lr; linear: lr x effective / base; sqrt: lr x sqrt(effective / base).
double tc_lr_scaled(double lr, tc_lr_scaling scaling, long effective_batch, long base_batch);

// The length of a run in optimizer steps (tc-train(1), "Training budget"):
// `epochs` passes over the data, raised to `min_steps` when that is more, so
// that a small corpus gets several epochs, but never more than `max_epochs`
// passes (0: no such limit); `max_steps` (> 0) caps the result.
//   steps = min(max(epochs x E, min_steps), max_epochs x E), E = steps per epoch
long tc_train_budget(long steps_per_epoch, int epochs, long min_steps, int max_epochs, long max_steps);

typedef struct {
    double peak;     // the rate after warmup
    long warmup;     // warmup steps
    long total;      // steps in the whole run
    int constant;    // 1: no decay after warmup
} tc_lr_schedule;

// The rate of optimizer step `step` (0-based): peak x (step + 1) / warmup
// during warmup, then peak x (total - step) / (total - warmup), so that the
// first step already moves and the last one still does.
double tc_lr_at(const tc_lr_schedule *schedule, long step);

// torch.nn.utils.clip_grad_norm_: min(1, max_norm / (norm + 1e-6)), in f32
// as PyTorch computes it; 1 when max_norm <= 0 (no clipping).
float tc_clip_coefficient(double norm, double max_norm);

#endif
