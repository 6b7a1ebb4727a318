#!/bin/sh
# The README's test command: installs what is missing, builds, runs the suite
# plain and again under AddressSanitizer + UBSan, then each fuzz target for a
# few seconds (make fuzz-smoke), and ends with the sum: "N passed, N failed".
# Exits non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."
sh scripts/deps.sh --check > /dev/null 2>&1 || sh scripts/deps.sh || exit 1
# the golden tests against the real model need it; without it they skip, saying so
sh scripts/fetch-model.sh || echo "tests: the default model could not be fetched; the tests that need it will skip"
sh scripts/fetch-model.sh all-mpnet-base-v2 ||
    echo "tests: all-mpnet-base-v2 could not be fetched; the tests that need it will skip"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
total_passed=0 total_failed=0
jobs=$(nproc 2> /dev/null || echo 2)
for sanitize in 0 1; do
    label=$([ $sanitize = 1 ] && echo "AddressSanitizer + UBSan" || echo "plain")
    echo "== test suite: $label"
    # the build on every core; then the tests, one at a time, from a make
    # without -j (test_pipeline runs make itself)
    if ! { make -s -j"$jobs" all tests SANITIZE=$sanitize && make -s check SANITIZE=$sanitize; } 2>&1 |
        tee "$log"; then :; fi
    # the runner's last summary line (make may print after it)
    sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    p=$(echo "$sum" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(echo "$sum" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    if [ -z "$p" ]; then
        echo "FAIL build or runner ($label): no summary line"
        p=0 f=1
    fi
    total_passed=$((total_passed + p)) total_failed=$((total_failed + f))
done
echo "== fuzz targets, a few seconds each"
make -s fuzz-smoke > "$log" 2>&1
status=$?
cat "$log"
p=$(grep -c '^PASS ' "$log") f=$(grep -c '^FAIL ' "$log")
# a failure that printed no FAIL line (the runner itself) still counts
[ "$status" -ne 0 ] && [ "$f" -eq 0 ] && f=1
total_passed=$((total_passed + p)) total_failed=$((total_failed + f))
echo "== all runs"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
