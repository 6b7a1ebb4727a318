// --gpus: which devices a compute program uses.
//   "0,2,3"  these GPUs (numbers as CUDA_VISIBLE_DEVICES leaves them)
//   "all"    every visible GPU (an error if there is none)
//   "none"   the CPU
//   not given: every visible GPU where the build has CUDA and one exists,
//   else the CPU, noted once on stderr in a CUDA build.
#ifndef TC_DEVICES_H
#define TC_DEVICES_H

#include "common/cli/cli.h"

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

#endif
