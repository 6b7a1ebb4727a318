#include "common/train/optim.h"
#include "common/error.h"

#include <math.h>
#include <string.h>

static const char *scaling_names[] = {"none", "linear", "sqrt"};

int tc_lr_scaling_parse(const char *name, tc_lr_scaling *out) {
    for (int i = 0; i < 3; i++)
        if (!strcmp(name, scaling_names[i])) {
            *out = (tc_lr_scaling)i;
            return 0;
        }
    return tc_fail("unknown learning-rate scaling '%s' (none, linear, sqrt)", name);
}

const char *tc_lr_scaling_name(tc_lr_scaling s) { return (unsigned)s < 3 ? scaling_names[s] : "?"; }

double tc_lr_scaled(double lr, tc_lr_scaling scaling, long effective_batch, long base_batch) {
    double ratio = (double)effective_batch / (double)(base_batch > 0 ? base_batch : 1);
    switch (scaling) {
    case TC_LR_SCALE_LINEAR: return lr * ratio;
    case TC_LR_SCALE_SQRT: return lr * sqrt(ratio);
    default: return lr;
    }
}

double tc_lr_at(const tc_lr_schedule *s, long step) {
    if (step < s->warmup) return s->peak * (double)(step + 1) / (double)s->warmup;
    if (s->constant || s->total <= s->warmup) return s->peak;
    double left = (double)(s->total - step) / (double)(s->total - s->warmup);
    return s->peak * (left > 0 ? left : 0);
}

float tc_clip_coefficient(double norm, double max_norm) {
    if (max_norm <= 0) return 1.0f;
    float coef = (float)max_norm / ((float)norm + 1e-6f);
    return coef < 1.0f ? coef : 1.0f;
}

long tc_train_budget(long steps_per_epoch, int epochs, long min_steps, int max_epochs, long max_steps) {
    long steps = steps_per_epoch * epochs;
    if (steps < min_steps) steps = min_steps;
    if (max_epochs > 0 && steps > steps_per_epoch * max_epochs) steps = steps_per_epoch * max_epochs;
    if (max_steps > 0 && steps > max_steps) steps = max_steps;
    return steps;
}
