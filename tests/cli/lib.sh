# Sourced by tests/cli/test_*.sh: small assertions that print the
# PASS/FAIL/SKIP lines tests/run.sh counts. Each test runs in $TC_TMP.
set -u
T=${TC_TMP:?run through tests/run.sh}
cd "$T" || exit 1

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

# A sanitizer report is a failure whatever the test expected.
sanitized_ok() { # NAME STATUS
    case $2 in
    86 | 87) fail "$1" "sanitizer report: $(grep -m1 -E 'ERROR|runtime error' "$T/err")"; return 1 ;;
    esac
    return 0
}

# run CMD...: runs with stdout in $T/out, stderr in $T/err; sets $status.
run() {
    "$@" > "$T/out" 2> "$T/err"
    status=$?
}

# expect NAME STATUS CMD...: the command exits with STATUS.
expect() {
    name=$1 want=$2
    shift 2
    run "$@"
    sanitized_ok "$name" $status || return 1
    if [ $status -eq "$want" ]; then pass "$name"; return 0; fi
    fail "$name" "exit $status, expected $want; stderr: $(head -c 300 "$T/err" | tr '\n' ' ')"
    return 1
}

# expect_error NAME STATUS REGEX CMD...: exits with STATUS and says one line
# on stderr matching REGEX (plus the "Try --help" line for usage errors),
# and nothing on stdout.
expect_error() {
    name=$1 want=$2 regex=$3
    shift 3
    run "$@"
    sanitized_ok "$name" $status || return 1
    lines=$(grep -vc "^Try '" "$T/err")
    if [ $status -ne "$want" ]; then
        fail "$name" "exit $status, expected $want; stderr: $(head -c 300 "$T/err" | tr '\n' ' ')"
    elif [ "$lines" -ne 1 ]; then
        fail "$name" "expected one line on stderr, got $lines: $(head -c 300 "$T/err" | tr '\n' ' ')"
    elif ! grep -Eq -- "$regex" "$T/err"; then
        fail "$name" "stderr does not match /$regex/: $(head -c 300 "$T/err" | tr '\n' ' ')"
    elif [ -s "$T/out" ] && [ "$want" -ne 0 ]; then
        fail "$name" "wrote to stdout on error"
    else
        pass "$name"
        return 0
    fi
    return 1
}

# check NAME CMD...: a shell condition (a test, a grep, a cmp) holds.
check() {
    name=$1
    shift
    if "$@" > "$T/check.out" 2>&1; then pass "$name"; else fail "$name" "$* ($(head -c 300 "$T/check.out" | tr '\n' ' '))"; fi
}

# close_tsv NAME A B TOL: the rows of two TSV files agree within TOL.
close_tsv() { # NAME A B TOL
    check "$1" awk -F'\t' -v other="$3" -v tol="$4" '
        { if ((getline line < other) <= 0) { print "fewer rows"; exit 1 }
          n = split(line, o, "\t"); if (n != NF) { print "row " NR ": " NF " vs " n " columns"; exit 1 }
          for (i = 1; i <= NF; i++) { d = $i - o[i]; if (d < 0) d = -d; if (d > tol) { print "row " NR ": " $i " vs " o[i]; exit 1 } } }
        END { if ((getline line < other) > 0) { print "more rows"; exit 1 } }' "$2"
}

# Python with numpy, or empty when not installed (the caller skips, saying so).
python_with() { # MODULE...
    py=${PYTHON:-python3}
    venv="$TC_ROOT/build/venv/bin/python3"
    [ -x "$venv" ] && py=$venv
    for m in "$@"; do "$py" -c "import $m" 2>/dev/null || return 1; done
    echo "$py"
}
