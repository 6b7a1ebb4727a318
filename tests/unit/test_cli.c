// The command-line contract pieces that are plain functions: --config YAML
// to arguments, --gpus parsing, atomic output.
#include "tests/harness.h"
#include "common/cli/config.h"
#include "common/comm/devices.h"
#include "common/error.h"
#include "common/cli/io.h"

#include <sys/stat.h>
#include <unistd.h>


static int args_equal(char **args, int n, const char *const *expected, int n_expected) {
    if (n != n_expected) {
        printf("  got %d arguments, expected %d:", n, n_expected);
        for (int i = 0; i < n; i++) printf(" [%s]", args[i]);
        printf("\n");
        return 0;
    }
    for (int i = 0; i < n; i++)
        if (strcmp(args[i], expected[i])) {
            printf("  argument %d is [%s], expected [%s]\n", i, args[i], expected[i]);
            return 0;
        }
    return 1;
}

static void free_args(char **args, int n) {
    for (int i = 0; i < n; i++) free(args[i]);
    free(args);
}

static void test_config_sections_become_arguments(void) {
    const char *path = harness_write_file("c.yaml",
                                  "# settings\n"
                                  "tc-encode:\n"
                                  "  batch-size: 64\n"
                                  "  normalize: false\n"
                                  "  progress: true\n"
                                  "  gpus: \"0,1\"\n"
                                  "  window:\n"
                                  "encode:\n"
                                  "  pooling: mean\n"
                                  "tc-taxo:\n"
                                  "  verbose: yes\n"
                                  "  build:\n"
                                  "    labels: labels.txt\n"
                                  "  show:\n"
                                  "    paths: true\n"
                                  "tc-dump:\n"
                                  "  tensor: [a, b]\n"
                                  "tc-eval:\n"
                                  "  # nothing set\n");
    char **args = NULL;
    int n = 0;
    REQUIRE(tc_config_args(path, "tc-encode", NULL, &args, &n) == 0);
    const char *encode[] = {"--batch-size", "64", "--no-normalize", "--progress", "--gpus", "0,1", "--pooling", "mean"};
    CHECK(args_equal(args, n, encode, 8));
    free_args(args, n);

    args = NULL, n = 0;
    REQUIRE(tc_config_args(path, "tc-taxo", "build", &args, &n) == 0);
    const char *taxo[] = {"--verbose", "--labels", "labels.txt"};
    CHECK(args_equal(args, n, taxo, 3));
    free_args(args, n);

    args = NULL, n = 0;
    REQUIRE(tc_config_args(path, "tc-dump", NULL, &args, &n) == 0);
    const char *dump[] = {"--tensor", "a", "--tensor", "b"};
    CHECK(args_equal(args, n, dump, 4));
    free_args(args, n);

    args = NULL, n = 0;
    REQUIRE(tc_config_args(path, "tc-train", NULL, &args, &n) == 0);
    CHECK(n == 0);
    free(args);

    args = NULL, n = 0;  // a section with only comments sets nothing
    REQUIRE(tc_config_args(path, "tc-eval", NULL, &args, &n) == 0);
    CHECK(n == 0);
    free(args);
}

static void test_config_errors(void) {
    char **args = NULL;
    int n = 0;
    const char *path = harness_write_file("bad.yaml", "tc-encode:\n  batch-size: [1, [2]]\n");
    CHECK(tc_config_args(path, "tc-encode", NULL, &args, &n) == -1);
    CHECKF(strstr(tc_error(), "must list plain values") != NULL, "%s", tc_error());
    free_args(args, n);
    args = NULL, n = 0;
    path = harness_write_file("broken.yaml", "tc-encode: {batch-size: 1\n");
    CHECK(tc_config_args(path, "tc-encode", NULL, &args, &n) == -1);
    CHECKF(strstr(tc_error(), "line") != NULL, "%s", tc_error());
    path = harness_write_file("list.yaml", "- a\n- b\n");
    CHECK(tc_config_args(path, "tc-encode", NULL, &args, &n) == -1);
    CHECK(tc_config_args("/nonexistent/x.yaml", "tc-encode", NULL, &args, &n) == -1);
    CHECKF(strstr(tc_error(), "/nonexistent/x.yaml: cannot open") != NULL, "%s", tc_error());
    path = harness_write_file("empty.yaml", "");
    CHECK(tc_config_args(path, "tc-encode", NULL, &args, &n) == 0 && n == 0);
}

