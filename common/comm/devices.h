// --gpus: which devices a compute program uses.
//   "0,2,3"  these GPUs (numbers as CUDA_VISIBLE_DEVICES leaves them)
//   "all"    every visible GPU (an error if there is none)
//   "none"   the CPU
//   not given: every visible GPU where the build has CUDA and one exists,
//   else the CPU, noted once on stderr in a CUDA build.
#ifndef TC_DEVICES_H
#define TC_DEVICES_H

#include "common/cli/cli.h"
#include "formats/tct.h"

enum { TC_MAX_GPUS = 64 };

typedef struct {
    int n_gpus;               // 0: CPU
    int gpus[TC_MAX_GPUS];
} tc_devices;

// Parses spec (NULL = default) against `visible` GPUs; `why` says why none
// are visible. Pure, for tests: no CUDA calls.
int tc_devices_parse(const char *spec, int visible, const char *why, tc_devices *out);

// Parses cli->gpus against the GPUs this process can see.
int tc_devices_select(const tc_cli *cli, tc_devices *out);

// --precision NAME on the selected devices, into *out:
//   GPUs: fp32, bf16, fp16; auto = bf16
//   CPU:  fp32 (OpenBLAS), bf16, int8 (oneDNN, where this CPU has the units);
//         auto = bf16 where the CPU has bf16 units (avx512_bf16, amx_bf16),
//         else int8 where oneDNN has a kernel for it, else fp32
// -1 after tc_fail naming what the device, CPU or build lacks.
int tc_precision_select(const char *name, const tc_devices *devices, tct_dtype *out);
int tc_precision_known(const char *name);  // a usage error when not

// -v: the precision and, on the CPU, the library and kernel that compute it.
void tc_verbose_precision(tct_dtype precision, const tc_devices *devices);

// Training on the CPU in `precision` (TCT_F32 or TCT_BF16): 0 when it can
// (bf16 through oneDNN where tc-encode would take it, else emulated under
// TC_CPU_BF16_EMULATE=1, kernels/cpu/matmul_bf16.h); else -1 after tc_fail
// in tc-encode's words ("--precision bf16: this CPU lacks ...").
int tc_train_precision_cpu(tct_dtype precision);

// -v: what computes training's products ("bf16 emulated ...", "fp32 through OpenBLAS").
void tc_verbose_train_precision(tct_dtype precision, const tc_devices *devices);

// "fp32", "bf16", "fp16", "int8".
const char *tc_precision_name(tct_dtype precision);

#endif
