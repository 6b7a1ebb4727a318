#!/bin/sh
# tc-train --objective contrastive on a real pair task, side by side with
# sentence-transformers on the same CPU: 20 Newsgroups posts lead with their
# subject line ("SUBJECT . BODY" in corpus.txt), so (subject, body) pairs of
# the training split train the default model (all-MiniLM-L6-v2), and
# retrieval on the test split's pairs (each subject's own body ranked among
# all the test bodies: MRR@10 and recall@1) is measured before and after
# training. tc-train computes them in its validation (log.jsonl, step 0 and
# the last); sentence-transformers' own fit (old_fit, MNRL scale 20) runs on
# the same pairs, batch, epochs, rate, warmup 10% and weight decay 0.01
# (tests/bench/bench_contrastive_st.py, run by $PYTHON). Speed:
# real tokens (both sides, after truncation) per second of training.
# Differences: sentence-transformers trains with the model's dropout (0.1),
# tc-train without; the shuffles differ.
#
# usage: tests/bench/bench_contrastive_20ng.sh    settings from the environment:
#   TRAIN (512 pairs) TEST (500 pairs) BATCH (32) EPOCHS (1) LR (2e-5) MAX_LEN (64)
#   THREADS (all cores) PYTHON (python3; with torch and sentence-transformers)
set -eu
cd "$(dirname "$0")/../.."
TRAIN=${TRAIN:-512} TEST=${TEST:-500} BATCH=${BATCH:-32} EPOCHS=${EPOCHS:-1} LR=${LR:-2e-5} MAX_LEN=${MAX_LEN:-64}
THREADS=${THREADS:-$(nproc)}
PYTHON=${PYTHON:-python3}
model=models/all-MiniLM-L6-v2
data=${TC_DATA:-../shared/data}/20ng
[ -e "$model/model.safetensors" ] || { echo "bench_contrastive: $model is missing (make model)" >&2; exit 1; }
[ -e "$data/train/corpus.txt" ] || { echo "bench_contrastive: $data/train/corpus.txt is missing" >&2; exit 1; }
make -s > /dev/null
dir=$(mktemp -d "${TMPDIR:-/tmp}/bench-contrastive.XXXXXX")
trap 'rm -rf "$dir"' EXIT

# pairs: the subject before the first " . ", the body after it (posts without either left out)
pairs() { # SPLIT N
    awk -F'\t' -v n="$2" -v a="$dir/$1_a.txt" -v p="$dir/$1_p.txt" '
        { i = index($2, " . "); if (i < 2 || length($2) < i + 4) next
          print $1 "\t" substr($2, 1, i - 1) > a; print $1 "\t" substr($2, i + 3) > p
          if (++k == n) exit }' "$data/$1/corpus.txt"
    for side in a p; do
        bin/tc-tokenize -q --model "$model" --max-len "$MAX_LEN" -o "$dir/$1_$side.tct" "$dir/$1_$side.txt"
    done
}
pairs train "$TRAIN"
pairs test "$TEST"

echo "20 Newsgroups (subject, body): $TRAIN training pairs, $TEST test pairs; $model, batch $BATCH, $EPOCHS epoch(s),"
echo "lr $LR, warmup 10%, max length $MAX_LEN, $THREADS threads; $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
bin/tc-train -q --objective contrastive -m "$model" --batch "$BATCH" --epochs "$EPOCHS" --lr "$LR" --warmup-ratio 0.1 \
    --max-len "$MAX_LEN" --threads "$THREADS" --gpus none --no-tensorboard \
    --val "$dir/test_a.tct" --val-positives "$dir/test_p.tct" -o "$dir/run" "$dir/train_a.tct" "$dir/train_p.tct"
python3 - "$dir/run/log.jsonl" << 'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
val = [l for l in lines if "val_mrr_at_10" in l]
train = [l for l in lines if "tokens_per_s" in l]
tokens = sum(l["tokens"] for l in train)
seconds = sum(l["tokens"] / l["tokens_per_s"] for l in train)
print(f"tc-train               before: MRR@10 {val[0]['val_mrr_at_10']:.4f} recall@1 {val[0]['val_recall_at_1']:.4f}"
      f"   after: MRR@10 {val[-1]['val_mrr_at_10']:.4f} recall@1 {val[-1]['val_recall_at_1']:.4f}"
      f"   {tokens / seconds:.0f} tokens/s ({len(train)} steps, {seconds:.1f} s)")
PY
"$PYTHON" tests/bench/bench_contrastive_st.py "$model" "$dir/train_a.txt" "$dir/train_p.txt" "$dir/test_a.txt" \
    "$dir/test_p.txt" --batch "$BATCH" --epochs "$EPOCHS" --lr "$LR" --max-len "$MAX_LEN" --threads "$THREADS" \
    2> "$dir/st.err" | tail -n 1 || { cat "$dir/st.err" >&2; exit 1; }
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
