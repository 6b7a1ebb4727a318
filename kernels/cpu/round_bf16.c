// Arrays rounded to bf16 (see round_bf16.h). The rounding of attention's
// operands and score matrices, done element by element in integer code, was
// a twentieth of an int8 encode; one instruction per 16 values takes it off.
#include "kernels/cpu/round_bf16.h"

#include "formats/tct.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86_BF16 1
#endif

void tc_cpu_round_bf16_portable(uint16_t *out, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        u = (u & 0x7f800000u) ? u : u & 0x80000000u;  // subnormal: a signed zero
        float f;
        memcpy(&f, &u, sizeof f);
        out[i] = tct_f32_to_bf16(f);
    }
}

#if HAVE_X86_BF16
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))  // the units' own conversion
static void round_bf16_avx512(uint16_t *out, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256bh b = _mm512_cvtneps_pbh(_mm512_loadu_ps(x + i));
        _mm256_storeu_si256((__m256i *)(out + i), (__m256i)b);
    }
    if (i < n) {
        __mmask16 tail = (__mmask16)((1u << (n - i)) - 1);
        __m256bh b = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(tail, x + i));
        _mm256_mask_storeu_epi16(out + i, tail, (__m256i)b);
    }
}

int tc_cpu_round_bf16_native(void) {
    static int native = -1;  // every thread that finds it unset stores the same answer
    int known = __atomic_load_n(&native, __ATOMIC_RELAXED);
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512vl");
        __atomic_store_n(&native, known, __ATOMIC_RELAXED);
    }
    return known;
}

void tc_cpu_round_bf16(uint16_t *out, const float *x, size_t n) {
    if (tc_cpu_round_bf16_native()) round_bf16_avx512(out, x, n);
    else tc_cpu_round_bf16_portable(out, x, n);
}
#else
int tc_cpu_round_bf16_native(void) { return 0; }

void tc_cpu_round_bf16(uint16_t *out, const float *x, size_t n) { tc_cpu_round_bf16_portable(out, x, n); }
#endif