static void test_gpus_parsing(void) {
    tc_devices d;
    CHECK(tc_devices_parse("none", 4, "", &d) == 0 && d.n_gpus == 0);
    CHECK(tc_devices_parse("cpu", 0, "", &d) == 0 && d.n_gpus == 0);
#if TC_HAVE_CUDA
    CHECK(tc_devices_parse(NULL, 3, "", &d) == 0 && d.n_gpus == 3 && d.gpus[2] == 2);
    CHECK(tc_devices_parse("all", 2, "", &d) == 0 && d.n_gpus == 2);
    CHECK(tc_devices_parse("0,2,3", 4, "", &d) == 0 && d.n_gpus == 3 && d.gpus[1] == 2 && d.gpus[2] == 3);
    CHECK(tc_devices_parse("4", 4, "", &d) == -1);
    CHECKF(strstr(tc_error(), "there is no GPU 4 (4 visible: 0..3)") != NULL, "%s", tc_error());
    CHECK(tc_devices_parse("0,0", 4, "", &d) == -1 && strstr(tc_error(), "twice"));
    CHECK(tc_devices_parse("0,x", 4, "", &d) == -1 && strstr(tc_error(), "expected a list"));
    CHECK(tc_devices_parse("0", 0, "no CUDA-capable device is detected", &d) == -1);
    CHECKF(strstr(tc_error(), "no GPU is available (no CUDA-capable device is detected)") != NULL, "%s", tc_error());
    CHECK(tc_devices_parse("all", 0, "driver missing", &d) == -1);
#else
    CHECK(tc_devices_parse(NULL, 0, "", &d) == 0 && d.n_gpus == 0);
    CHECK(tc_devices_parse("0", 0, "", &d) == -1 && strstr(tc_error(), "no CUDA backend"));
#endif
}

static void test_output_is_atomic(void) {
    char path[512], listing[1024] = "";
    snprintf(path, sizeof path, "%s/out.txt", harness_tmpdir());
    unlink(path);
    tc_output out;
    REQUIRE(tc_output_open(&out, path, 0, 0) == 0);
    fputs("partial", out.f);
    fflush(out.f);
    CHECK(access(path, F_OK) != 0);  // nothing at the destination until commit
    tc_output_abort(&out);
    CHECK(access(path, F_OK) != 0);
    FILE *ls = popen("ls -A \"$TC_TMP\"", "r");
    if (ls) {
        size_t n = fread(listing, 1, sizeof listing - 1, ls);
        listing[n] = 0;
        pclose(ls);
    }
    CHECKF(strstr(listing, "tmp-") == NULL, "temporary file left: %s", listing);
    REQUIRE(tc_output_open(&out, path, 0, 0) == 0);
    fputs("whole", out.f);
    CHECK(tc_output_commit(&out) == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size == 5);
    mode_t mask = umask(0);
    umask(mask);
    CHECK((st.st_mode & 0777) == (0666 & ~mask));  // the umask's result, not mkstemp's 0600
    CHECK(tc_output_open(&out, "/nonexistent-dir/x", 0, 0) == -1);
    CHECKF(strstr(tc_error(), "/nonexistent-dir/x: cannot create") != NULL, "%s", tc_error());
}

static void test_escape_keeps_one_printable_line(void) {
    char out[64];
    CHECK(!strcmp(tc_escape(out, sizeof out, "plain: caf\xc3\xa9 \xe2\x82\xac"), "plain: caf\xc3\xa9 \xe2\x82\xac"));
    CHECK(!strcmp(tc_escape(out, sizeof out, "a\tb\nc\rd"), "a\\tb\\nc\\rd"));
    CHECK(!strcmp(tc_escape(out, sizeof out, "\x1b]0;pwned\x07x"), "\\x1b]0;pwned\\x07x"));
    // a C1 control (CSI as U+009B), a lone continuation byte, an overlong '/'
    CHECK(!strcmp(tc_escape(out, sizeof out, "\xc2\x9b\x80\xc0\xaf"), "\\xc2\\x9b\\x80\\xc0\\xaf"));
    CHECK(!strcmp(tc_escape(out, sizeof out, "\x7f"), "\\x7f"));
    char small[8];
    CHECK(!strcmp(tc_escape(small, sizeof small, "abcdefghij"), "abcd..."));
    CHECK(!strcmp(tc_escape(small, sizeof small, "\x1b\x1b"), "\\x1b..."));
    CHECK(!strcmp(tc_escape(small, sizeof small, NULL), ""));
}

int main(void) {
    RUN(test_escape_keeps_one_printable_line);
    RUN(test_config_sections_become_arguments);
    RUN(test_config_errors);
    RUN(test_gpus_parsing);
    RUN(test_output_is_atomic);
    HARNESS_EXIT();
}
