// A deadline for work that a device does on its own time (NCCL collectives
// on a CUDA stream, common/comm/comm_nccl.cu). The host only queues such
// work; when a rank dies or hangs, the collective never completes, the
// stream never drains, and the next wait on it (a loss read back, a
// checkpoint's copy) would block forever. So every queued collective is
// followed by a mark (a CUDA event), and a thread of the watchdog looks at
// the marks a few times a second: a mark older than the timeout, or an
// error the transport reports by itself (a peer's connection closed), fails
// the communicator: the line is recorded, the transport aborted (so that
// whatever waits on it returns), and the owner sees the line at its next
// look (tc_watchdog_failure). A failure nobody has looked at after the
// grace period means the owner is stuck inside the driver, where no return
// code reaches: the last resort prints the line and ends the process, as
// the run would otherwise hang.
//
// The marks are opaque slots: the hooks say whether the work marked in a
// slot has completed, so the logic runs (and is tested,
// tests/unit/test_comm_watchdog.c) without a GPU.
#ifndef TC_COMM_WATCHDOG_H
#define TC_COMM_WATCHDOG_H

enum { TC_WATCHDOG_MARKS = 128 };  // marks in flight at once

typedef struct {
    void *ctx;
    // 1: the work marked in slot has completed; 0: not yet; -1: it failed
    // (error() says why, or the line says the slot failed)
    int (*done)(void *ctx, int slot);
    // NULL while the transport is sound, else what broke it; may be NULL
    const char *(*error)(void *ctx);
    // Stops the transport so that what waits on it returns; called once,
    // after the line is recorded, by the thread that found the failure.
    void (*abort)(void *ctx);
    // NULL: the line to stderr, then _exit(1)
    void (*last_resort)(void *ctx, const char *line);
    double grace;      // seconds from the failure to the last resort (0: 2 timeout + 30)
    int rank;          // for the line
    const char *what;  // what is marked, for the line ("an NCCL collective")
} tc_watchdog_hooks;

typedef struct tc_watchdog tc_watchdog;

// Starts the thread; timeout in seconds (0: marks never expire, errors still
// count). NULL after tc_fail.
tc_watchdog *tc_watchdog_start(const tc_watchdog_hooks *hooks, double timeout);

// The slot of the next mark: retires completed marks and, while all slots
// hold marks in flight, waits for the oldest. -1 after tc_fail with the
// failure's line once the watchdog has failed.
int tc_watchdog_slot(tc_watchdog *w);

// The mark is recorded in slot (the caller did it after tc_watchdog_slot):
// its clock starts.
void tc_watchdog_arm(tc_watchdog *w, int slot);

// NULL while all is well, else the failure's line (valid until stop).
const char *tc_watchdog_failure(tc_watchdog *w);

// Fails now with `line` (the owner's own deadline passed), unless failed
// already: the same record, abort and last resort as the thread's.
void tc_watchdog_fail(tc_watchdog *w, const char *line);

// Stops and joins the thread (no last resort from then on), frees w (NULL:
// nothing).
void tc_watchdog_stop(tc_watchdog *w);

#endif
