// The files a run reads and writes, named before any work so that one check
// can refuse what would otherwise be found out too late or never:
//   - an output that is the same file as an input or as another output
//     (device and inode, whatever the names: a hard link, a symlink, ./x
//     and x), which would silently replace it;
//   - an output that cannot be created (its directory is missing or not
//     writable, or it names a directory), which would fail only after all
//     the work.
//
//   tc_files_input("--corpus", corpus);      // NULL option: the positional input
//   tc_files_output("--docs-out", docs_out);
//   tc_cli_check_files(&cli);                // -o is added; exits 1 with one line
//
// "-" is stdin for an input and stdout for an output: compared by what the
// descriptor is, when it is a regular file; two outputs to stdout are refused.
// Character devices and FIFOs (/dev/null, a named pipe) are never "the same
// file": writing one does not replace anything.
#ifndef TC_CLI_FILES_H
#define TC_CLI_FILES_H

#include "common/cli/cli.h"

// Records a file the run reads or writes (`path` must outlive the check;
// NULL paths are ignored). `option` names it in messages: "--corpus", or NULL
// for the positional input ("the input").
void tc_files_input(const char *option, const char *path);
void tc_files_output(const char *option, const char *path);
// The files of a model directory (Hugging Face layout, or a checkpoint
// tc-train wrote) as inputs, those that are there.
void tc_files_input_model(const char *option, const char *dir);
// A directory the run creates or fills (tc-train -o RUN).
void tc_files_output_dir(const char *option, const char *path);

// 0, or -1 after tc_fail with the first conflict or uncreatable output.
int tc_files_check(void);
// Adds cli->output as "-o" (stdout when NULL) unless the program named -o
// itself, runs tc_files_check and exits 1 on a problem.
void tc_cli_check_files(const tc_cli *cli);
// Forgets what was recorded (for tests that check several command lines).
void tc_files_reset(void);

// Locks a directory for this process (flock on DIR/.lock, which records the
// holder's pid and host). The lock goes with the process, however it ends.
// Fails at once, naming the holder, when another process has it.
int tc_lock_dir(const char *dir);

#endif
