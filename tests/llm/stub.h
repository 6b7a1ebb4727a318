// Starts and stops the stub chat server (tests/llm/stub_server.py) from C
// unit tests, and counts the requests it logged.
#ifndef TC_TEST_LLM_STUB_H
#define TC_TEST_LLM_STUB_H

#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct {
    pid_t pid;
    char url[128];
    char log[512];
    int port;
} stub_server;

// 0 when started; -1 (with a note on stdout) when python3 or the script is missing.
static inline int stub_start(stub_server *s, const char *faults, double sleep_s) {
    memset(s, 0, sizeof *s);
    const char *root = getenv("TC_ROOT");
    char script[512], port_file[600], sleep_text[32];
    snprintf(script, sizeof script, "%s/tests/llm/stub_server.py", root ? root : ".");
    static int serial;
    snprintf(s->log, sizeof s->log, "%s/stub-%d-%d.log", harness_tmpdir(), (int)getpid(), serial++);
    snprintf(port_file, sizeof port_file, "%s.port", s->log);
    snprintf(sleep_text, sizeof sleep_text, "%g", sleep_s);
    unlink(port_file);
    const char *python = getenv("PYTHON") ? getenv("PYTHON") : "python3";
    char *argv[] = {(char *)python, script, "--port-file", port_file, "--log", s->log, "--faults",
                    (char *)(faults ? faults : ""), "--sleep", sleep_text, NULL};
    if (posix_spawnp(&s->pid, python, NULL, NULL, argv, environ)) return -1;
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            int ok = fscanf(f, "%d", &s->port) == 1;
            fclose(f);
            if (ok) {
                snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d/v1", s->port);
                unlink(port_file);
                return 0;
            }
        }
        usleep(50000);
    }
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
    return -1;
}

static inline long stub_requests(const stub_server *s) {
    FILE *f = fopen(s->log, "r");
    if (!f) return -1;
    long n = 0;
    int c;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

// 1 if the log holds `text` somewhere.
static inline int stub_log_has(const stub_server *s, const char *text) {
    FILE *f = fopen(s->log, "r");
    if (!f) return 0;
    char line[1 << 16];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

static inline void stub_stop(stub_server *s) {
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
    unlink(s->log);
}

#endif
