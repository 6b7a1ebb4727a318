// What a program's start leaves of OpenBLAS's threads (common/cli/cli.c:
// tc_cli_init starts the program again with OpenBLAS on one thread): one
// line, "openblas N, tasks T, OPENBLAS_NUM_THREADS V", N OpenBLAS's thread
// count, T the process's threads (the main one and any OpenBLAS started),
// V the variable as the program then sees it ("unset" when it is not set).
#include "common/cli/cli.h"

#include <cblas.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

static int tasks(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

int main(int argc, char **argv) {
    tc_cli cli;
    tc_cli_init(&cli, "blas-threads", "usage: blas-threads\n", &argc, &argv, 1);
    const char *v = getenv("OPENBLAS_NUM_THREADS");
    printf("openblas %d, tasks %d, OPENBLAS_NUM_THREADS %s\n", openblas_get_num_threads(), tasks(), v ? v : "unset");
    return 0;
}
