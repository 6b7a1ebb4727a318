#!/bin/sh
# Runs the test suite and prints a summary whose last line is
# "N passed, N failed". Test programs print PASS/FAIL/SKIP lines; a program
# that exits non-zero without a FAIL line counts as one failure.
#
# usage: tests/run.sh [unit|cli|gpu|all] [NAME-PATTERN]
# Environment (set by make check): TC_BIN, TC_TESTBIN, TC_BUILD, TC_SANITIZE;
# TC_TEST_TIMEOUT=S stops each test program after S seconds (a failure), so
# that one hang cannot eat a bounded run such as tests/gpu/device-check.sh.
set -u
kind=${1:-all}
pattern=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
: "${TC_BIN:?run through make check}" "${TC_TESTBIN:?run through make check}"
export TC_ROOT="$root"
export TC_SHARED="${TC_SHARED:-$root/../shared}"
export TC_DATA="${TC_DATA:-$TC_SHARED/data}"
export TC_HELPERS="$TC_TESTBIN/helpers"
export PATH="$TC_BIN:$PATH"
# Sanitizer findings get their own exit codes so that they never pass for
# an expected "exit 1".
export ASAN_OPTIONS="${ASAN_OPTIONS:-exitcode=86:detect_leaks=1:protect_shadow_gap=0:allocator_may_return_null=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-exitcode=86}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:exitcode=87:print_stacktrace=1}"
tmp_root=$(mktemp -d "${TMPDIR:-/tmp}/tc-tests.XXXXXX")
# a signal ends the run (a trap that only cleaned up would let it go on)
trap 'rm -rf "$tmp_root"' EXIT
trap 'exit 143' INT TERM
passed=0 failed=0 skipped=0

# run_one LABEL COMMAND...: runs a test program and counts its lines.
run_one() {
    label=$1
    shift
    out="$tmp_root/out.txt"
    dir="$tmp_root/$(echo "$label" | tr '/ ' '__')"
    mkdir -p "$dir"
    start=$(date +%s)
    [ -n "${TC_TEST_TIMEOUT:-}" ] && set -- timeout "$TC_TEST_TIMEOUT" "$@"
    TC_TMP="$dir" "$@" > "$out" 2>&1
    status=$?
    [ -n "${TC_TEST_TIMEOUT:-}" ] && [ "$status" -eq 124 ] && echo "FAIL $label: still running after ${TC_TEST_TIMEOUT}s, stopped" >> "$out"
    p=$(grep -c '^PASS ' "$out")
    f=$(grep -c '^FAIL ' "$out")
    s=$(grep -c '^SKIP ' "$out")
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $label: exited with status $status" >> "$out"
        f=1
    fi
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    printf '%-40s %4d passed %3d failed %3d skipped  (%ss)\n' "$label" "$p" "$f" "$s" $(( $(date +%s) - start ))
    if [ "$f" -gt 0 ]; then
        # everything the failing program printed, for the log
        sed 's/^/    | /' "$out"
    else
        grep '^SKIP ' "$out" | sed 's/^/    /'
    fi
    rm -rf "$dir"
}

matches() { [ -z "$pattern" ] || case "$1" in *$pattern*) return 0 ;; *) return 1 ;; esac; }

if [ "$kind" = all ] || [ "$kind" = unit ]; then
    for t in "$TC_TESTBIN"/test_*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        case "$name" in test_gpu_*) continue ;; esac
        matches "$name" && run_one "unit/$name" "$t"
    done
fi
if [ "$kind" = all ] || [ "$kind" = cli ]; then
    for t in "$root"/tests/cli/test_*.sh; do
        [ -f "$t" ] || continue
        name=$(basename "$t" .sh)
        matches "$name" && run_one "cli/$name" sh "$t"
    done
fi
if [ "$kind" = gpu ]; then
    for t in "$TC_TESTBIN"/test_gpu_*; do
        [ -x "$t" ] || continue
        matches "$(basename "$t")" && run_one "gpu/$(basename "$t")" "$t"
    done
    for t in "$root"/tests/gpu/test_*.sh; do
        [ -f "$t" ] || continue
        matches "$(basename "$t" .sh)" && run_one "gpu/$(basename "$t" .sh)" sh "$t"
    done
fi
echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
