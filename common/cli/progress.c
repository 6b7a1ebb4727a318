#include "common/cli/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double tc_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void tc_progress_start(tc_progress *p, const tc_cli *cli, const char *unit, uint64_t total) {
    p->unit = unit;
    p->total = total;
    p->done = 0;
    p->start = p->last = tc_seconds();
    p->terminal = isatty(STDERR_FILENO);
    p->enabled = cli->verbosity > 0 && (p->terminal || cli->progress);
    p->shown = 0;
}

static void print_line(tc_progress *p, double now, int final) {
    double elapsed = now - p->start;
    double rate = elapsed > 0 ? (double)p->done / elapsed : 0;
    char eta[48] = "";
    if (!final && p->total && rate > 0 && p->done < p->total) {
        long s = (long)((double)(p->total - p->done) / rate);
        snprintf(eta, sizeof eta, ", ETA %ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    }
    char total[48] = "";
    if (p->total) snprintf(total, sizeof total, "/%llu", (unsigned long long)p->total);
    fprintf(stderr, "%s%s: %llu%s %s (%.0f %s/s%s%s)%s%s", p->terminal ? "\r" : "", tc_program_name(),
            (unsigned long long)p->done, total, p->unit, rate, p->unit, eta,
            final ? ", done" : "", p->terminal ? "\033[K" : "",
            p->terminal && !final ? "" : "\n");
    fflush(stderr);
    p->shown = 1;
}

void tc_progress_update(tc_progress *p, uint64_t done) {
    p->done = done;
    if (!p->enabled) return;
    double now = tc_seconds();
    if (now - p->last < (p->terminal ? 0.25 : 5.0)) return;
    p->last = now;
    print_line(p, now, 0);
}

void tc_progress_finish(tc_progress *p) {
    if (!p->enabled || (!p->shown && !p->terminal && tc_seconds() - p->start < 1.0)) return;
    print_line(p, tc_seconds(), 1);
}
