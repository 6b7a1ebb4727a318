// --config FILE.yaml: a program's settings as command-line arguments.
//
// The file is a mapping of sections, one per program, named `tc-encode` or
// `encode`. Inside a section each key is a long option: `batch-size: 64`
// becomes `--batch-size 64`, `normalize: true` becomes `--normalize` and
// `false` `--no-normalize`, a list repeats the option, and a nested mapping
// is the section of a subcommand (`tc-taxo: {build: {...}}`). A key with no
// value (or only comments under it) sets nothing.
#ifndef TC_CONFIG_H
#define TC_CONFIG_H

// Appends the arguments of `program`'s section (and of its `subcommand`
// section, if not NULL) to *args (a malloc'd array of malloc'd strings).
int tc_config_args(const char *path, const char *program, const char *subcommand,
                   char ***args, int *n_args);

#endif
