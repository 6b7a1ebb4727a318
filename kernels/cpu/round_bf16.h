// f32 -> bf16 rounding of arrays for the CPU's bf16 products: nearest even,
// a NaN kept a quiet NaN, and a subnormal input flushed to a zero of its
// sign, which is what the bf16 units' own conversion (vcvtneps2bf16) does.
// Where the CPU has those units the instruction does the work, 16 values at
// a time (chosen at run time); elsewhere portable code gives the same bits.
// formats/tct.h's tct_f32_to_bf16 (files) keeps subnormals; bf16 products
// never see the difference (a subnormal is 1e-38 of the values beside it).
#ifndef TC_CPU_ROUND_BF16_H
#define TC_CPU_ROUND_BF16_H

#include <stddef.h>
#include <stdint.h>

// out (n) = x (n) rounded to bf16
void tc_cpu_round_bf16(uint16_t *out, const float *x, size_t n);

// The same in portable code only (the tests' reference for the above).
void tc_cpu_round_bf16_portable(uint16_t *out, const float *x, size_t n);

// 1 where tc_cpu_round_bf16 uses the CPU's bf16 conversion instruction.
int tc_cpu_round_bf16_native(void);

#endif
