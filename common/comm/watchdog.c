// The watchdog of queued device work (common/comm/watchdog.h). The marks
// are a ring: [tail, head) are armed and not yet seen completed, in the
// order they were queued, so only the oldest can be the late one.
#include "common/comm/watchdog.h"
#include "common/error.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct tc_watchdog {
    tc_watchdog_hooks hooks;
    double timeout;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;        // the thread's tick, and stop
    pthread_cond_t freed;       // a slot retired, or the failure
    long head, tail;            // marks armed: [tail, head)
    double armed_at[TC_WATCHDOG_MARKS];
    int stopping, failed, last_resort_done;
    double failed_at;
    char line[320];
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static struct timespec deadline_in(double seconds) {
    double t = now() + seconds;
    struct timespec ts = {(time_t)t, (long)((t - floor(t)) * 1e9)};
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    return ts;
}

// As often as the MPI communicator ticks: several looks per timeout.
static double tick_period(const tc_watchdog *w) { return w->timeout > 0 ? fmin(0.25, w->timeout / 8) : 0.25; }

static double grace_period(const tc_watchdog *w) { return w->hooks.grace > 0 ? w->hooks.grace : 2 * w->timeout + 30; }

// Records the line and aborts the transport (outside the lock: an abort
// may take a while, and the owner must still get its answer). Called locked.
static void fail(tc_watchdog *w, const char *line) {
    snprintf(w->line, sizeof w->line, "%s", line);
    w->failed = 1;
    w->failed_at = now();
    pthread_cond_broadcast(&w->freed);
    pthread_mutex_unlock(&w->lock);
    if (w->hooks.abort) w->hooks.abort(w->hooks.ctx);
    pthread_mutex_lock(&w->lock);
}

// Retires the completed marks from the oldest on; 1 when one failed (the
// line recorded), 0 otherwise. Called locked.
static int retire(tc_watchdog *w, int expire) {
    char line[320];
    while (w->tail < w->head) {
        int slot = (int)(w->tail % TC_WATCHDOG_MARKS), r = w->hooks.done(w->hooks.ctx, slot);
        if (r > 0) {
            w->tail++;
            pthread_cond_broadcast(&w->freed);
            continue;
        }
        const char *why = r < 0 && w->hooks.error ? w->hooks.error(w->hooks.ctx) : NULL;
        if (r < 0) {
            snprintf(line, sizeof line, "rank %d: %s failed: %s: stopping", w->hooks.rank, w->hooks.what,
                     why ? why : "the device reports an error");
        } else if (expire && w->timeout > 0 && now() - w->armed_at[slot] > w->timeout) {
            snprintf(line, sizeof line,
                     "rank %d: %s did not complete within %g s (--comm-timeout; a rank dead or hung): stopping",
                     w->hooks.rank, w->hooks.what, w->timeout);
        } else {
            return 0;
        }
        fail(w, line);
        return 1;
    }
    return 0;
}

static void look(tc_watchdog *w) {
    const char *why = w->hooks.error ? w->hooks.error(w->hooks.ctx) : NULL;
    if (why) {
        char line[320];
        snprintf(line, sizeof line, "rank %d: %s: stopping", w->hooks.rank, why);
        fail(w, line);
        return;
    }
    retire(w, 1);
}

static void last_resort(tc_watchdog *w) {
    w->last_resort_done = 1;
    pthread_mutex_unlock(&w->lock);
    if (w->hooks.last_resort) {
        w->hooks.last_resort(w->hooks.ctx, w->line);
    } else {
        // stuck in the driver: no return code will ever reach the owner
        fprintf(stderr, "%s: %s (the process did not end in %g s: ended by its watchdog)\n",
                program_invocation_short_name, w->line, grace_period(w));
        fflush(NULL);
        _exit(1);
    }
    pthread_mutex_lock(&w->lock);
}

static void *watch(void *arg) {
    tc_watchdog *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        if (!w->failed) look(w);
        else if (!w->last_resort_done && now() - w->failed_at > grace_period(w)) last_resort(w);
        if (w->stopping) break;
        struct timespec until = deadline_in(tick_period(w));
        pthread_cond_timedwait(&w->wake, &w->lock, &until);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

tc_watchdog *tc_watchdog_start(const tc_watchdog_hooks *hooks, double timeout) {
    tc_watchdog *w = tc_calloc(1, sizeof *w);
    if (!w) return NULL;
    w->hooks = *hooks;
    if (!w->hooks.what) w->hooks.what = "a collective";
    w->timeout = timeout > 0 ? timeout : 0;
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    rc = rc ? rc : pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    rc = rc ? rc : pthread_mutex_init(&w->lock, NULL);
    rc = rc ? rc : pthread_cond_init(&w->wake, &attr);
    rc = rc ? rc : pthread_cond_init(&w->freed, &attr);
    rc = rc ? rc : pthread_create(&w->thread, NULL, watch, w);
    pthread_condattr_destroy(&attr);
    if (rc) {
        free(w);
        tc_fail("cannot start the watchdog thread: %s", strerror(rc));
        return NULL;
    }
    return w;
}

int tc_watchdog_slot(tc_watchdog *w) {
    pthread_mutex_lock(&w->lock);
    if (!w->failed) retire(w, 0);
    while (!w->failed && w->head - w->tail >= TC_WATCHDOG_MARKS) {
        struct timespec until = deadline_in(1e-3);
        pthread_cond_timedwait(&w->freed, &w->lock, &until);
        if (!w->failed) retire(w, 0);
    }
    int slot = w->failed ? -1 : (int)(w->head % TC_WATCHDOG_MARKS);
    if (w->failed) tc_fail("%s", w->line);
    pthread_mutex_unlock(&w->lock);
    return slot;
}

void tc_watchdog_arm(tc_watchdog *w, int slot) {
    pthread_mutex_lock(&w->lock);
    if (slot == (int)(w->head % TC_WATCHDOG_MARKS)) w->armed_at[slot] = now(), w->head++;
    pthread_mutex_unlock(&w->lock);
}

const char *tc_watchdog_failure(tc_watchdog *w) {
    pthread_mutex_lock(&w->lock);
    const char *line = w->failed ? w->line : NULL;
    pthread_mutex_unlock(&w->lock);
    return line;
}

void tc_watchdog_fail(tc_watchdog *w, const char *line) {
    pthread_mutex_lock(&w->lock);
    if (!w->failed) fail(w, line);
    pthread_mutex_unlock(&w->lock);
}

void tc_watchdog_stop(tc_watchdog *w) {
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->freed);
    free(w);
}
