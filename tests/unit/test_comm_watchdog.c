// The watchdog of queued device work (common/comm/watchdog.h) with fake
// marks in place of CUDA events: marks that complete never fail it, however
// many wrap around the ring; a late mark fails it within a tick or two of
// the timeout, with the line, one abort and every later slot refused; the
// transport's own error fails it before any timeout; a failure the process
// outlives by the grace period calls the last resort, and one it ends in
// time does not; timeout 0 never expires.
#include "tests/harness.h"
#include "tests/ensure.h"
#include "common/comm/watchdog.h"
#include "common/error.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

typedef struct {
    pthread_mutex_t lock;
    int state[TC_WATCHDOG_MARKS];  // 1 done, 0 pending, -1 failed
    const char *error;
    int aborts, last_resorts;
    char last_line[320];
} fake;

static int fake_done(void *ctx, int slot) {
    fake *f = ctx;
    pthread_mutex_lock(&f->lock);
    int r = f->state[slot];
    pthread_mutex_unlock(&f->lock);
    return r;
}

static const char *fake_error(void *ctx) {
    fake *f = ctx;
    pthread_mutex_lock(&f->lock);
    const char *e = f->error;
    pthread_mutex_unlock(&f->lock);
    return e;
}

static void fake_abort(void *ctx) {
    fake *f = ctx;
    pthread_mutex_lock(&f->lock);
    f->aborts++;
    pthread_mutex_unlock(&f->lock);
}

static void fake_last_resort(void *ctx, const char *line) {
    fake *f = ctx;
    pthread_mutex_lock(&f->lock);
    f->last_resorts++;
    snprintf(f->last_line, sizeof f->last_line, "%s", line);
    pthread_mutex_unlock(&f->lock);
}

static void set_state(fake *f, int slot, int state) {
    pthread_mutex_lock(&f->lock);
    f->state[slot] = state;
    pthread_mutex_unlock(&f->lock);
}

