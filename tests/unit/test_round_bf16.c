// Arrays rounded to bf16 (kernels/cpu/round_bf16.c): the portable code
// rounds to nearest even, keeps NaN a quiet NaN and flushes subnormals to a
// signed zero; the CPU's bf16 conversion, where it has one, gives the same
// bits over a sweep of every exponent and the edge cases, at every length
// (the tail of fewer than 16 values is masked).
#include "tests/harness.h"
#include "formats/tct.h"
#include "kernels/cpu/round_bf16.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void test_portable_rounding(void) {
    const float x[] = {1.0f, from_bits(0x3f808000u), from_bits(0x3f818000u), from_bits(0x3f80ffffu), -2.0f,
                       INFINITY, -INFINITY, NAN, from_bits(0x00000001u), from_bits(0x80400000u), 3.4e38f};
    const uint16_t want[] = {0x3f80, 0x3f80, 0x3f82, 0x3f81, 0xc000, 0x7f80, 0xff80, 0, 0x0000, 0x8000, 0x7f80};
    enum { N = sizeof x / sizeof x[0] };
    uint16_t out[N];
    tc_cpu_round_bf16_portable(out, x, N);
    for (int i = 0; i < N; i++) {
        if (isnan(x[i])) CHECKF((out[i] & 0x7f80) == 0x7f80 && (out[i] & 0x40), "NaN rounded to %#x", out[i]);
        else CHECKF(out[i] == want[i], "%a rounded to %#x, not %#x", (double)x[i], out[i], want[i]);
    }
    // normal values: formats/tct.h's scalar rounding
    for (uint32_t u = 0x00800000u; u < 0x7f800000u; u += 0x10001u) {
        float f = from_bits(u);
        uint16_t b;
        tc_cpu_round_bf16_portable(&b, &f, 1);
        CHECKF(b == tct_f32_to_bf16(f), "%a: %#x, not tct_f32_to_bf16's %#x", (double)f, b, tct_f32_to_bf16(f));
    }
}

static void test_native_matches_portable(void) {
    if (!tc_cpu_round_bf16_native()) SKIP("this CPU lacks avx512_bf16 (or avx512bw/vl): only the portable code runs");
    enum { N = 1 << 16 };
    float *x = malloc(N * sizeof *x);
    uint16_t *a = malloc(N * 2), *b = malloc(N * 2);
    REQUIRE(x && a && b);
    size_t mismatches = 0;
    for (uint64_t start = 0; start < 0x100000000ull; start += (uint64_t)N * 4099) {
        for (int i = 0; i < N; i++) x[i] = from_bits((uint32_t)(start + (uint64_t)i * 4099));
        x[0] = from_bits(0x007fffffu), x[1] = from_bits(0x80000001u), x[2] = from_bits(0x7fc00001u);
        x[3] = from_bits(0xffbfffffu), x[4] = from_bits(0x7f7fffffu), x[5] = from_bits(0x3f808000u);
        tc_cpu_round_bf16(a, x, N);
        tc_cpu_round_bf16_portable(b, x, N);
        for (int i = 0; i < N; i++)
            if (a[i] != b[i] && mismatches++ < 5)
                printf("  bits %#010x: native %#06x, portable %#06x\n", (unsigned)(start + (uint64_t)i * 4099), a[i],
                       b[i]);
    }
    CHECKF(mismatches == 0, "%zu values round differently", mismatches);
    for (int n = 0; n <= 40; n++) {  // lengths: the masked tail writes nothing past n
        for (int i = 0; i < 48; i++) x[i] = (float)i + 0.5f, a[i] = 0xbeef;
        tc_cpu_round_bf16(a, x, (size_t)n);
        tc_cpu_round_bf16_portable(b, x, (size_t)n);
        CHECKF(memcmp(a, b, (size_t)n * 2) == 0, "length %d: values differ", n);
        for (int i = n; i < 48; i++) CHECKF(a[i] == 0xbeef, "length %d: value %d written", n, i);
    }
    free(x), free(a), free(b);
}

int main(void) {
    RUN(test_portable_rounding);
    RUN(test_native_matches_portable);
    HARNESS_EXIT();
}
