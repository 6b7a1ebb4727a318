// A progress line on stderr for long work: done, rate, ETA. Shown when
// stderr is a terminal (rewritten in place) or with --progress (a line every
// few seconds); never with -q.
#ifndef TC_PROGRESS_H
#define TC_PROGRESS_H

#include <stdint.h>

#include "common/cli/cli.h"

typedef struct {
    const char *unit;     // "docs", "rows", "steps"
    uint64_t total;       // 0 if unknown
    uint64_t done;
    double start, last;   // seconds
    int enabled, terminal, shown;
} tc_progress;

void tc_progress_start(tc_progress *p, const tc_cli *cli, const char *unit, uint64_t total);
void tc_progress_update(tc_progress *p, uint64_t done);
// Prints the final line (with the overall rate) and ends it.
void tc_progress_finish(tc_progress *p);

// Seconds since an arbitrary start, monotonic.
double tc_seconds(void);

#endif
