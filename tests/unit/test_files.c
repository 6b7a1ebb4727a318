// The run's files (common/cli/files.h): an output that is the same file as
// an input or another output, by any name, is refused; what is not there
// yet is compared by directory and name; devices are never the same file;
// an output must be creatable; the directory lock names its holder.
#include "tests/harness.h"
#include "common/cli/files.h"
#include "common/cli/io.h"
#include "common/error.h"

#include <sys/stat.h>
#include <unistd.h>

static char paths[8][512];
static const char *in_tmp(int slot, const char *name) {
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", harness_tmpdir(), name);
    return paths[slot];
}

static void touch(const char *path) {
    FILE *f = fopen(path, "w");
    if (f) fclose(f);
}

static void test_same_file_by_any_name(void) {
    const char *input = in_tmp(0, "in.txt"), *symbolic = in_tmp(1, "link.txt"), *hard = in_tmp(2, "hard.txt");
    touch(input);
    unlink(symbolic), unlink(hard);
    REQUIRE(symlink(input, symbolic) == 0 && link(input, hard) == 0);
    tc_files_reset();
    tc_files_input("--corpus", input);
    tc_files_output("--docs-out", symbolic);
    CHECK(tc_files_check() == -1);
    CHECKF(strstr(tc_error(), "--docs-out") && strstr(tc_error(), "is the same file as --corpus"), "%s", tc_error());
    tc_files_reset();
    tc_files_input(NULL, input);
    tc_files_output("-o", hard);
    CHECK(tc_files_check() == -1);
    CHECKF(strstr(tc_error(), "the input"), "%s", tc_error());
    // two inputs may be one file
    tc_files_reset();
    tc_files_input("--a", input);
    tc_files_input("--b", hard);
    CHECK(tc_files_check() == 0);
}

static void test_outputs_not_there_yet(void) {
    char dotted[600];
    const char *a = in_tmp(0, "new.tct");
    unlink(a);
    snprintf(dotted, sizeof dotted, "%s/./new.tct", harness_tmpdir());
    tc_files_reset();
    tc_files_output("--candidates", a);
    tc_files_output("-o", dotted);
    CHECK(tc_files_check() == -1);
    CHECKF(strstr(tc_error(), "--candidates") && strstr(tc_error(), "same file as -o"), "%s", tc_error());
    tc_files_reset();
    tc_files_input("--gold", in_tmp(1, "missing.txt"));  // a missing input is the reader's to report
    tc_files_output("-o", a);
    CHECK(tc_files_check() == 0);
}

static void test_streams_and_devices(void) {
    tc_files_reset();
    tc_files_output("--report", "-");
    tc_files_output("-o", "-");
    CHECK(tc_files_check() == -1);
    CHECKF(strstr(tc_error(), "both write to stdout"), "%s", tc_error());
    tc_files_reset();
    tc_files_input(NULL, "/dev/null");
    tc_files_output("--report", "/dev/null");
    tc_files_output("-o", "/dev/null");
    CHECK(tc_files_check() == 0);
    tc_output out;  // written in place: no temporary file beside /dev/null
    REQUIRE(tc_output_open(&out, "/dev/null", 0, 1) == 0);
    CHECK(out.temp_path == NULL);
    fputs("x\n", out.f);
    CHECK(tc_output_commit(&out) == 0);
    REQUIRE(tc_output_open(&out, "/dev/full", 0, 1) == 0);
    fputs("x\n", out.f);
    CHECK(tc_output_commit(&out) == -1);
    CHECKF(!strcmp(tc_error(), "/dev/full: write failed: No space left on device"), "%s", tc_error());
}

static void test_outputs_must_be_creatable(void) {
    const char *dir = in_tmp(0, "a_dir"), *file = in_tmp(1, "a_file"), *missing = in_tmp(2, "nowhere/x");
    mkdir(dir, 0777);
    touch(file);
    tc_files_reset();
    tc_files_output("-o", dir);
    CHECK(tc_files_check() == -1);
    CHECKF(strstr(tc_error(), "is a directory"), "%s", tc_error());
    tc_files_reset();
    tc_files_output("-o", missing);
    CHECK(tc_files_check() == -1);
    CHECKF(strstr(tc_error(), "cannot create") && strstr(tc_error(), "No such file or directory"), "%s", tc_error());
    tc_files_reset();
    tc_files_output_dir("-o", file);
    CHECK(tc_files_check() == -1);
    CHECKF(strstr(tc_error(), "not a directory"), "%s", tc_error());
    // the log inside a run directory the run will make
    char run[600], log[620];
    snprintf(run, sizeof run, "%s/new_run", harness_tmpdir());
    snprintf(log, sizeof log, "%s/log.jsonl", run);
    rmdir(run);
    tc_files_reset();
    tc_files_output_dir("-o", run);
    tc_files_output("--log", log);
    CHECKF(tc_files_check() == 0, "%s", tc_error());
    tc_files_reset();
}

static void test_lock_names_its_holder(void) {
    const char *dir = in_tmp(0, "locked");
    REQUIRE(tc_lock_dir(dir) == 0);
    // a second open file description conflicts even in this process
    CHECK(tc_lock_dir(dir) == -1);
    char want[64];
    snprintf(want, sizeof want, "in use by another run (pid %ld on ", (long)getpid());
    CHECKF(strstr(tc_error(), want), "%s", tc_error());
}

int main(void) {
    RUN(test_same_file_by_any_name);
    RUN(test_outputs_not_there_yet);
    RUN(test_streams_and_devices);
    RUN(test_outputs_must_be_creatable);
    RUN(test_lock_names_its_holder);
    HARNESS_EXIT();
}
