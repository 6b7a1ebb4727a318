// libFuzzer target: any bytes as a --config FILE.yaml end in a clean error
// or a list of arguments, for a plain program's section and for a
// subcommand's (common/cli/config.h).
#include "common/cli/config.h"
#include "tests/fuzz/fuzz_files.h"

static void args_of(const char *path, const char *program, const char *subcommand) {
    char **args = NULL;
    int n = 0;
    fuzz_note(program, tc_config_args(path, program, subcommand, &args, &n));
    for (int i = 0; i < n; i++) {
        if (!args[i]) abort();
        free(args[i]);
    }
    free(args);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[512];
    fuzz_part whole = {data, size};
    fuzz_file(path, sizeof path, "config.yaml", &whole);
    args_of(path, "tc-encode", NULL);
    args_of(path, "tc-taxo", "enrich");
    return 0;
}
