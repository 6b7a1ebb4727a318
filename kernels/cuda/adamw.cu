// AdamW with decoupled weight decay on the flat f32 parameters, the twin of
// kernels/cpu/adamw.c, one fused pass (each element read and written once):
//   g = grad * grad_scale        p = p * (1 - lr * weight_decay)
//   m = beta1 m + (1 - beta1) g  v = beta2 v + (1 - beta2) g^2
//   p = p - step_size * m / (sqrt(v) / bc2_sqrt + eps)
// With a training state (adamw_step) grad_scale, step_size and bc2_sqrt
// are read from device memory, where step_decide put them, and a skipped
// step (non-finite gradient) changes nothing: no host round trip per step.
#include "kernels/cuda/cuda_train.cuh"

#include <math.h>

namespace {

struct adamw_consts {
    float decay, b1, b2, eps, step_size, bc2_sqrt, grad_scale;
};

__global__ void adamw_kernel(float *p, const float *g, float *m, float *v, size_t n, adamw_consts k,
                             const tc_train_state *state) {
    if (state) {
        if (state->skip) return;
        k.step_size = state->step_size;
        k.bc2_sqrt = state->bc2_sqrt;
        k.grad_scale = state->grad_scale;
    }
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float gi = g[i] * k.grad_scale;
        float pi = p[i] * k.decay;
        float mi = k.b1 * m[i] + (1.0f - k.b1) * gi;
        float vi = k.b2 * v[i] + (1.0f - k.b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - k.step_size * (mi / (sqrtf(vi) / k.bc2_sqrt + k.eps));
    }
}

}  // namespace

int tc_cuda_adamw(tc_backend *be, float *params, const float *grads, float *m, float *v, size_t n,
                  const tc_adamw_args *a, const tc_train_state *state) {
    if (n == 0) return 0;
    adamw_consts k = {1.0f - a->lr * a->weight_decay, a->beta1, a->beta2, a->eps, 0.0f, 1.0f, a->grad_scale};
    if (!state) {  // the host's step count, as kernels/cpu/adamw.c computes the corrections
        double bc1 = 1.0 - pow(a->beta1, (double)a->step), bc2 = 1.0 - pow(a->beta2, (double)a->step);
        k.step_size = (float)(a->lr / bc1);
        k.bc2_sqrt = (float)sqrt(bc2);
    }
    adamw_kernel<<<tc_cuda_blocks(n, 256), 256, 0, tc_cuda_stream_of(be)>>>(params, grads, m, v, n, k, state);
    LAUNCH_CHECK("adamw");
    return 0;
}
