#include "common/cli/io.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// Temporary files to remove if the program is interrupted.
enum { MAX_TEMPS = 16 };
static char *volatile temp_files[MAX_TEMPS];

static void remove_temps_and_reraise(int sig) {
    for (int i = 0; i < MAX_TEMPS; i++)
        if (temp_files[i]) unlink(temp_files[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void track_temp(char *path) {
    static int handlers_installed;
    if (!handlers_installed) {
        int signals[] = {SIGINT, SIGTERM, SIGHUP};
        for (int i = 0; i < 3; i++) signal(signals[i], remove_temps_and_reraise);
        handlers_installed = 1;
    }
    for (int i = 0; i < MAX_TEMPS; i++)
        if (!temp_files[i]) {
            temp_files[i] = path;
            return;
        }
}

static void untrack_temp(char *path) {
    for (int i = 0; i < MAX_TEMPS; i++)
        if (temp_files[i] == path) temp_files[i] = NULL;
}

int tc_output_open(tc_output *out, const char *path, int binary, int force) {
    memset(out, 0, sizeof *out);
    if (!path || !strcmp(path, "-")) {
        out->path = "-";
        out->f = stdout;
        if (binary && !force && isatty(STDOUT_FILENO))
            return tc_fail("refusing to write binary tensors to a terminal (use -o FILE, a pipe, or -f)");
        return 0;
    }
    out->path = path;
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        // a device or a FIFO (/dev/null, a named pipe): nothing to replace
        // atomically, and no temporary file belongs beside it
        out->f = fopen(path, "wb");
        if (!out->f) return tc_fail("%s: cannot open: %s", path, strerror(errno));
        if (binary && !force && isatty(fileno(out->f))) {
            fclose(out->f);
            out->f = NULL;
            return tc_fail("%s: refusing to write binary tensors to a terminal (use -f)", path);
        }
        return 0;
    }
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path + 1) : 0;
    size_t size = strlen(path) + 32;
    out->temp_path = tc_malloc(size);
    if (!out->temp_path) return -1;
    snprintf(out->temp_path, size, "%.*s.%s.tmp-XXXXXX", (int)dir_len, path, path + dir_len);
    int fd = mkstemp(out->temp_path);
    if (fd < 0) {
        int rc = tc_fail("%s: cannot create: %s", path, strerror(errno));
        free(out->temp_path);
        out->temp_path = NULL;
        return rc;
    }
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    out->f = fdopen(fd, "wb");
    if (!out->f) {
        close(fd);
        unlink(out->temp_path);
        free(out->temp_path);
        out->temp_path = NULL;
        return tc_fail("%s: cannot open: %s", path, strerror(errno));
    }
    track_temp(out->temp_path);
    return 0;
}

// The reason of a failed write: errno when the failing call set it.
static const char *write_error(void) { return strerror(errno ? errno : EIO); }

int tc_output_commit(tc_output *out) {
    if (!out->temp_path) {
        errno = 0;
        int failed = fflush(out->f) != 0 || ferror(out->f);
        if (out->f != stdout && fclose(out->f) != 0) failed = 1;
        if (out->f != stdout) out->f = NULL;
        return failed ? tc_fail("%s: write failed: %s", tc_output_name(out), write_error()) : 0;
    }
    int rc = 0;
    errno = 0;
    if (fflush(out->f) != 0 || ferror(out->f) || fsync(fileno(out->f)) != 0)
        rc = tc_fail("%s: write failed: %s", out->path, write_error());
    if (fclose(out->f) != 0 && rc == 0) rc = tc_fail("%s: write failed: %s", out->path, write_error());
    out->f = NULL;
    if (rc == 0 && rename(out->temp_path, out->path) != 0)
        rc = tc_fail("%s: cannot rename into place: %s", out->path, strerror(errno));
    if (rc != 0) unlink(out->temp_path);
    untrack_temp(out->temp_path);
    free(out->temp_path);
    out->temp_path = NULL;
    return rc;
}

const char *tc_output_name(const tc_output *out) { return out->f == stdout || !out->path ? "(stdout)" : out->path; }

void tc_output_abort(tc_output *out) {
    if (!out->temp_path && out->f && out->f != stdout) {
        fclose(out->f);
        out->f = NULL;
    }
    if (out->temp_path) {
        if (out->f) fclose(out->f);
        unlink(out->temp_path);
        untrack_temp(out->temp_path);
        free(out->temp_path);
        out->temp_path = NULL;
        out->f = NULL;
    }
}

FILE *tc_input_open(const char *path) {
    if (!path || !strcmp(path, "-")) return stdin;
    FILE *f = fopen(path, "rb");
    if (!f) tc_fail("%s: cannot open: %s", path, strerror(errno));
    return f;
}

void tc_input_close(FILE *f) {
    if (f && f != stdin) fclose(f);
}

int tc_tensor_output_open(tc_tensor_output *o, const tc_cli *cli) {
    memset(o, 0, sizeof *o);
    if (tc_output_open(&o->out, cli->output, 1, cli->force)) return -1;
    tct_attr provenance[8];
    size_t n = tc_cli_provenance(cli, provenance);
    tct_writer_options options = {.level = cli->level};
    if (tct_writer_open(&o->writer, o->out.f, tc_output_name(&o->out), provenance, n, &options)) {
        tc_output_abort(&o->out);
        return -1;
    }
    return 0;
}

int tc_tensor_output_commit(tc_tensor_output *o) {
    int rc = tct_writer_close(o->writer);
    o->writer = NULL;
    if (rc) {
        tc_output_abort(&o->out);
        return -1;
    }
    return tc_output_commit(&o->out);
}

void tc_tensor_output_abort(tc_tensor_output *o) {
    if (o->writer) tct_writer_abort(o->writer);
    o->writer = NULL;
    tc_output_abort(&o->out);
}

size_t tc_utf8_cut(const char *text, size_t len, size_t max) {
    if (len <= max) return len;
    size_t at = max;
    // back over at most three continuation bytes to the start of the character
    for (int k = 0; k < 3 && at > 0 && ((unsigned char)text[at] & 0xC0) == 0x80; k++) at--;
    return ((unsigned char)text[at] & 0xC0) == 0x80 ? max : at;
}

static int grow_line(char **line, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 128;
    while (n < need) n *= 2;
    if (n > TC_LINE_MAX + 2) n = TC_LINE_MAX + 2;
    char *p = tc_realloc(*line, n);
    if (!p) return -1;
    *line = p;
    *cap = n;
    return 0;
}

// Reads up to the newline, storing at most TC_LINE_MAX + 1 bytes (one more
// tells a line that is too long); with `skip_rest` a longer line is read to
// its end, the rest unstored, else reading stops there. *over: the line
// was longer.
static long read_bounded(FILE *f, char **line, size_t *cap, int skip_rest, int *over) {
    size_t n = 0;
    int c = 0;
    *over = 0;
    errno = 0;
    flockfile(f);
    while ((c = getc_unlocked(f)) != EOF && c != '\n') {
        if (n > TC_LINE_MAX) {
            *over = 1;
            if (!skip_rest) break;
            continue;
        }
        if (n + 2 > *cap && grow_line(line, cap, n + 2)) {
            funlockfile(f);
            return -2;
        }
        (*line)[n++] = (char)c;
    }
    int failed = c == EOF && ferror_unlocked(f);
    funlockfile(f);
    if (failed) {
        tc_fail("read failed: %s", strerror(errno ? errno : EIO));
        return -2;
    }
    if (c == EOF && n == 0) return -1;
    if (grow_line(line, cap, n + 1)) return -2;
    (*line)[n] = 0;
    if (!*over && n > 0 && (*line)[n - 1] == '\r') (*line)[--n] = 0;  // the line's own end
    if (n > TC_LINE_MAX) *over = 1;
    return (long)n;
}

// A NUL byte would cut the line short unseen wherever it is used as a C
// string: text files people write hold none.
static long refuse_nul(const char *line, long n) {
    const char *nul = memchr(line, 0, (size_t)n);
    if (!nul) return n;
    tc_fail("a NUL byte (byte %ld of the line); text files hold none", (long)(nul - line) + 1);
    return -2;
}

long tc_read_line(FILE *f, char **line, size_t *cap) {
    int over;
    long n = read_bounded(f, line, cap, 0, &over);
    if (n >= 0 && over) {
        tc_fail("a line longer than %d KiB", TC_LINE_MAX >> 10);
        return -2;
    }
    return n;
}

long tc_read_text_line(FILE *f, char **line, size_t *cap, long *line_no) {
    long n = tc_read_line(f, line, cap);
    if (n >= 0) n = refuse_nul(*line, n);
    if (n >= 0) ++*line_no;
    return n;
}

long tc_read_document_line(FILE *f, char **line, size_t *cap, int *cut) {
    int over;
    long n = read_bounded(f, line, cap, 1, &over);
    *cut = 0;
    if (n >= 0 && over) {
        n = (long)tc_utf8_cut(*line, (size_t)n, TC_LINE_MAX);
        (*line)[n] = 0;
        *cut = 1;
    }
    return n >= 0 ? refuse_nul(*line, n) : n;
}
