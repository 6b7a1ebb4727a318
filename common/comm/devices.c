#include "common/comm/devices.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

#if TC_HAVE_CUDA
#include "kernels/cuda/device.h"
#endif

int tc_devices_parse(const char *spec, int visible, const char *why, tc_devices *out) {
    memset(out, 0, sizeof *out);
    if (!spec) {
        if (visible == 0) {
#if TC_HAVE_CUDA
            tc_note("no usable GPU (%s): running on the CPU", why);
#endif
            return 0;
        }
        spec = "all";
    }
    if (!strcmp(spec, "none") || !strcmp(spec, "cpu")) return 0;
    // The list's form first, so a typo is named as such on any machine.
    int all = !strcmp(spec, "all");
    for (const char *p = spec; !all && *p;) {
        char *end;
        long id = strtol(p, &end, 10);
        if (end == p || id < 0 || (*end && *end != ','))
            return tc_fail("--gpus %s: expected a list of GPU numbers like 0,2,3, or all, or none", spec);
        for (int i = 0; i < out->n_gpus; i++)
            if (out->gpus[i] == id) return tc_fail("--gpus %s: GPU %ld is listed twice", spec, id);
        if (out->n_gpus == TC_MAX_GPUS) return tc_fail("--gpus %s: more than %d GPUs", spec, TC_MAX_GPUS);
        out->gpus[out->n_gpus++] = (int)id;
        p = *end ? end + 1 : end;
    }
    if (!TC_HAVE_CUDA)
        return tc_fail("--gpus %s: this build has no CUDA backend (rebuild where nvcc, cuBLAS and NCCL are installed), use --gpus none", spec);
    if (visible == 0) return tc_fail("--gpus %s: no GPU is available (%s)", spec, why);
    if (all) {
        for (int i = 0; i < visible && i < TC_MAX_GPUS; i++) out->gpus[out->n_gpus++] = i;
        return 0;
    }
    for (int i = 0; i < out->n_gpus; i++)
        if (out->gpus[i] >= visible)
            return tc_fail("--gpus %s: there is no GPU %d (%d visible: 0..%d)", spec, out->gpus[i], visible, visible - 1);
    return 0;
}

int tc_devices_select(const tc_cli *cli, tc_devices *out) {
    char why[256] = "this build has no CUDA backend";
    int visible = 0;
#if TC_HAVE_CUDA
    if (!cli->gpus || (strcmp(cli->gpus, "none") && strcmp(cli->gpus, "cpu")))
        visible = tc_cuda_device_count(why, sizeof why);
#endif
    return tc_devices_parse(cli->gpus, visible, why, out);
}