static int get(fake *f, const int *field) {
    pthread_mutex_lock(&f->lock);
    int v = *field;
    pthread_mutex_unlock(&f->lock);
    return v;
}

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void pause_for(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static tc_watchdog *start(fake *f, double timeout, double grace, int rank) {
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
    tc_watchdog_hooks hooks = {f, fake_done, fake_error, fake_abort, fake_last_resort, grace, rank, "a test collective"};
    return tc_watchdog_start(&hooks, timeout);
}

// Waits up to `limit` seconds for the failure; the seconds it took, or -1.
static double wait_failure(tc_watchdog *w, double t0, double limit) {
    while (seconds() - t0 < limit) {
        if (tc_watchdog_failure(w)) return seconds() - t0;
        pause_for(0.01);
    }
    return -1;
}

// Queues one mark: its slot, pending.
static int queue_mark(tc_watchdog *w, fake *f) {
    int slot = tc_watchdog_slot(w);
    if (slot >= 0) {
        set_state(f, slot, 0);
        tc_watchdog_arm(w, slot);
    }
    return slot;
}

static void test_completed_marks_never_fail(void) {
    fake f;
    tc_watchdog *w = start(&f, 0.2, 0, 0);
    ENSURE(w);
    int ok = 1;
    for (int i = 0; i < 3 * TC_WATCHDOG_MARKS + 5; i++) {  // wraps the ring three times
        int slot = queue_mark(w, &f);
        ok &= slot >= 0;
        if (slot >= 0) set_state(&f, slot, 1);
    }
    CHECK(ok);
    pause_for(0.5);
    CHECK(tc_watchdog_failure(w) == NULL);
    CHECK(get(&f, &f.aborts) == 0);
    tc_watchdog_stop(w);
}

static void test_late_mark_fails_with_the_line(void) {
    fake f;
    tc_watchdog *w = start(&f, 0.3, 60, 2);
    ENSURE(w);
    int done = queue_mark(w, &f);
    set_state(&f, done, 1);
    double t0 = seconds();
    CHECK(queue_mark(w, &f) >= 0);  // never completes
    double took = wait_failure(w, t0, 5);
    CHECKF(took >= 0.3 && took < 0.3 + 0.5, "failed after %.3f s, timeout 0.3", took);
    const char *want = "rank 2: a test collective did not complete within 0.3 s (--comm-timeout; a rank dead or hung): stopping";
    const char *line = tc_watchdog_failure(w);
    CHECKF(line && !strcmp(line, want), "line '%s'", line ? line : "(none)");
    CHECK(get(&f, &f.aborts) == 1);
    CHECK(tc_watchdog_slot(w) == -1 && !strcmp(tc_error(), want));
    pause_for(0.3);
    CHECK(get(&f, &f.aborts) == 1);  // once
    tc_watchdog_stop(w);
}

static void test_transport_error_fails_at_once(void) {
    fake f;
    tc_watchdog *w = start(&f, 60, 60, 0);
    ENSURE(w);
    CHECK(queue_mark(w, &f) >= 0);
    double t0 = seconds();
    pthread_mutex_lock(&f.lock);
    f.error = "NCCL reports remote process exited or there was a network error";
    pthread_mutex_unlock(&f.lock);
    double took = wait_failure(w, t0, 5);
    CHECKF(took >= 0 && took < 1, "failed after %.3f s", took);
    const char *line = tc_watchdog_failure(w);
    CHECKF(line && !strcmp(line, "rank 0: NCCL reports remote process exited or there was a network error: stopping"),
           "line '%s'", line ? line : "(none)");
    CHECK(get(&f, &f.aborts) == 1);
    tc_watchdog_stop(w);
}

static void test_failed_mark(void) {
    fake f;
    tc_watchdog *w = start(&f, 60, 60, 3);
    ENSURE(w);
    int slot = queue_mark(w, &f);
    set_state(&f, slot, -1);
    double took = wait_failure(w, seconds(), 5);
    CHECKF(took >= 0 && took < 1, "failed after %.3f s", took);
    const char *line = tc_watchdog_failure(w);
    CHECKF(line && !strcmp(line, "rank 3: a test collective failed: the device reports an error: stopping"), "line '%s'",
           line ? line : "(none)");
    tc_watchdog_stop(w);
}

static void test_full_ring_waits_then_refuses(void) {
    fake f;
    tc_watchdog *w = start(&f, 0.3, 60, 0);
    ENSURE(w);
    int ok = 1;
    for (int i = 0; i < TC_WATCHDOG_MARKS; i++) ok &= queue_mark(w, &f) >= 0;
    CHECK(ok);
    double t0 = seconds();
    int slot = tc_watchdog_slot(w);  // all in flight, none completes: waits for the failure
    double took = seconds() - t0;
    CHECKF(slot == -1 && took >= 0.25 && took < 2, "slot %d after %.3f s", slot, took);
    tc_watchdog_stop(w);
}

static void test_full_ring_frees_a_slot(void) {
    fake f;
    tc_watchdog *w = start(&f, 60, 60, 0);
    ENSURE(w);
    int first = queue_mark(w, &f), ok = first >= 0;
    for (int i = 1; i < TC_WATCHDOG_MARKS; i++) ok &= queue_mark(w, &f) >= 0;
    CHECK(ok);
    set_state(&f, first, 1);  // the oldest completes: its slot comes back
    CHECK(tc_watchdog_slot(w) == first);
    CHECK(tc_watchdog_failure(w) == NULL);
    tc_watchdog_stop(w);
}

static void test_last_resort_after_grace(void) {
    fake f;
    tc_watchdog *w = start(&f, 60, 0.3, 1);
    ENSURE(w);
    tc_watchdog_fail(w, "rank 1: boom");
    tc_watchdog_fail(w, "rank 1: again");  // the first failure stands
    CHECK(get(&f, &f.aborts) == 1);
    CHECK(!strcmp(tc_watchdog_failure(w), "rank 1: boom"));
    pause_for(1.0);
    CHECK(get(&f, &f.last_resorts) == 1);
    CHECK(!strcmp(f.last_line, "rank 1: boom"));
    tc_watchdog_stop(w);

    w = start(&f, 60, 0.3, 1);  // the process ends in time: no last resort
    ENSURE(w);
    tc_watchdog_fail(w, "rank 1: boom");
    tc_watchdog_stop(w);
    pause_for(0.5);
    CHECK(get(&f, &f.last_resorts) == 0);
}

static void test_no_timeout_waits(void) {
    fake f;
    tc_watchdog *w = start(&f, 0, 60, 0);
    ENSURE(w);
    CHECK(queue_mark(w, &f) >= 0);
    pause_for(0.6);
    CHECK(tc_watchdog_failure(w) == NULL);
    tc_watchdog_stop(w);
}

int main(void) {
    RUN(test_completed_marks_never_fail);
    RUN(test_late_mark_fails_with_the_line);
    RUN(test_transport_error_fails_at_once);
    RUN(test_failed_mark);
    RUN(test_full_ring_waits_then_refuses);
    RUN(test_full_ring_frees_a_slot);
    RUN(test_last_resort_after_grace);
    RUN(test_no_timeout_waits);
    HARNESS_EXIT();
}
