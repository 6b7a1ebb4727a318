// Derivatives of the activations, applied to a gradient in place from the
// values before the activation (the matmul's `pre`): the backward half of
// kernels/cpu/activation.c, with the same fast math so that they vectorize.
// gcc leaves the fast-math loops scalar ("control flow in loop") unless
// float comparisons may be assumed not to trap; elementwise, so the values
// are the same either way.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#include "kernels/cpu/fastmath.h"
#include "kernels/cpu/train_ops.h"

#define TC_INV_SQRT_2PI 0.39894228040143268f

void tc_cpu_activation_backward_inplace(float *d, const float *pre, size_t n, tc_activation act) {
    switch (act) {
    case TC_ACT_NONE: break;
    case TC_ACT_GELU:  // d/dx x Phi(x) = Phi(x) + x phi(x)
        for (size_t i = 0; i < n; i++) {
            float x = pre[i];
            float cdf = 0.5f * (1.0f + tc_fast_erff(x * TC_SQRT1_2));
            float pdf = TC_INV_SQRT_2PI * tc_fast_expf(-0.5f * x * x);
            d[i] *= cdf + x * pdf;
        }
        break;
    case TC_ACT_GELU_TANH:
        for (size_t i = 0; i < n; i++) {
            float x = pre[i];
            float t = tc_fast_tanhf(TC_SQRT_2_OVER_PI * (x + 0.044715f * x * x * x));
            float du = TC_SQRT_2_OVER_PI * (1.0f + 3.0f * 0.044715f * x * x);
            d[i] *= 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du;
        }
        break;
    case TC_ACT_RELU:
        for (size_t i = 0; i < n; i++) d[i] = pre[i] > 0 ? d[i] : 0.0f;
        break;
    case TC_ACT_TANH:
        for (size_t i = 0; i < n; i++) {
            float t = tc_fast_tanhf(pre[i]);
            d[i] *= 1.0f - t * t;
        }
        break;
    }
}
