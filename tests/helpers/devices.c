// Test helper: the device choice of a compute program, as `--gpus` and the
// machine make it. Prints "cpu" or "gpus 0,1,...".
#include "common/cli/cli.h"
#include "common/comm/devices.h"

#include <stdio.h>

int main(int argc, char **argv) {
    static const struct option options[] = {TC_CLI_COMMON_OPTIONS, TC_CLI_GPU_OPTIONS, {0, 0, 0, 0}};
    tc_cli cli;
    tc_cli_init(&cli, "devices", "usage: devices [--gpus LIST]\n", &argc, &argv, 1);
    int c;
    while ((c = tc_cli_getopt(&cli, argc, argv, "", options)) != -1) tc_cli_option(&cli, c, optarg);
    tc_devices d;
    if (tc_devices_select(&cli, &d)) tc_cli_die(&cli);
    if (d.n_gpus == 0) printf("cpu\n");
    else {
        printf("gpus");
        for (int i = 0; i < d.n_gpus; i++) printf("%c%d", i ? ',' : ' ', d.gpus[i]);
        printf("\n");
    }
    return 0;
}
