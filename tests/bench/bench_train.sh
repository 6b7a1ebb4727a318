#!/bin/sh
# Training throughput of tc-train on the CPU side by side with PyTorch on the
# same CPU: the default model (all-MiniLM-L6-v2), the same documents (the
# first 20 Newsgroups training posts, tokenized at MAX_LEN), batch, thread
# count, head, loss and optimizer (tests/bench/bench_train_torch.py is the
# PyTorch peer). Rows: tc-train --precision fp32 and bf16 (bf16 through
# oneDNN where the CPU has a bf16 kernel; elsewhere tc-train exits 1 with one
# line, printed as a SKIP row: the emulation TC_CPU_BF16_EMULATE=1 asks for
# is a checking aid, never measured here), PyTorch fp32 and
# PyTorch bf16 autocast (where the CPU has avx512_bf16 or amx_bf16; f32
# weights and AdamW on both sides). All count real tokens (not padding) per
# second of a whole step (forward, backward, clipping, AdamW), median over
# STEPS steps after WARMUP; the rows run in turn, ROUNDS times, since a
# shared machine's load moves under them: best and median over the rounds.
# Tokens per CPU second (process CPU time of the measured steps, all
# threads) are in each row's note: they move less with the load. PyTorch's
# OpenMP threads spin a little while waiting, which counts as CPU time;
# tc-train's threads sleep. The last line sets tc-train's fastest path
# against the fastest PyTorch row (bench_peers_table.py; both precisions
# count as comparable: f32 master weights either way).
#
# usage: tests/bench/bench_train.sh      settings from the environment:
#   BATCH (16) MAX_LEN (128) STEPS (10) WARMUP (2) THREADS (all cores) ROUNDS (2)
#   PYTHON (default build/peers-venv, made by make deps PEERS=1)
set -eu
cd "$(dirname "$0")/../.."
BATCH=${BATCH:-16} MAX_LEN=${MAX_LEN:-128} STEPS=${STEPS:-10} WARMUP=${WARMUP:-2}
THREADS=${THREADS:-$(nproc)} ROUNDS=${ROUNDS:-2}
model=models/all-MiniLM-L6-v2
data=${TC_DATA:-../shared/data}/20ng/train
[ -e "$model/model.safetensors" ] || { echo "bench_train: $model is missing (make model)" >&2; exit 1; }
[ -e "$data/corpus.txt" ] || { echo "bench_train: $data/corpus.txt is missing" >&2; exit 1; }
. tests/bench/peers_lib.sh
root=$PWD
PYTHON=$(peers_python)
peers_require_numpy "$PYTHON" bench_train
make -s > /dev/null
dir=$(mktemp -d "${TMPDIR:-/tmp}/bench-train.XXXXXX")
trap 'rm -rf "$dir"' EXIT
docs=$((BATCH * (STEPS + WARMUP)))
head -n "$docs" "$data/corpus.txt" | bin/tc-tokenize -q --model "$model" --max-len "$MAX_LEN" -o "$dir/tokens.tct"
bin/tc-dump -q --npy input_ids -o "$dir/input_ids.npy" "$dir/tokens.tct"
bin/tc-dump -q --npy lengths -o "$dir/lengths.npy" "$dir/tokens.tct"
sed 's/_/ /g' "${TC_DATA:-../shared/data}/20ng/labels.txt" | bin/tc-tokenize -q --model "$model" -o "$dir/classes.tct"

print_cpu
echo "model $model, batch $BATCH, max length $MAX_LEN, $THREADS threads, $STEPS steps after $WARMUP, $ROUNDS rounds"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# each round appends "tokens/s tokens/CPU-s" to ROW.rates, or leaves ROW.skip
tc_round() {
    [ -e "$dir/tc-$1.skip" ] && return 0
    rm -rf "$dir/run"
    if ! env -u TC_CPU_BF16_EMULATE bin/tc-train -q --gpus none --precision "$1" -m "$model" --class-tokens "$dir/classes.tct" \
        --batch "$BATCH" --max-len "$MAX_LEN" --threads "$THREADS" --epochs 1 --max-steps $((STEPS + WARMUP)) \
        -o "$dir/run" "$dir/tokens.tct" "$data/doc2labels.txt" 2> "$dir/tc-$1.err"; then
        printf 'SKIP: %s\n' "$(grep -m 1 . "$dir/tc-$1.err" | tr '\t' ' ')" > "$dir/tc-$1.skip"
        return 0
    fi
    "$PYTHON" -c '
import json, statistics, sys
steps = [json.loads(l) for l in open(sys.argv[1]) if "\"loss\"" in l][int(sys.argv[2]):]
print("%.1f %.1f" % (statistics.median(s["tokens_per_s"] for s in steps),
                     sum(s["tokens"] for s in steps) / sum(s["cpu_s"] for s in steps)))
' "$dir/run/log.jsonl" "$WARMUP" >> "$dir/tc-$1.rates"
}
torch_round() {
    [ -e "$dir/torch-$1.skip" ] && return 0
    rc=0
    "$PYTHON" tests/bench/bench_train_torch.py "$model" "$dir/input_ids.npy" "$dir/lengths.npy" "$BATCH" "$STEPS" \
        "$WARMUP" "$THREADS" "$1" > "$dir/torch-$1.out" 2> "$dir/torch-$1.err" || rc=$?
    case $rc in
    0) awk '{printf "%s %.1f\n", $3, $7 / $11}' "$dir/torch-$1.out" >> "$dir/torch-$1.rates" ;;
    3) cp "$dir/torch-$1.out" "$dir/torch-$1.skip" ;;
    *) printf 'SKIP: failed (exit %d): %s\n' "$rc" "$(grep . "$dir/torch-$1.err" | tail -n 1 | cut -c 1-200)" > "$dir/torch-$1.skip" ;;
    esac
}
for round in $(seq 1 "$ROUNDS"); do
    echo "  round $round" >&2
    for p in fp32 bf16; do tc_round $p; torch_round $p; done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
for row in tc-fp32:"tc-train fp32" tc-bf16:"tc-train bf16" torch-fp32:"PyTorch fp32" torch-bf16:"PyTorch bf16 autocast"; do
    f=$dir/${row%%:*}
    if [ -e "$f.skip" ]; then cp "$f.skip" "$f.json"
    else
        "$PYTHON" -c '
import json, sys
r = [line.split() for line in open(sys.argv[1])]
print(json.dumps({"rates": [float(x[0]) for x in r], "note": "tokens per CPU second: " + ", ".join(x[1] for x in r)}))
' "$f.rates" > "$f.json"
    fi
    kind=peer
    case $row in tc-*) kind=tc ;; esac
    add_row "$dir/rows" $kind "${row#*:}" "$f.json" -
done
"$PYTHON" tests/bench/bench_peers_table.py "$dir/rows" --tool tc-train --unit tokens/s
