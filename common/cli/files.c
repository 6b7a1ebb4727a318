#include "common/cli/files.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

// More than any program names (tc-taxo build: 64 key-term files and three
// more); beyond it files go unchecked rather than refusing a good run.
enum { MAX_FILES = 256 };

typedef enum { ROLE_INPUT, ROLE_OUTPUT, ROLE_OUTPUT_DIR } file_role;

typedef struct {
    const char *option;  // NULL: the positional input
    const char *path;
    file_role role;
} file_entry;

static file_entry files[MAX_FILES];
static int n_files;
static char *owned[MAX_FILES];  // paths built here (a model directory's files)
static int n_owned;

static void add(file_role role, const char *option, const char *path) {
    if (path && n_files < MAX_FILES) files[n_files++] = (file_entry){option, path, role};
}

void tc_files_input(const char *option, const char *path) { add(ROLE_INPUT, option, path); }
void tc_files_output(const char *option, const char *path) { add(ROLE_OUTPUT, option, path); }
void tc_files_output_dir(const char *option, const char *path) { add(ROLE_OUTPUT_DIR, option, path); }
void tc_files_reset(void) {
    for (int i = 0; i < n_owned; i++) free(owned[i]);
    n_files = n_owned = 0;
}

void tc_files_input_model(const char *option, const char *dir) {
    static const char *const names[] = {
        "config.json",       "model.safetensors", "vocab.txt",       "tokenizer_config.json",
        "tokenizer.json",    "special_tokens_map.json",              "modules.json",
        "sentence_bert_config.json",             "1_Pooling/config.json", "classifier.json",
        "head.safetensors",  "optimizer.safetensors", "trainer_state.json", "taxonomy.tct"};
    for (size_t i = 0; dir && i < sizeof names / sizeof *names && n_owned < MAX_FILES; i++) {
        size_t size = strlen(dir) + strlen(names[i]) + 2;
        char *path = malloc(size);
        if (!path) return;  // unchecked rather than refused: the run itself will say
        snprintf(path, size, "%s/%s", dir, names[i]);
        owned[n_owned++] = path;
        tc_files_input(option, path);
    }
}

static int is_stream(const file_entry *e) { return !strcmp(e->path, "-"); }

// What a file is, to compare: an existing regular file or directory by
// device and inode; an output not there yet by its directory's device and
// inode and its name.
typedef struct {
    int known;
    dev_t dev;
    ino_t ino;
    const char *name;  // non-NULL: not there yet, (dev, ino) is its directory's
} identity;

// The directory part of `path` ("." for a bare name) into `dir`.
static void directory_of(const char *path, char *dir, size_t size) {
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, size, ".");
    else if (slash == path) snprintf(dir, size, "/");
    else snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

static identity identify(const file_entry *e) {
    identity id = {0};
    struct stat st;
    int found = is_stream(e) ? fstat(e->role == ROLE_INPUT ? STDIN_FILENO : STDOUT_FILENO, &st) == 0
                             : stat(e->path, &st) == 0;
    if (found) {
        // devices and FIFOs are written in place: nothing gets replaced
        if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) id = (identity){1, st.st_dev, st.st_ino, NULL};
        return id;
    }
    if (is_stream(e) || e->role == ROLE_INPUT || errno != ENOENT) return id;
    char dir[4096];
    directory_of(e->path, dir, sizeof dir);
    const char *slash = strrchr(e->path, '/');
    if (stat(dir, &st) == 0) id = (identity){1, st.st_dev, st.st_ino, slash ? slash + 1 : e->path};
    return id;
}

static int same(const identity *a, const identity *b) {
    if (!a->known || !b->known || a->dev != b->dev || a->ino != b->ino || !a->name != !b->name) return 0;
    return !a->name || !strcmp(a->name, b->name);
}

// "--corpus c.txt", "the input c.txt", "stdout"
static const char *describe(const file_entry *e, char *buf, size_t size) {
    if (is_stream(e)) snprintf(buf, size, "%s", e->role == ROLE_INPUT ? "stdin" : "stdout");
    else snprintf(buf, size, "%s %s", e->option ? e->option : "the input", e->path);
    return buf;
}

