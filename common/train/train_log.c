#include "common/train/train_log.h"
#include "common/error.h"
#include "common/cli/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

// Rewrites the log keeping the lines up to `step`, atomically.
static int truncate_after(const char *path, long step) {
    FILE *in = fopen(path, "r");
    if (!in) return errno == ENOENT ? 0 : tc_fail("%s: cannot open: %s", path, strerror(errno));
    tc_output out;
    if (tc_output_open(&out, path, 0, 1)) {
        fclose(in);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    long n, line_no = 0;
    while ((n = tc_read_line(in, &line, &cap)) >= 0) {
        line_no++;
        json_t *obj = json_loads(line, 0, NULL);
        json_t *s = obj ? json_object_get(obj, "step") : NULL;
        if (s && json_is_integer(s) && json_integer_value(s) <= step) fprintf(out.f, "%s\n", line);
        json_decref(obj);
    }
    free(line);
    fclose(in);
    if (n == -2) {
        tc_output_abort(&out);
        return tc_fail_context("%s: line %ld", path, line_no + 1);
    }
    return tc_output_commit(&out);
}

int tc_train_log_open(tc_train_log *log, const char *path, long keep_through_step) {
    log->path = path;
    log->f = NULL;
    log->tb.f = NULL;
    if (keep_through_step >= 0 && truncate_after(path, keep_through_step)) return -1;
    log->f = fopen(path, keep_through_step >= 0 ? "a" : "w");
    if (!log->f) return tc_fail("%s: cannot open: %s", path, strerror(errno));
    return 0;
}

int tc_train_log_write(tc_train_log *log, json_t *obj) {
    if (!obj) return tc_fail("out of memory");
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    int tb_rc = tc_tb_events_write(&log->tb, obj);
    json_decref(obj);
    if (tb_rc) {
        free(text);
        return -1;
    }
    if (!text) return tc_fail("out of memory");
    int bad = fprintf(log->f, "%s\n", text) < 0 || fflush(log->f) != 0;
    free(text);
    return bad ? tc_fail("%s: write error: %s", log->path, strerror(errno)) : 0;
}

int tc_train_log_close(tc_train_log *log) {
    int tb = tc_tb_events_close(&log->tb);
    if (!log->f) return tb;
    int bad = fclose(log->f) != 0;
    log->f = NULL;
    return bad ? tc_fail("%s: write error: %s", log->path, strerror(errno)) : tb;
}

int tc_train_log_tensorboard(tc_train_log *log, const char *dir) { return tc_tb_events_open(&log->tb, dir); }

// ---------------------------------------------------------------- plot

// Splits the log into gnuplot data: training rows (step loss lr) and
// validation rows (step val_loss).
static int extract(const char *log_path, FILE *train, FILE *val, long *n_train, long *n_val) {
    FILE *in = fopen(log_path, "r");
    if (!in) return tc_fail("%s: cannot open: %s", log_path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    long n, lineno = 0;
    int rc = 0;
    *n_train = *n_val = 0;
    while (rc == 0 && (n = tc_read_line(in, &line, &cap)) >= 0) {
        lineno++;
        if (n == 0) continue;
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        if (!o || !json_is_object(o)) {
            rc = tc_fail("%s: line %ld: not a JSON object", log_path, lineno);
        } else {
            json_t *step = json_object_get(o, "step"), *loss = json_object_get(o, "loss"),
                   *lr = json_object_get(o, "lr"), *vl = json_object_get(o, "val_loss");
            if (json_is_integer(step) && json_is_number(loss) && json_is_number(lr)) {
                fprintf(train, "%lld %.9g %.9g\n", (long long)json_integer_value(step), json_number_value(loss),
                        json_number_value(lr));
                (*n_train)++;
            }
            if (json_is_integer(step) && json_is_number(vl)) {
                fprintf(val, "%lld %.9g\n", (long long)json_integer_value(step), json_number_value(vl));
                (*n_val)++;
            }
        }
        json_decref(o);
    }
    if (rc == 0 && n == -2) rc = tc_fail_context("%s: line %ld", log_path, lineno + 1);
    free(line);
    fclose(in);
    if (rc == 0 && *n_train == 0) rc = tc_fail("%s: no training steps in the log", log_path);
    return rc;
}

static int run_gnuplot(const char *script_path, const char *png_path) {
    char err_path[] = "/tmp/tc-plot-err-XXXXXX";
    int efd = mkstemp(err_path);
    if (efd < 0) return tc_fail("cannot create a temporary file: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(efd);
        unlink(err_path);
        return tc_fail("cannot start gnuplot: %s", strerror(errno));
    }
    if (pid == 0) {
        dup2(efd, STDERR_FILENO);
        int null = open("/dev/null", 0);
        if (null >= 0) dup2(null, STDOUT_FILENO);
        execlp("gnuplot", "gnuplot", script_path, (char *)NULL);
        _exit(127);
    }
    close(efd);
    int status = 0;
    waitpid(pid, &status, 0);
    int rc = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char msg[200] = "";
        FILE *e = fopen(err_path, "r");
        if (e) {
            size_t n = fread(msg, 1, sizeof msg - 1, e);
            msg[n] = 0;
            fclose(e);
            for (char *p = msg; *p; p++)
                if (*p == '\n') *p = ' ';
        }
        rc = WIFEXITED(status) && WEXITSTATUS(status) == 127
                 ? tc_fail("%s: gnuplot is not installed (Debian package gnuplot-nox)", png_path)
                 : tc_fail("%s: gnuplot failed: %s", png_path, msg);
    }
    unlink(err_path);
    return rc;
}

static int write_script(FILE *s, const char *train, const char *val, long n_val, const char *png) {
    fprintf(s,
            "set terminal pngcairo size 960,540 noenhanced\n"
            "set output '%s'\n"
            "set title 'tc-train'\n"
            "set xlabel 'step'\nset ylabel 'loss'\nset y2label 'learning rate'\n"
            "set ytics nomirror\nset y2tics\nset grid\nset key top right\n"
            "plot '%s' using 1:2 with lines lw 1.5 title 'training loss'",
            png, train);
    if (n_val) fprintf(s, ", '%s' using 1:2 with linespoints lw 2 pt 7 title 'validation loss'", val);
    fprintf(s, ", '%s' using 1:3 axes x1y2 with lines dt 2 title 'learning rate'\n", train);
    return fflush(s);
}

int tc_train_log_plot(const char *log_path, const char *png_path) {
    char dir[] = "/tmp/tc-plot-XXXXXX";
    if (!mkdtemp(dir)) return tc_fail("cannot create a temporary directory: %s", strerror(errno));
    char train_path[64], val_path[64], script_path[64], png_tmp[4096];
    snprintf(train_path, sizeof train_path, "%s/train.dat", dir);
    snprintf(val_path, sizeof val_path, "%s/val.dat", dir);
    snprintf(script_path, sizeof script_path, "%s/plot.gp", dir);
    snprintf(png_tmp, sizeof png_tmp, "%s/plot.png", dir);
    FILE *train = fopen(train_path, "w"), *val = fopen(val_path, "w"), *script = fopen(script_path, "w");
    long n_train = 0, n_val = 0;
    int rc = !train || !val || !script ? tc_fail("%s: cannot create: %s", dir, strerror(errno)) : 0;
    if (rc == 0) rc = extract(log_path, train, val, &n_train, &n_val);
    if (train) fclose(train);
    if (val) fclose(val);
    if (rc == 0 && write_script(script, train_path, val_path, n_val, png_tmp))
        rc = tc_fail("%s: write failed: %s", script_path, strerror(errno ? errno : EIO));
    if (script) fclose(script);
    if (rc == 0) rc = run_gnuplot(script_path, png_path);
    // the PNG goes into place with the atomic output of every program
    if (rc == 0) {
        tc_output out;
        FILE *in = fopen(png_tmp, "rb");
        rc = !in ? tc_fail("%s: gnuplot wrote no image", png_path) : tc_output_open(&out, png_path, 1, 1);
        if (rc == 0) {
            char buf[65536];
            size_t n;
            while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out.f);
            if (ferror(in)) {
                tc_output_abort(&out);
                rc = tc_fail("%s: read failed: %s", png_tmp, strerror(errno ? errno : EIO));
            } else {
                rc = tc_output_commit(&out);
            }
        }
        if (in) fclose(in);
    }
    unlink(train_path), unlink(val_path), unlink(script_path), unlink(png_tmp);
    rmdir(dir);
    return rc;
}
