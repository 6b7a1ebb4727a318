#include "common/cli/cli.h"
#include "common/cli/config.h"
#include "common/redact.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const char *program_name = "tc";
static int log_verbosity = 1;
static int config_arg_count;     // leading arguments that came from --config
static const char *config_path;
static char **merged_arguments;  // lives as long as the program (argv points into it)
static int merged_first, merged_count;

static void free_merged_arguments(void) {
    for (int i = 0; i < merged_count; i++) free(merged_arguments[merged_first + i]);
    free(merged_arguments);
}

const char *tc_program_name(void) { return program_name; }
int tc_log_verbosity(void) { return log_verbosity; }

// Every message goes out through here, escaped: a class name or a server's
// reply inside it can neither drive the terminal nor split the line.
static void print_line(const char *kind, const char *text) {
    char escaped[4096];
    fprintf(stderr, "%s: %s%s\n", program_name, kind, tc_escape(escaped, sizeof escaped, text));
}

void tc_print_error(void) { print_line("", tc_error()[0] ? tc_error() : "failed"); }

static void vlog(const char *fmt, va_list ap) {
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    print_line("", line);
}

void tc_note(const char *fmt, ...) {
    if (log_verbosity < 1) return;
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void tc_verbose(const char *fmt, ...) {
    if (log_verbosity < 2) return;
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void tc_warn(const char *fmt, ...) {
    if (log_verbosity < 1) return;
    va_list ap;
    va_start(ap, fmt);
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    print_line("warning: ", line);
}

// A reader downstream that closed the pipe (`| head`) is a normal end for a
// filter: when a write to stdout failed because of it, the program ends
// quietly with 0, as if it had been told it was done. A named -o file never
// gets here (its FILE is not stdout).
static void end_if_stdout_closed(void) {
    if (!ferror(stdout)) return;
    struct pollfd p = {.fd = STDOUT_FILENO};
    if (poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP))) exit(TC_EXIT_OK);
}

_Noreturn void tc_cli_usage_error(const tc_cli *cli, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s --help' for more information.\n", cli->program);
    exit(TC_EXIT_USAGE);
}

_Noreturn void tc_cli_fail(const tc_cli *cli, const char *fmt, ...) {
    (void)cli;
    end_if_stdout_closed();
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
    exit(TC_EXIT_FAILURE);
}

_Noreturn void tc_cli_die(const tc_cli *cli) {
    (void)cli;
    end_if_stdout_closed();
    tc_print_error();
    exit(TC_EXIT_FAILURE);
}

// Finds --config FILE (or --config=FILE) on the command line.
static const char *find_config(int argc, char **argv) {
    const char *found = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], "--config") && i + 1 < argc) found = argv[++i];
        else if (!strncmp(argv[i], "--config=", 9)) found = argv[i] + 9;
    }
    return found;
}

// OpenBLAS (its pthread build) starts a thread per core as the program
// loads, and each spins in sched_yield for ~0.1 s before it sleeps: 0.1
// CPU-s per core at every start, beside the program's own threads (a
// one-document tc-predict on 2 cores: 250 ms of CPU, 145 ms with one
// OpenBLAS thread). Under an address-space limit (ulimit -v, as
// memory-bounded runs and tests use) those threads cannot get their buffers
// and the process hangs at its exit. Nothing needs them from the start: the
// CPU backend runs its own threads around single-threaded products, and
// tc-refine's similarity asks OpenBLAS for threads when it multiplies (it
// starts them then). So the program starts again at once (~6 ms) with
// OPENBLAS_NUM_THREADS=1, unless the environment sets it; once restarted,
// the variable is taken away again (children and the similarity see the
// environment as it was), except under the limit, where it stays.
#define BLAS_RESTARTED "TC_OPENBLAS_RESTARTED"

static void restart_with_one_blas_thread(char **argv) {
    struct rlimit limit;
    int limited = !getrlimit(RLIMIT_AS, &limit) && limit.rlim_cur != RLIM_INFINITY;
    if (getenv(BLAS_RESTARTED)) {
        unsetenv(BLAS_RESTARTED);
        if (!limited) unsetenv("OPENBLAS_NUM_THREADS");
        return;
    }
    if (getenv("OPENBLAS_NUM_THREADS")) return;
    if (setenv("OPENBLAS_NUM_THREADS", "1", 1) || setenv(BLAS_RESTARTED, "1", 1)) return;
    execv("/proc/self/exe", argv);  // on failure, go on as we are
    unsetenv(BLAS_RESTARTED);
    unsetenv("OPENBLAS_NUM_THREADS");
}

void tc_cli_init(tc_cli *cli, const char *program, const char *usage, int *argc, char ***argv,
                 int command_words) {
    memset(cli, 0, sizeof *cli);
    cli->program = program;
    cli->usage = usage;
    cli->verbosity = 1;
    cli->original_argc = *argc;
    cli->original_argv = *argv;
    cli->argc = *argc;
    cli->argv = *argv;
    program_name = program;
    restart_with_one_blas_thread(*argv);
    signal(SIGPIPE, SIG_IGN);  // a closed pipe becomes a write error (EPIPE), then a quiet end
    opterr = 0;                // tc_cli_option words usage errors itself

    const char *config = find_config(*argc, *argv);
    if (!config) return;
    int words = command_words > *argc ? *argc : command_words;
    const char *subcommand = words > 1 ? (*argv)[1] : NULL;
    char **args = NULL;
    int n = 0;
    if (tc_config_args(config, program, subcommand, &args, &n)) {
        tc_print_error();
        exit(TC_EXIT_USAGE);
    }
    char **merged = malloc((size_t)(*argc + n + 1) * sizeof *merged);
    if (!merged) {
        fprintf(stderr, "%s: out of memory\n", program);
        exit(TC_EXIT_FAILURE);
    }
    int k = 0;
    for (int i = 0; i < words; i++) merged[k++] = (*argv)[i];
    for (int i = 0; i < n; i++) merged[k++] = args[i];
    for (int i = words; i < *argc; i++) merged[k++] = (*argv)[i];
    merged[k] = NULL;
    merged_arguments = merged;
    merged_first = words;
    merged_count = n;
    atexit(free_merged_arguments);
    free(args);  // the strings live on in merged, for the program's lifetime
    cli->config = config;
    config_path = config;
    config_arg_count = n;
    cli->argc = *argc = k;
    cli->argv = *argv = merged;
}

