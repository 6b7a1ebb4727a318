# The command-line contract every program keeps (DESIGN section 3): --help
# and --version exit 0 on stdout, a man page with the required sections,
# unknown options and missing values are usage errors (exit 2, one line and
# a hint), and a --config section feeds options like the command line.
. "$TC_ROOT/tests/cli/lib.sh"
for prog in "$TC_BIN"/tc-*; do
    p=$(basename "$prog")
    case $p in
    tc-taxo | tc-refine) word=$( [ $p = tc-taxo ] && echo build || echo annotate ); cmd="$p $word" ;;
    *) word=""; cmd=$p ;;
    esac
    expect "${p}_help" 0 $cmd --help
    check "${p}_help_usage" sh -c "grep -q '^usage: $p' out && test ! -s err"
    expect "${p}_version" 0 $p --version
    check "${p}_version_text" grep -Eq "^$p \(teleclass-c\) [0-9]+\.[0-9]+\.[0-9]+$" out
    expect_error "${p}_unknown_option" 2 "^$p: unknown option '--no-such-option'$" $cmd --no-such-option
    expect_error "${p}_missing_value" 2 "^$p: option '--threads' needs a value$" $cmd --threads
    expect_error "${p}_bad_threads" 2 "^$p: --threads: 'many' is not an integer" $cmd --threads many
    page="$TC_ROOT/man/man1/$p.1"
    check "${p}_man_sections" sh -c "for s in NAME SYNOPSIS DESCRIPTION OPTIONS 'EXIT STATUS' EXAMPLES; do grep -q \"^\\.SH \$s\" '$page' || { echo \"no \$s in $page\"; exit 1; }; done"
    # a config section sets options as the command line would, and its
    # unknown settings are named
    if [ -n "$word" ]; then printf '%s:\n  %s:\n    threads: many\n' "$p" "$word" > cfg.yaml
    else printf '%s:\n  threads: many\n' "$p" > cfg.yaml; fi
    expect_error "${p}_config_value" 2 "^$p: --threads: 'many' is not an integer" $cmd --config cfg.yaml
    printf '%s:\n  bogus-setting: 1\n' "${p#tc-}" > cfg2.yaml
    expect_error "${p}_config_unknown" 2 "^$p: cfg2.yaml: unknown setting 'bogus-setting'" $cmd --config cfg2.yaml
done
check man5_tct test -f "$TC_ROOT/man/man5/tct.5"
