#!/bin/sh
# A dead or hung rank never hangs tc-train (common/comm/comm_mpi.c): two CPU
# MPI ranks train; once a checkpoint is written, rank 1 is
#   stopped (SIGSTOP: alive but silent): rank 0 stops within --comm-timeout
#     with one line naming rank 1, and
#   killed (SIGKILL): the launcher ends the run, naming rank 1;
# either way the run ends in seconds with a non-zero status and `latest`
# points at a complete checkpoint that tc-encode loads.
. "$TC_ROOT/tests/cli/lib.sh"

if ! command -v mpirun > /dev/null 2>&1 || [ "${TC_HAVE_MPI:-0}" != 1 ]; then
    skip dead_rank "mpirun or an MPI build is missing"
    exit 0
fi
H=$TC_HELPERS
fx=$T/fx
if ! "$H/train-fixture" "$fx" 48 > "$T/fixture.err" 2>&1; then
    fail dead_rank_fixture "$(cat "$T/fixture.err")"
    exit 0
fi
root_flags=""
[ "$(id -u)" = 0 ] && root_flags="--allow-run-as-root"

# rank_pid DIR RANK: the pid of the tc-train rank writing DIR
rank_pid() {
    for p in $(pgrep -f "tc-train .*-o $1 "); do
        r=$(tr '\0' '\n' < /proc/$p/environ 2> /dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
        [ "$r" = "$2" ] && echo $p && return 0
    done
    return 1
}

# case NAME SIGNAL: trains into $T/NAME, signals rank 1 after the first checkpoint
dead_case() {
    name=$1 sig=$2 dir=$T/$1
    env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" timeout 120 mpirun $root_flags --oversubscribe -np 2 \
        tc-train -q -m "$fx/model" --objective contrastive --threads 1 --gpus none --max-epochs 0 --min-steps 100000 \
        --batch 4 --save-every 5 --comm-timeout 2 -o "$dir" "$fx/tokens.tct" "$fx/pair_tokens.tct" \
        > "$T/$name.out" 2> "$T/$name.err" &
    job=$!
    i=0
    while [ ! -L "$dir/latest" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    pid=$(rank_pid "$dir" 1)
    if [ -z "$pid" ]; then
        fail "dead_rank_$name" "no rank 1 found (or no checkpoint in 60 s): $(head -c 300 "$T/$name.err")"
        kill $job 2> /dev/null
        return 1
    fi
    t0=$(date +%s)
    kill -$sig $pid
    wait $job
    status=$?
    elapsed=$(($(date +%s) - t0))
    kill -9 $pid 2> /dev/null  # should it still be there
    if [ $status -ne 0 ] && [ $status -ne 124 ] && [ $elapsed -le 15 ]; then
        pass "dead_rank_$name"
    else
        fail "dead_rank_$name" "exit $status after $elapsed s: $(head -c 300 "$T/$name.err" | tr '\n' ' ')"
    fi
    ok=1
    for f in model.safetensors modules.json 1_Pooling/config.json optimizer.safetensors trainer_state.json; do
        [ -s "$dir/latest/$f" ] || ok=0
    done
    if [ $ok = 1 ]; then pass "dead_rank_${name}_checkpoint"; else fail "dead_rank_${name}_checkpoint" "$(ls -l "$dir/latest/")"; fi
    expect "dead_rank_${name}_checkpoint_loads" 0 tc-encode -q --gpus none -m "$dir/latest" -o "$T/$name.tct" "$fx/tokens.tct"
}

dead_case stopped STOP
check dead_rank_stopped_named grep -q '^tc-train: rank 0: no answer from rank 1 within 2 s (--comm-timeout; dead or hung): stopping$' \
    "$T/stopped.err"
dead_case killed KILL
check dead_rank_killed_named grep -q 'rank 1' "$T/killed.err"
