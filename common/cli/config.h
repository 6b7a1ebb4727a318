// --config FILE.yaml: a program's settings as command-line arguments.
//
// The file is a mapping of sections, one per program, named `tc-encode` or
// `encode`. Inside a section each key is a long option: `batch-size: 64`
// becomes `--batch-size 64`, `normalize: true` becomes `--normalize` and
// `false` `--no-normalize`, a list repeats the option, and a nested mapping
// is the section of a subcommand (`tc-taxo: {build: {...}}`). A key with no
// value (or only comments under it) sets nothing. A config is small: a file
// over 1 MiB, nested more than 16 levels, or whose aliases add more than
// 1 MiB to its tree is an error (tc_yaml_load), as is any other problem:
// tc_cli_init prints it on one line and exits 2, never running without it.
#ifndef TC_CONFIG_H
#define TC_CONFIG_H

// Appends the arguments of `program`'s section (and of its `subcommand`
// section, if not NULL) to *args (a malloc'd array of malloc'd strings).
int tc_config_args(const char *path, const char *program, const char *subcommand,
                   char ***args, int *n_args);

#endif
