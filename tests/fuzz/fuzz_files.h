// Helpers for fuzz targets whose parsers read files by path (a model
// directory, a taxonomy's two files): the input is split on FUZZ_SEP into
// the files' contents, written into one temporary directory per process
// (removed at exit). A part that is absent (fewer separators) leaves its
// file absent, so the "missing file" paths are fuzzed too.
#ifndef TC_FUZZ_FILES_H
#define TC_FUZZ_FILES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// Between two files of one input; the seeds and the dictionaries use it.
#define FUZZ_SEP "\n--tc-fuzz-file--\n"
enum { FUZZ_MAX_PARTS = 8 };

typedef struct {
    const uint8_t *data;
    size_t size;
} fuzz_part;

static char fuzz_dir_path[256];

static inline void fuzz_dir_remove(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir_path);
    if (fuzz_dir_path[0] && system(cmd) != 0) fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir_path);
}

// The per-process directory, made on first use.
static inline const char *fuzz_dir(void) {
    if (!fuzz_dir_path[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/tc-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(fuzz_dir_path)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(fuzz_dir_remove);
    }
    return fuzz_dir_path;
}

// With FUZZ_VERBOSE=1 in the environment, what each parser said (for
// checking that the seeds get past the first error, and for triage);
// returns rc.
const char *tc_error(void);
static inline int fuzz_note(const char *what, int rc) {
    static int verbose = -1;
    if (verbose < 0) verbose = getenv("FUZZ_VERBOSE") && *getenv("FUZZ_VERBOSE") == '1';
    if (verbose) fprintf(stderr, "fuzz: %s: %s\n", what, rc ? tc_error() : "ok");
    return rc;
}

// Splits data on FUZZ_SEP into at most max parts (the last takes the rest);
// returns how many there are.
static inline int fuzz_split(const uint8_t *data, size_t size, fuzz_part *parts, int max) {
    const size_t sep_len = sizeof FUZZ_SEP - 1;
    int n = 0;
    size_t start = 0;
    while (n < max - 1) {
        const uint8_t *hit = size - start >= sep_len ? memmem(data + start, size - start, FUZZ_SEP, sep_len) : NULL;
        if (!hit) break;
        parts[n++] = (fuzz_part){data + start, (size_t)(hit - (data + start))};
        start = (size_t)(hit - data) + sep_len;
    }
    parts[n++] = (fuzz_part){data + start, size - start};
    return n;
}

// dir/name, written with the part's bytes (or removed when part is NULL);
// returns the path (a static buffer per call site is the caller's business).
static inline const char *fuzz_file(char *path, size_t path_size, const char *name, const fuzz_part *part) {
    snprintf(path, path_size, "%s/%s", fuzz_dir(), name);
    char *slash = strrchr(path, '/');
    if (slash && slash > path + strlen(fuzz_dir())) {  // a sub-directory (1_Pooling/config.json)
        *slash = 0;
        mkdir(path, 0700);
        *slash = '/';
    }
    if (!part) {
        unlink(path);
        return path;
    }
    FILE *f = fopen(path, "wb");
    if (!f || (part->size && fwrite(part->data, 1, part->size, f) != part->size) || fclose(f)) {
        perror(path);
        abort();
    }
    return path;
}

#endif
