#!/bin/sh
# Builds the fuzz targets (tests/fuzz/fuzz.mk) and runs each on one core
# (the smoke run one target per core at a time, a campaign one after
# another) from its seeds (build/fuzz/seeds/TARGET) and, for a campaign, the
# corpus the campaigns grow (build/fuzz/corpus/TARGET).
#   tests/fuzz/run.sh smoke [SECONDS]  each target SECONDS (default 5); one
#                                      PASS/FAIL line per target, as tests print
#   tests/fuzz/run.sh table SECONDS    each target SECONDS, then a table:
#                                      executions and findings per target
# Findings (the inputs that crash, leak, time out or run out of memory) go
# to build/fuzz/findings/TARGET/; the logs to build/fuzz/logs/TARGET.log
# (TARGET.smoke.log for the smoke run).
# FUZZ_TARGETS="labels vocab" runs those targets only (a campaign split over
# cores: one run.sh per core, each with its own targets).
# Without clang and libFuzzer the smoke run prints one SKIP line.
set -u
mode=${1:-smoke}
seconds=${2:-5}
cd "$(dirname "$0")/../.."
cc=${FUZZ_CC:-clang}
dir=build/fuzz

probe=$(mktemp -d "${TMPDIR:-/tmp}/tc-fuzz-probe.XXXXXX")
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return d && n; }\n' > "$probe/p.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" > /dev/null 2>&1; then
    echo "SKIP fuzz: $cc cannot build libFuzzer targets (install clang with its compiler-rt)"
    exit 0
fi
if ! make --no-print-directory -j"$(nproc 2>/dev/null || echo 1)" -f tests/fuzz/fuzz.mk FUZZ_CC="$cc" all > "$probe/build.log" 2>&1; then
    echo "FAIL fuzz build: see below"
    tail -n 30 "$probe/build.log"
    exit 1
fi

# final_stat NAME LOG: libFuzzer's final count of NAME (0 if it printed none)
final_stat() { sed -n "s/^stat::$1: *\([0-9]*\)$/\1/p" "$2" | tail -n 1 | grep . || echo 0; }
# found KIND: artifacts of that kind this run wrote
found() { find "$findings" -name "$1-*" -newer "$mark" 2>/dev/null | wc -l | tr -d ' '; }

# fuzz_one TARGET BIN: runs one target; prints its line (a table row, or
# PASS/FAIL) and, when it found something, the first lines of the report
fuzz_one() {
    t=$1 bin=$2
    corpus=$dir/corpus/$t findings=$dir/findings/$t log=$dir/logs/$t.log mark=$dir/logs/$t.start
    # the smoke run starts from the seeds alone, so that its time does not
    # grow with the corpus the campaigns keep
    [ "$mode" = smoke ] && corpus=$probe/corpus-$t log=$dir/logs/$t.smoke.log
    mkdir -p "$corpus" "$findings" "$dir/logs"
    touch "$mark"
    dict=
    [ -f "tests/fuzz/fuzz_$t.dict" ] && dict=-dict=tests/fuzz/fuzz_$t.dict
    # one process, one core; inputs and allocations bounded so that a
    # parser that grows without bound is a finding, not a stuck machine
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$findings/" $dict "$corpus" "$dir/seeds/$t" > "$log" 2>&1
    status=$?
    execs=$(final_stat number_of_executed_units "$log")
    crashes=$(found crash) leaks=$(found leak) timeouts=$(found timeout) ooms=$(found oom)
    bad=$((crashes + leaks + timeouts + ooms))
    if [ "$mode" = table ]; then
        printf '%-16s %12s %8s %6s %9s %5s\n' "$t" "$execs" "$crashes" "$leaks" "$timeouts" "$ooms"
    elif [ "$bad" -eq 0 ] && [ "$status" -eq 0 ]; then
        echo "PASS fuzz_$t: $execs executions in ${seconds}s"
    else
        echo "FAIL fuzz_$t: exit $status; crashes $crashes, leaks $leaks, timeouts $timeouts, ooms $ooms (log: $log)"
    fi
    if [ "$bad" -gt 0 ] || [ "$status" -ne 0 ]; then
        grep -m 3 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | sed 's/^/    /'
        find "$findings" -type f -newer "$mark" | sed 's/^/    artifact: /'
        rm -f "$mark"
        return 1
    fi
    rm -f "$mark"
}

# The smoke run (a time per target, not a count of executions) runs one
# target per core at a time; a campaign stays one after another (split it
# over cores with FUZZ_TARGETS). Lines come out in the targets' order.
jobs=1
[ "$mode" = smoke ] && jobs=$(nproc 2> /dev/null || echo 1)
targets=""
for bin in "$dir"/fuzz_*; do
    [ -x "$bin" ] || continue
    t=$(basename "$bin" | sed 's/^fuzz_//')
    case " ${FUZZ_TARGETS:-$t} " in *" $t "*) targets="$targets $t" ;; esac
done
running=0
for t in $targets; do
    { fuzz_one "$t" "$dir/fuzz_$t" > "$probe/out-$t" 2>&1; echo $? > "$probe/status-$t"; } &
    running=$((running + 1))
    [ "$running" -ge "$jobs" ] && { wait; running=0; }
done
wait
failed=0
[ "$mode" = table ] && printf '%-16s %12s %8s %6s %9s %5s\n' target executions crashes leaks timeouts ooms
for t in $targets; do
    cat "$probe/out-$t"
    [ "$(cat "$probe/status-$t" 2> /dev/null)" = 0 ] || failed=$((failed + 1))
done
[ "$failed" -eq 0 ]
