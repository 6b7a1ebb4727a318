// Branch-free float approximations of exp, erf and tanh that the compiler
// vectorizes (libm's calls stop a loop from vectorizing without
// -ffast-math). Accuracy, checked by tests/unit/test_kernels_cpu.c against
// double-precision libm: exp within 2 ulp, erf within 4e-7 absolute, tanh
// within 3e-7 absolute: far below what the models' outputs resolve.
#ifndef TC_CPU_FASTMATH_H
#define TC_CPU_FASTMATH_H

#include <stdint.h>
#include <string.h>

// a * b + c, with one rounding where `fused` and the build's CPU has FMA
// (`fused` is a constant at every call: the branch folds away).
static inline float tc_madd(float a, float b, float c, int fused) {
#ifdef __FMA__
    if (fused) return __builtin_fmaf(a, b, c);
#endif
    (void)fused;
    return a * b + c;
}

// e^x for x in any range: 0 below -87, +inf is never produced (clamped at
// 88). fused: its multiply-adds fused (bf16 attention's softmax, whose
// results are rounded to bf16 next); unfused, the fp32 path's bits.
static inline float tc_fast_expf_as(float x, int fused) {
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    // x = k ln2 + r, |r| <= ln2/2; k rounded to nearest by the 1.5 * 2^23 trick
    float k = tc_madd(x, 1.44269504088896341f, 12582912.0f, fused) - 12582912.0f;
    float r = tc_madd(k, -0.693359375f, x, fused);  // ln2 split in two for an exact product
    r = tc_madd(k, 2.12194440e-4f, r, fused);
    // Cephes expf polynomial on [-ln2/2, ln2/2]
    float p = 1.9875691500e-4f;
    p = tc_madd(p, r, 1.3981999507e-3f, fused);
    p = tc_madd(p, r, 8.3334519073e-3f, fused);
    p = tc_madd(p, r, 4.1665795894e-2f, fused);
    p = tc_madd(p, r, 1.6666665459e-1f, fused);
    p = tc_madd(p, r, 5.0000001201e-1f, fused);
    float y = tc_madd(p * r, r, r, fused) + 1.0f;
    int32_t bits = ((int32_t)k + 127) << 23;  // 2^k, k in [-126, 127]
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

static inline float tc_fast_expf(float x) { return tc_fast_expf_as(x, 0); }

// erf(x): a rational approximation on [-4, 4] (erf is +-1 in f32 outside),
// the one Eigen and XLA use for f32. fused: its multiply-adds fused (for the
// reduced-precision paths; fp32 keeps the separate roundings, its bits).
static inline float tc_fast_erff_as(float x, int fused) {
    x = x < -4.0f ? -4.0f : x;
    x = x > 4.0f ? 4.0f : x;
    float x2 = x * x;
    float p = -2.72614225801306e-10f;
    p = tc_madd(p, x2, 2.77068142495902e-08f, fused);
    p = tc_madd(p, x2, -2.10102402082508e-06f, fused);
    p = tc_madd(p, x2, -5.69250639462346e-05f, fused);
    p = tc_madd(p, x2, -7.34990630326855e-04f, fused);
    p = tc_madd(p, x2, -2.95459980854025e-03f, fused);
    p = tc_madd(p, x2, -1.60960333262415e-02f, fused);
    p = p * x;
    float q = -1.45660718464996e-05f;
    q = tc_madd(q, x2, -2.13374055278905e-04f, fused);
    q = tc_madd(q, x2, -1.68282697438203e-03f, fused);
    q = tc_madd(q, x2, -7.37332916720468e-03f, fused);
    q = tc_madd(q, x2, -1.42647390514189e-02f, fused);
    return p / q;
}

static inline float tc_fast_erff(float x) { return tc_fast_erff_as(x, 0); }

// tanh(x) = 1 - 2 / (e^{2x} + 1), with the sign taken out so that large |x|
// gives +-1 exactly and small |x| keeps its relative accuracy through the
// cubic term.
static inline float tc_fast_tanhf(float x) {
    float a = x < 0 ? -x : x;
    float e = tc_fast_expf(2.0f * a);
    float t = 1.0f - 2.0f / (e + 1.0f);
    float small = a * (1.0f - a * a * (1.0f / 3.0f));   // |x| < 2^-6: tanh x ~ x - x^3/3
    t = a < 0.015625f ? small : t;
    return x < 0 ? -t : t;
}

#define TC_SQRT1_2 0.70710678118654752f
#define TC_SQRT_2_OVER_PI 0.79788456080286536f

static inline float tc_gelu_erf_as(float x, int fused) {
    return 0.5f * x * (1.0f + tc_fast_erff_as(x * TC_SQRT1_2, fused));
}
static inline float tc_gelu_erf(float x) { return tc_gelu_erf_as(x, 0); }
static inline float tc_gelu_tanh(float x) {
    return 0.5f * x * (1.0f + tc_fast_tanhf(TC_SQRT_2_OVER_PI * (x + 0.044715f * x * x * x)));
}

#endif
