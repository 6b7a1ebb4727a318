// A small unit-test harness. Each case prints one line the runner counts:
//   PASS name | FAIL name: first failed check | SKIP name: why
// Tolerance checks follow |x - ref| <= atol + rtol * |ref| and print the
// first mismatches and the worst difference.
#ifndef TC_TEST_HARNESS_H
#define TC_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_case_failed;
static int harness_case_skipped;
static char harness_case_note[512];
static int harness_total_failed;

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            if (!harness_case_failed)                                                     \
                snprintf(harness_case_note, sizeof harness_case_note, "%s:%d: %s", __FILE__, \
                         __LINE__, #cond);                                                \
            harness_case_failed = 1;                                                      \
        }                                                                                 \
    } while (0)

#define CHECKF(cond, ...)                                                                 \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            if (!harness_case_failed) {                                                   \
                int at_ = snprintf(harness_case_note, sizeof harness_case_note, "%s:%d: ", \
                                   __FILE__, __LINE__);                                   \
                snprintf(harness_case_note + at_, sizeof harness_case_note - (size_t)at_,   \
                         __VA_ARGS__);                                                    \
            }                                                                             \
            harness_case_failed = 1;                                                      \
        }                                                                                 \
    } while (0)

// Stops the case when a check fails (for checks later code depends on).
// The condition is evaluated once.
#define REQUIRE(cond)                   \
    do {                                \
        int required_ = !!(cond);       \
        CHECKF(required_, "%s", #cond); \
        if (!required_) return;         \
    } while (0)

#define SKIP(...)                                                                   \
    do {                                                                            \
        snprintf(harness_case_note, sizeof harness_case_note, __VA_ARGS__);         \
        harness_case_skipped = 1;                                                   \
        return;                                                                     \
    } while (0)

// Compares arrays; returns 1 if all close. Prints up to 10 mismatches.
static inline int harness_close(const char *what, const float *x, const float *ref, size_t n, double atol,
                                double rtol) {
    double worst = 0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)x[i] - (double)ref[i]);
        if (!(d <= atol + rtol * fabs((double)ref[i]))) {
            if (bad < 10) printf("  %s[%zu] = %.9g, expected %.9g\n", what, i, x[i], ref[i]);
            bad++;
        }
        if (d > worst || d != d) worst = d;
    }
    if (bad) printf("  %s: %zu of %zu values off, worst difference %.3g\n", what, bad, n, worst);
    return bad == 0;
}
#define CHECK_CLOSE(what, x, ref, n, atol, rtol) \
    CHECKF(harness_close(what, x, ref, n, atol, rtol), "%s not within atol %g rtol %g", what, (double)(atol), (double)(rtol))

// The smallest cosine between matching rows of x and ref (rows, cols); a
// NaN row makes it NaN.
static inline double harness_min_row_cosine(const float *x, const float *ref, size_t rows, size_t cols) {
    double worst = 1;
    for (size_t r = 0; r < rows; r++) {
        double xr = 0, xx = 0, rr = 0;
        for (size_t c = 0; c < cols; c++) {
            double u = x[r * cols + c], v = ref[r * cols + c];
            xr += u * v, xx += u * u, rr += v * v;
        }
        double cos = xr / sqrt(xx * rr);
        if (cos < worst || cos != cos) worst = cos;
    }
    return worst;
}

static inline void harness_run(const char *name, void (*fn)(void)) {
    harness_case_failed = harness_case_skipped = 0;
    harness_case_note[0] = 0;
    fn();
    if (harness_case_failed) {
        printf("FAIL %s: %s\n", name, harness_case_note);
        harness_total_failed++;
    } else if (harness_case_skipped) {
        printf("SKIP %s: %s\n", name, harness_case_note);
    } else {
        printf("PASS %s\n", name);
    }
    fflush(stdout);
}

#define RUN(fn) harness_run(#fn, fn)
#define HARNESS_EXIT() return harness_total_failed ? 1 : 0

// A scratch directory for the test's files (TC_TMP, else /tmp).
static inline const char *harness_tmpdir(void) {
    const char *d = getenv("TC_TMP");
    return d && *d ? d : "/tmp";
}

// Writes `text` to NAME in the scratch directory; returns its path, valid
// until the next call.
static inline const char *harness_write_file(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", harness_tmpdir(), name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

#endif
