// The figures of an optimizer step that stay in the backend's memory, so
// that a GPU runs whole training steps without waiting for the host: the
// loss sum, the gradient's norm, the clipping and loss-scale decisions and
// the AdamW step count are computed and read where the gradients are, and
// the trainer downloads this struct only when it logs (common/train/trainer.c).
//
// The decision of a step (tc_step_decide_apply) is one function compiled
// both by the C compiler (the CPU backend) and by nvcc (a one-thread kernel
// of the CUDA backend), so both backends decide alike:
//
//   norm       = sqrt(sumsq) / loss_scale          (the unscaled gradient's)
//   not finite -> skip the update; with dynamic loss scaling (fp16) halve
//                 the scale, else the trainer stops at its next look
//   finite     -> grad_scale = clip(norm) / loss_scale, t = t + 1,
//                 step_size = lr / (1 - beta1^t), bc2_sqrt = sqrt(1 - beta2^t);
//                 with dynamic scaling, double the scale after
//                 growth_interval finite steps in a row
//
// as torch.cuda.amp.GradScaler (backoff 0.5, growth 2) and
// torch.nn.utils.clip_grad_norm_ do; a skipped step leaves the parameters,
// the moments and t untouched.
#ifndef TC_TRAIN_STATE_H
#define TC_TRAIN_STATE_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef __CUDACC__
#define TC_HOST_DEVICE __host__ __device__
#else
#define TC_HOST_DEVICE
#endif

// AdamW settings (decoupled weight decay, torch.optim.AdamW's arithmetic).
typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
    long step;           // 1-based count of updates, for the bias corrections
    float grad_scale;    // gradients are multiplied by it first (clipping)
} tc_adamw_args;

typedef struct {
    double loss_sum;        // weighted loss of the rows added since the trainer cleared it
    double sumsq;           // the step's sum of squared gradients (as scaled by loss_scale)
    double grad_norm;       // norm of the unscaled gradient: sqrt(sumsq) / loss_scale
    float loss_scale;       // the loss gradient's multiplier (1 without loss scaling)
    float grad_scale;       // AdamW's gradient multiplier: clip coefficient / loss_scale
    float step_size;        // lr / (1 - beta1^t)
    float bc2_sqrt;         // sqrt(1 - beta2^t)
    int32_t skip;           // 1: this step's gradient is not finite; no update
    int32_t good_steps;     // finite steps since the loss scale last changed
    int64_t adam_steps;     // t: updates applied, for the bias corrections
    int64_t skipped;        // steps skipped so far
    int64_t first_skip;     // the first skipped step (1-based), -1: none
    int64_t bad_loss_tag;   // the tag of the first non-finite loss sum, -1: none
} tc_train_state;

typedef struct {
    float lr;               // this step's rate
    float beta1, beta2;
    double max_grad_norm;   // <= 0: no clipping
    int dynamic_scale;      // 1: fp16 dynamic loss scaling
    int growth_interval;    // finite steps before the loss scale doubles
    int64_t step;           // this step's number (1-based), for first_skip
} tc_step_args;

// A fresh state: nothing summed, loss scale `loss_scale` (1 without scaling).
static inline tc_train_state tc_train_state_init(float loss_scale) {
    tc_train_state s;
    memset(&s, 0, sizeof s);
    s.loss_scale = loss_scale;
    s.grad_scale = 1.0f;
    s.first_skip = -1;
    s.bad_loss_tag = -1;
    return s;
}

// The clipping coefficient of clip_grad_norm_: min(1, max / (norm + 1e-6))
// in f32; common/train/optim.c's tc_clip_coefficient, here too for the device.
TC_HOST_DEVICE static inline float tc_clip_coefficient_inline(double norm, double max_norm) {
    if (max_norm <= 0) return 1.0f;
    float coef = (float)max_norm / ((float)norm + 1e-6f);
    return coef < 1.0f ? coef : 1.0f;
}

TC_HOST_DEVICE static inline void tc_step_decide_apply(tc_train_state *s, const tc_step_args *a) {
    float scale = s->loss_scale;
    double sumsq = s->sumsq;
    // not finite: NaN fails every comparison, and an infinite sum exceeds DBL_MAX
    if (!(sumsq <= 1.7976931348623157e308)) {
        s->skip = 1;
        s->skipped++;
        if (s->first_skip < 0) s->first_skip = a->step;
        s->grad_norm = sumsq;
        if (a->dynamic_scale) {
            s->loss_scale = scale * 0.5f;
            s->good_steps = 0;
        }
        return;
    }
    s->skip = 0;
    double norm = sqrt(sumsq);
    if (scale != 1.0f) norm /= (double)scale;
    s->grad_norm = norm;
    float coef = tc_clip_coefficient_inline(norm, a->max_grad_norm);
    s->grad_scale = scale != 1.0f ? coef / scale : coef;
    int64_t t = ++s->adam_steps;
    double bc1 = 1.0 - pow((double)a->beta1, (double)t), bc2 = 1.0 - pow((double)a->beta2, (double)t);
    s->step_size = (float)((double)a->lr / bc1);
    s->bc2_sqrt = (float)sqrt(bc2);
    if (a->dynamic_scale && ++s->good_steps >= a->growth_interval) {
        if (scale < 1e30f) s->loss_scale = scale * 2.0f;
        s->good_steps = 0;
    }
}

#endif