static int conflict(const file_entry *a, const file_entry *b) {
    char first[4200], second[4200];
    // an output first: it is what would replace the other
    if (a->role == ROLE_INPUT) {
        const file_entry *t = a;
        a = b, b = t;
    }
    if (is_stream(a) && is_stream(b) && b->role != ROLE_INPUT)
        return tc_fail("%s - and %s - both write to stdout", a->option, b->option);
    return tc_fail("%s is the same file as %s", describe(a, first, sizeof first), describe(b, second, sizeof second));
}

static int check_conflicts(void) {
    identity ids[MAX_FILES];
    for (int i = 0; i < n_files; i++) ids[i] = identify(&files[i]);
    for (int i = 0; i < n_files; i++)
        for (int j = i + 1; j < n_files; j++) {
            const file_entry *a = &files[i], *b = &files[j];
            if (a->role == ROLE_INPUT && b->role == ROLE_INPUT) continue;
            int both_stdout = is_stream(a) && is_stream(b) && a->role != ROLE_INPUT && b->role != ROLE_INPUT;
            if (both_stdout || same(&ids[i], &ids[j])) return conflict(a, b);
        }
    return 0;
}

static int writable_directory(const file_entry *e, const char *dir) {
    struct stat st;
    if (stat(dir, &st) != 0) return tc_fail("%s %s: cannot create: %s: %s", e->option, e->path, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return tc_fail("%s %s: cannot create: %s is not a directory", e->option, e->path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return tc_fail("%s %s: cannot create: %s: %s", e->option, e->path, dir, strerror(errno));
    return 0;
}

static int made_by_run(const char *dir) {
    for (int i = 0; i < n_files; i++)
        if (files[i].role == ROLE_OUTPUT_DIR && !strcmp(files[i].path, dir)) return 1;
    return 0;
}

// An output must be creatable before the work that fills it starts.
static int check_creatable(const file_entry *e) {
    struct stat st;
    char dir[4096];
    if (is_stream(e)) return 0;
    if (stat(e->path, &st) == 0) {
        if (e->role == ROLE_OUTPUT_DIR) {
            if (!S_ISDIR(st.st_mode)) return tc_fail("%s %s: not a directory", e->option, e->path);
            return writable_directory(e, e->path);
        }
        if (S_ISDIR(st.st_mode)) return tc_fail("%s %s: is a directory", e->option, e->path);
        if (!S_ISREG(st.st_mode)) return 0;  // a device or a FIFO, written in place
    } else if (errno != ENOENT) {
        return tc_fail("%s %s: %s", e->option, e->path, strerror(errno));
    }
    directory_of(e->path, dir, sizeof dir);
    if (access(dir, F_OK) != 0 && errno == ENOENT && made_by_run(dir)) return 0;  // the log in a new run directory
    return writable_directory(e, dir);
}

int tc_files_check(void) {
    if (check_conflicts()) return -1;
    for (int i = 0; i < n_files; i++)
        if (files[i].role != ROLE_INPUT && check_creatable(&files[i])) return -1;
    return 0;
}

void tc_cli_check_files(const tc_cli *cli) {
    int named = 0;
    for (int i = 0; i < n_files; i++) named |= files[i].option && !strcmp(files[i].option, "-o");
    if (!named) tc_files_output("-o", cli->output ? cli->output : "-");
    if (tc_files_check()) tc_cli_die(cli);
}

// ---------------------------------------------------------------- lock

static void lock_holder(int fd, char *holder, size_t size) {
    ssize_t n = pread(fd, holder, size - 1, 0);
    holder[n > 0 ? n : 0] = 0;
    holder[strcspn(holder, "\n")] = 0;
    if (!holder[0]) snprintf(holder, size, "holder unknown");
}

int tc_lock_dir(const char *dir) {
    char path[4096], me[512], host[256] = "";
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return tc_fail("%s: cannot create: %s", dir, strerror(errno));
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return tc_fail("%s: cannot create: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char holder[256];
        lock_holder(fd, holder, sizeof holder);
        close(fd);
        if (err == EWOULDBLOCK) return tc_fail("%s: in use by another run (%s)", dir, holder);
        return tc_fail("%s: cannot lock: %s", path, strerror(err));
    }
    if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "?");
    int len = snprintf(me, sizeof me, "pid %ld on %s\n", (long)getpid(), host);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, me, (size_t)len, 0) != len) {
        int rc = tc_fail("%s: write failed: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    return 0;  // fd stays open: the lock lasts as long as the process
}
