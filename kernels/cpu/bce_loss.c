// Multi-label binary cross-entropy with logits, weighted per element, and
// its gradient in the same pass (the loss is the last operation):
//   loss[b]       = sum_k w[b,k] (max(s,0) - s y + log(1 + e^-|s|))
//   dlogits[b,k]  = scale * w[b,k] * (sigmoid(s) - y)
// `scale` is 1 / (documents in the optimizer step) for the mean, 1 for the
// sum (the trainer's choice, common/model/classifier.h).
#include "kernels/cpu/train_ops.h"

#include <math.h>

typedef struct {
    float *loss, *dlogits;
    const float *logits, *targets, *weights;
    int K;
    float scale;
} bce_job;

static void bce_task(void *ctx, int b, int thread) {
    const bce_job *j = ctx;
    size_t K = (size_t)j->K, at = (size_t)b * K;
    double total = 0;
    for (size_t k = 0; k < K; k++) {
        float s = j->logits[at + k], y = j->targets[at + k], w = j->weights[at + k];
        double sd = s;
        double l = (sd > 0 ? sd : 0) - sd * y + log1p(exp(-fabs(sd)));
        total += w * l;
        float sig = s >= 0 ? 1.0f / (1.0f + expf(-s)) : expf(s) / (1.0f + expf(s));
        j->dlogits[at + k] = j->scale * w * (sig - y);
    }
    j->loss[b] = (float)total;
}

void tc_cpu_bce_loss(tc_pool *pool, float *loss, float *dlogits, const float *logits, const float *targets,
                     const float *weights, int B, int K, float scale) {
    bce_job j = {loss, dlogits, logits, targets, weights, K, scale};
    tc_pool_run(pool, B, bce_task, &j);
}
