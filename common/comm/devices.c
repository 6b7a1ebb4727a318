#include "common/comm/devices.h"
#include "common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/matmul_bf16.h"
#include "kernels/cpu/matmul_onednn.h"

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

const char *tc_precision_name(tct_dtype precision) {
    switch (precision) {
    case TCT_F32: return "fp32";
    case TCT_BF16: return "bf16";
    case TCT_F16: return "fp16";
    case TCT_I8: return "int8";
    default: return "?";
    }
}

static int cpu_precision(const char *name, tct_dtype *out) {
    char why[300];
    if (!strcmp(name, "auto")) {
        *out = tc_onednn_native_bf16() ? TCT_BF16 : tc_onednn_supported(TCT_I8, why, sizeof why) ? TCT_F32 : TCT_I8;
        return 0;
    }
    if (!strcmp(name, "fp16")) return tc_fail("--precision fp16: GPUs only; the CPU computes in fp32, bf16 or int8");
    *out = !strcmp(name, "bf16") ? TCT_BF16 : TCT_I8;
    if (tc_onednn_supported(*out, why, sizeof why)) return tc_fail("--precision %s: %s", name, why);
    return 0;
}

int tc_precision_known(const char *name) {
    static const char *names[] = {"fp32", "bf16", "fp16", "int8", "auto"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(name, names[i])) return 1;
    return 0;
}

int tc_precision_select(const char *name, const tc_devices *devices, tct_dtype *out) {
    if (!tc_precision_known(name)) return tc_fail("--precision: '%s' is not fp32, bf16, fp16, int8 or auto", name);
    if (!strcmp(name, "fp32")) {
        *out = TCT_F32;
        return 0;
    }
    if (devices->n_gpus == 0) return cpu_precision(name, out);
    if (!strcmp(name, "int8")) return tc_fail("--precision int8: the CPU only (--gpus none); GPUs compute in fp32, bf16 or fp16");
    *out = !strcmp(name, "fp16") ? TCT_F16 : TCT_BF16;
    return 0;
}

void tc_verbose_precision(tct_dtype precision, const tc_devices *devices) {
    char text[300];
    if (devices->n_gpus || precision == TCT_F32) snprintf(text, sizeof text, "%s", tc_precision_name(precision));
    else tc_onednn_describe(precision, text, sizeof text);
    tc_verbose("precision: %s%s", text, devices->n_gpus == 0 && precision == TCT_F32 ? " through OpenBLAS" : "");
}

int tc_train_precision_cpu(tct_dtype precision) {
    char why[300];
    tc_bf16_mode mode;
    if (precision == TCT_F32) return 0;
    if (precision != TCT_BF16)
        return tc_fail("--precision %s needs a GPU (the CPU trains in fp32 or bf16)", tc_precision_name(precision));
    if (tc_bf16_select(&mode, why, sizeof why)) return tc_fail("--precision bf16: %s", why);
    return 0;
}

void tc_verbose_train_precision(tct_dtype precision, const tc_devices *devices) {
    char text[300];
    tc_bf16_mode mode;
    if (devices->n_gpus || precision != TCT_BF16 || tc_bf16_select(&mode, text, sizeof text)) {
        tc_verbose_precision(precision, devices);
        return;
    }
    tc_bf16_describe(mode, text, sizeof text);
    tc_verbose("precision: %s; f32 master weights, optimizer and the other operations", text);
}