int tc_cli_getopt(tc_cli *cli, int argc, char **argv, const char *short_options,
                  const struct option *long_options) {
    char shorts[128];
    snprintf(shorts, sizeof shorts, ":%s%s", short_options ? short_options : "", TC_CLI_SHORT);
    (void)cli;
    return getopt_long(argc, argv, shorts, long_options, NULL);
}

static int from_config(void) {
    // optind has moved past the offending argument.
    return config_path && optind - 1 >= 1 && optind - 1 <= config_arg_count;
}

void tc_cli_option(tc_cli *cli, int opt, const char *arg) {
    switch (opt) {
    case 'h':
        fputs(cli->usage, stdout);
        exit(TC_EXIT_OK);
    case TC_OPT_VERSION:
        printf("%s (teleclass-c) %s\n", cli->program, TC_VERSION);
        exit(TC_EXIT_OK);
    case TC_OPT_CONFIG: cli->config = arg; return;
    case 'q': cli->verbosity = log_verbosity = 0; return;
    case 'v': cli->verbosity = log_verbosity = 2; return;
    case TC_OPT_PROGRESS: cli->progress = 1; return;
    case 'f': cli->force = 1; return;
    case 'o': cli->output = arg; return;
    case TC_OPT_THREADS: cli->threads = (int)tc_cli_parse_int(cli, "--threads", arg, 1, 4096); return;
    case TC_OPT_LEVEL: cli->level = (int)tc_cli_parse_int(cli, "--level", arg, -7, 22); return;
    case TC_OPT_GPUS: cli->gpus = arg; return;
    case ':':
        tc_cli_usage_error(cli, "option '%s' needs a value%s", cli->argv[optind - 1],
                           from_config() ? " (from --config)" : "");
    default: {
        const char *word = optind - 1 < cli->argc ? cli->argv[optind - 1] : "?";
        if (optopt && optopt < 256 && word[0] == '-' && word[1] != '-')
            tc_cli_usage_error(cli, "unknown option '-%c'", optopt);
        if (from_config()) tc_cli_usage_error(cli, "%s: unknown setting '%s'", config_path, word + 2);
        tc_cli_usage_error(cli, "unknown option '%s'", word);
    }
    }
}

int tc_cli_threads(const tc_cli *cli) {
    if (cli->threads > 0) return cli->threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

long long tc_cli_parse_int(const tc_cli *cli, const char *option, const char *arg, long long min, long long max) {
    char *end;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (errno || end == arg || *end || v < min || v > max)
        tc_cli_usage_error(cli, "%s: '%s' is not an integer in %lld..%lld", option, arg, min, max);
    return v;
}

double tc_cli_parse_double(const tc_cli *cli, const char *option, const char *arg, double min, double max) {
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno || end == arg || *end || !isfinite(v) || v < min || v > max)
        tc_cli_usage_error(cli, "%s: '%s' is not a number in %g..%g", option, arg, min, max);
    return v;
}

// The command line as one string, words with spaces or quotes
// single-quoted, the secrets of URLs in them masked (tc_redact_urls).
static const char *joined_arguments(const tc_cli *cli) {
    static char text[4096];
    char a[sizeof text];
    size_t at = 0;
    for (int i = 1; i < cli->original_argc && at + 4 < sizeof text; i++) {
        tc_redact_urls(a, sizeof a, cli->original_argv[i]);
        int quote = a[0] == 0 || strpbrk(a, " \t\n'\"\\$*?") != NULL;
        if (i > 1) text[at++] = ' ';
        if (quote) text[at++] = '\'';
        for (const char *p = a; *p && at + 6 < sizeof text; p++) {
            if (*p == '\'' && quote) {
                memcpy(text + at, "'\\''", 4);
                at += 4;
            } else {
                text[at++] = *p;
            }
        }
        if (quote) text[at++] = '\'';
    }
    text[at] = 0;
    if (!tct_utf8_valid(text, at))  // provenance must be UTF-8: mask stray bytes
        for (size_t i = 0; i < at; i++)
            if ((unsigned char)text[i] >= 0x80) text[i] = '?';
    return text;
}

size_t tc_cli_provenance(const tc_cli *cli, tct_attr *attrs) {
    static char created[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    size_t n = 0;
    attrs[n++] = (tct_attr){"program", cli->program};
    attrs[n++] = (tct_attr){"version", TC_VERSION};
    attrs[n++] = (tct_attr){"arguments", joined_arguments(cli)};
    attrs[n++] = (tct_attr){"created", created};
    if (cli->config) attrs[n++] = (tct_attr){"config", cli->config};
    return n;
}
