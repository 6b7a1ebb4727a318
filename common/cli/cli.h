// The command-line contract every program follows (DESIGN section 3):
// --help, --version, exit codes 0/1/2, one-line errors naming the file,
// --config YAML whose settings the command line overrides, -q/-v,
// --progress, --threads, --gpus, -o with atomic replacement, and a refusal to
// write binary tensors to a terminal.
//
// A program's main:
//
//   static const char usage[] = "usage: tc-x [options] [FILE]\n...";
//   static const struct option options[] = {
//       {"top-k", required_argument, 0, 'k'},
//       TC_CLI_COMMON_OPTIONS, TC_CLI_GPU_OPTIONS, {0}};
//   tc_cli cli;
//   tc_cli_init(&cli, "tc-x", usage, &argc, &argv, 1);  // exits on --config errors
//   while ((c = tc_cli_getopt(&cli, argc, argv, "k:", options)) != -1)
//       switch (c) {
//       case 'k': ...; break;
//       default: tc_cli_option(&cli, c, optarg);      // exits on unknown options
//       }
#ifndef TC_CLI_H
#define TC_CLI_H

#include <getopt.h>
#include <stdio.h>
#include <stdint.h>

#include "common/error.h"
#include "formats/tct.h"

enum { TC_EXIT_OK = 0, TC_EXIT_FAILURE = 1, TC_EXIT_USAGE = 2 };

enum {
    TC_OPT_CONFIG = 1000,
    TC_OPT_VERSION,
    TC_OPT_PROGRESS,
    TC_OPT_THREADS,
    TC_OPT_LEVEL,
    TC_OPT_GPUS,
    TC_OPT_FIRST_PROGRAM = 1100,  // programs number their own long-only options from here
};

#define TC_CLI_SHORT "hqvfo:"
#define TC_CLI_COMMON_OPTIONS                                                                   \
    {"help", no_argument, 0, 'h'}, {"version", no_argument, 0, TC_OPT_VERSION},                 \
        {"config", required_argument, 0, TC_OPT_CONFIG}, {"quiet", no_argument, 0, 'q'},        \
        {"verbose", no_argument, 0, 'v'}, {"progress", no_argument, 0, TC_OPT_PROGRESS},        \
        {"threads", required_argument, 0, TC_OPT_THREADS}, {"output", required_argument, 0, 'o'}, \
        {"force", no_argument, 0, 'f'}, {"level", required_argument, 0, TC_OPT_LEVEL}
#define TC_CLI_GPU_OPTIONS {"gpus", required_argument, 0, TC_OPT_GPUS}

// The common options' lines for a program's usage text.
#define TC_CLI_COMMON_HELP                                                          \
    "  -o, --output FILE   write to FILE (atomically: temporary file, then rename)\n" \
    "  -f, --force         write binary tensors even to a terminal\n"                 \
    "      --level N       zstd compression level of tensor output (default 3)\n"     \
    "      --threads N     CPU threads (default: all cores)\n"                        \
    "      --progress      show progress even when stderr is not a terminal\n"        \
    "  -q, --quiet         no progress or notes; errors only\n"                       \
    "  -v, --verbose       more detail on stderr\n"                                   \
    "      --config FILE   read settings from this program's section of a YAML file\n" \
    "  -h, --help          this help\n"                                               \
    "      --version       print the version\n"
#define TC_CLI_GPU_HELP \
    "      --gpus LIST     GPUs to use: 0,2,3 | all | none (default: all visible, else CPU)\n"

typedef struct {
    const char *program;      // "tc-dump"
    const char *usage;        // --help text
    int verbosity;            // 0 quiet, 1 normal, 2 verbose
    int progress;             // 1 forced on by --progress
    int threads;              // 0: all cores
    const char *gpus;         // --gpus as given, NULL if not given
    int level;                // zstd level, 0 = default
    const char *output;       // -o FILE, NULL for stdout
    int force;                // -f
    const char *config;       // --config FILE
    int original_argc;        // the command line as typed, for provenance
    char **original_argv;
    char **argv;              // config settings followed by the command line
    int argc;
} tc_cli;

// Sets up the program: stderr messages, SIGPIPE ignored (write errors are
// reported instead), and --config merged in front of the command line.
// `command_words` is 1, or 2 for programs with subcommands (`tc-taxo build`),
// whose config section may have one nested section per subcommand.
// Replaces *argc/*argv with the merged list. Exits 2 on a bad config file.
void tc_cli_init(tc_cli *cli, const char *program, const char *usage, int *argc, char ***argv,
                 int command_words);

// getopt_long over the program's short options plus the common ones, set up
// so that a missing value is told apart from an unknown option.
int tc_cli_getopt(tc_cli *cli, int argc, char **argv, const char *short_options,
                  const struct option *long_options);

// Handles a common option (or '?' from getopt): returns for handled options,
// exits for --help/--version (0) and unknown options (2).
void tc_cli_option(tc_cli *cli, int opt, const char *arg);

// Prints "program: message" and exits 2 (usage error) or 1 (runtime error).
// tc_cli_fail and tc_cli_die end quietly with 0 instead when a write to
// stdout failed because the reader downstream closed the pipe (`| head`).
_Noreturn void tc_cli_usage_error(const tc_cli *cli, const char *fmt, ...) TC_PRINTF(2, 3);
_Noreturn void tc_cli_fail(const tc_cli *cli, const char *fmt, ...) TC_PRINTF(2, 3);
// Prints "program: <tc_error()>", escaped as every message is (tc_escape).
void tc_print_error(void);
// Prints "program: <tc_error()>" and exits 1.
_Noreturn void tc_cli_die(const tc_cli *cli);

// Resolved thread count (never below 1).
int tc_cli_threads(const tc_cli *cli);

// Provenance for tensor output: program, version, arguments, created.
// Valid while cli lives. Returns the count written to attrs (at most 6).
size_t tc_cli_provenance(const tc_cli *cli, tct_attr *attrs);

// Parsing helpers for option values; exit 2 with a message naming the option.
long long tc_cli_parse_int(const tc_cli *cli, const char *option, const char *arg, long long min, long long max);
double tc_cli_parse_double(const tc_cli *cli, const char *option, const char *arg, double min, double max);

// Messages on stderr, "program: ...", subject to -q/-v.
void tc_note(const char *fmt, ...) TC_PRINTF(1, 2);     // normal verbosity
void tc_verbose(const char *fmt, ...) TC_PRINTF(1, 2);  // -v only
void tc_warn(const char *fmt, ...) TC_PRINTF(1, 2);     // always, unless -q
int tc_log_verbosity(void);
const char *tc_program_name(void);

#endif
