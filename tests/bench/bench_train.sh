#!/bin/sh
# Training throughput of tc-train on the CPU side by side with PyTorch on the
# same CPU: the default model (all-MiniLM-L6-v2), the same documents (the
# first 20 Newsgroups training posts, tokenized at MAX_LEN), batch, thread
# count, head, loss and optimizer (tests/bench/bench_train_torch.py is the
# PyTorch peer). Both count real tokens (not padding) per second of a whole
# step (forward, backward, clipping, AdamW), median over STEPS steps after
# WARMUP; the two run in turn, ROUNDS times, since a shared machine's load
# moves under them. Tokens per CPU second (process CPU time of the measured
# steps, all threads) are printed too: they move less with the load.
# PyTorch's OpenMP threads spin a little while waiting, which counts as CPU
# time; tc-train's threads sleep.
#
# usage: tests/bench/bench_train.sh      settings from the environment:
#   BATCH (16) MAX_LEN (128) STEPS (10) WARMUP (2) THREADS (all cores) ROUNDS (2)
set -eu
cd "$(dirname "$0")/../.."
BATCH=${BATCH:-16} MAX_LEN=${MAX_LEN:-128} STEPS=${STEPS:-10} WARMUP=${WARMUP:-2}
THREADS=${THREADS:-$(nproc)} ROUNDS=${ROUNDS:-2}
model=models/all-MiniLM-L6-v2
data=${TC_DATA:-../shared/data}/20ng/train
[ -e "$model/model.safetensors" ] || { echo "bench_train: $model is missing (make model)" >&2; exit 1; }
[ -e "$data/corpus.txt" ] || { echo "bench_train: $data/corpus.txt is missing" >&2; exit 1; }
python3 -c 'import torch, transformers, numpy' 2> /dev/null ||
    { echo "bench_train: python3 with torch, transformers and numpy is missing" >&2; exit 1; }
make -s > /dev/null
dir=$(mktemp -d "${TMPDIR:-/tmp}/bench-train.XXXXXX")
trap 'rm -rf "$dir"' EXIT
docs=$((BATCH * (STEPS + WARMUP)))
head -n "$docs" "$data/corpus.txt" | bin/tc-tokenize -q --model "$model" --max-len "$MAX_LEN" -o "$dir/tokens.tct"
bin/tc-dump --npy input_ids -o "$dir/input_ids.npy" "$dir/tokens.tct"
bin/tc-dump --npy lengths -o "$dir/lengths.npy" "$dir/tokens.tct"
sed 's/_/ /g' "${TC_DATA:-../shared/data}/20ng/labels.txt" | bin/tc-tokenize -q --model "$model" -o "$dir/classes.tct"

echo "model $model, batch $BATCH, max length $MAX_LEN, $THREADS threads, $STEPS steps after $WARMUP, $(nproc) cores"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
    rm -rf "$dir/run"
    bin/tc-train -q -m "$model" --class-tokens "$dir/classes.tct" --batch "$BATCH" --max-len "$MAX_LEN" \
        --threads "$THREADS" --epochs 1 --max-steps $((STEPS + WARMUP)) -o "$dir/run" \
        "$dir/tokens.tct" "$data/doc2labels.txt"
    # median tokens/s over the steps; tokens per CPU second over all of them
    c=$(python3 -c '
import json, statistics, sys
steps = [json.loads(l) for l in open(sys.argv[1]) if "\"loss\"" in l][int(sys.argv[2]):]
print("%.1f %.1f" % (statistics.median(s["tokens_per_s"] for s in steps),
                     sum(s["tokens"] for s in steps) / sum(s["cpu_s"] for s in steps)))
' "$dir/run/log.jsonl" "$WARMUP")
    t=$(python3 tests/bench/bench_train_torch.py "$model" "$dir/input_ids.npy" "$dir/lengths.npy" "$BATCH" "$STEPS" \
        "$WARMUP" "$THREADS" 2> /dev/null | awk '{printf "%s %.1f", $3, $7 / $11}')
    printf 'round %d  tokens/s: tc-train %7.1f  PyTorch %7.1f  ratio %.2f   tokens/CPU-s: tc-train %7.1f  PyTorch %7.1f  ratio %.2f\n' \
        "$round" "${c% *}" "${t% *}" "$(echo "${c% *} / ${t% *}" | bc -l)" \
        "${c#* }" "${t#* }" "$(echo "${c#* } / ${t#* }" | bc -l)"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
