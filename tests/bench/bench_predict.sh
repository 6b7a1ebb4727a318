#!/bin/sh
# tc-predict against PyTorch/transformers computing the same scores with the
# same checkpoint, side by side:
#
#   tests/bench/bench_predict.sh cpu    # CPU PyTorch peer, same thread count
#   tests/bench/bench_predict.sh gpu    # fp16 on GPU 0 against PyTorch fp16 on it
#
# The checkpoint is a real one: tc-train fine-tunes the default model
# (all-MiniLM-L6-v2) for one step on 20 Newsgroups' 27-class taxonomy
# (class vectors from the class names), so the head is the classifier's
# (W 384x384, 27 class vectors). The documents are the first N of 20
# Newsgroups test/corpus.txt, tokenized by tc-tokenize (truncation at
# MAX_LEN); the peer reads the same token ids.
#
# Settings (environment): N documents (default 1000), MAX_LEN (128), BATCH
# (32 on the CPU, 256 on a GPU), THREADS (all cores), REPEAT (best of 3
# tc-predict runs), MODEL, DATA, PYTHON, TC_BIN.
# tc-predict's time is the whole command (start, checkpoint load, reading
# tokens, writing scores); the peer's is the model and head alone on
# pre-tokenized, length-sorted batches after loading and a warm-up batch.
# The scores of both are compared (max |difference|, top-1 agreement).
set -eu
mode=${1:-cpu}
root=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-1000}
MAX_LEN=${MAX_LEN:-128}
THREADS=${THREADS:-$(nproc)}
REPEAT=${REPEAT:-3}
MODEL=${MODEL:-$root/models/all-MiniLM-L6-v2}
DATA=${DATA:-$root/../shared/data/20ng}
PYTHON=${PYTHON:-python3}
BIN=${TC_BIN:-$root/bin}
case $mode in
cpu) BATCH=${BATCH:-32} gpus="--gpus none" precision=fp32 device=cpu fp16= ;;
gpu) BATCH=${BATCH:-256} gpus="--gpus 0" precision=fp16 device=cuda fp16=--fp16 ;;
*) echo "usage: bench_predict.sh [cpu|gpu]" >&2; exit 2 ;;
esac
[ -f "$MODEL/model.safetensors" ] || { echo "bench_predict: $MODEL missing (make model)" >&2; exit 1; }
[ -f "$DATA/test/corpus.txt" ] || { echo "bench_predict: $DATA/test/corpus.txt missing" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 143' INT TERM
py="$PYTHON $root/tests/bench/bench_predict_torch.py"

# inputs and the checkpoint
tok="$BIN/tc-tokenize -q --model $MODEL --max-len $MAX_LEN"
head -n "$N" "$DATA/test/corpus.txt" | $tok -o "$tmp/tokens.tct"
head -n 64 "$DATA/train/corpus.txt" | $tok -o "$tmp/train_tokens.tct"
tr '_' ' ' < "$DATA/labels.txt" | $tok -o "$tmp/class_tokens.tct"
"$BIN/tc-taxo" build -q "$DATA" -o "$tmp/taxonomy.tct"
"$BIN/tc-train" -q --gpus none --threads "$THREADS" -m "$MODEL" --class-tokens "$tmp/class_tokens.tct" \
    --taxonomy "$tmp/taxonomy.tct" --max-len "$MAX_LEN" --max-steps 1 --batch 8 -o "$tmp/run" \
    "$tmp/train_tokens.tct" "$DATA/train/doc2labels.txt"

best=
for _ in $(seq "$REPEAT"); do
    start=$(date +%s.%N)
    "$BIN/tc-predict" -q $gpus --threads "$THREADS" --batch-size "$BATCH" --precision $precision \
        -m "$tmp/run/final" "$tmp/tokens.tct" -o "$tmp/tc.tct"
    end=$(date +%s.%N)
    best=$(echo "$start $end ${best:-0}" | awk '{t = $2 - $1; print ($3 == 0 || t < $3) ? t : $3}')
done
"$BIN/tc-dump" --npy scores "$tmp/tc.tct" -o "$tmp/tc.npy"
$py --checkpoint "$tmp/run/final" --tokens "$tmp/tokens.tct" --dump "$BIN/tc-dump" --batch-size "$BATCH" \
    --threads "$THREADS" --device $device $fp16 --scores-out "$tmp/torch.npy" > "$tmp/torch.json"

$PYTHON - "$tmp" "$best" "$mode" "$BATCH" "$THREADS" << 'EOF'
import json, sys
import numpy as np
tmp, tc_s, mode, batch, threads = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
peer = json.load(open(tmp + "/torch.json"))
a, b = np.load(tmp + "/tc.npy"), np.load(tmp + "/torch.npy")
docs, tokens = peer["docs"], peer["tokens"]
print("%d documents, %d tokens (%.0f per document), 27 classes, batch %s, %s threads, %s"
      % (docs, tokens, tokens / docs, batch, threads, mode))
print("%-46s %9s %10s %12s %8s" % ("", "seconds", "docs/s", "tokens/s", "speedup"))
for name, s in (("tc-predict (whole command)", tc_s), ("transformers %s (model + head only)" % peer["torch"], peer["seconds"])):
    print("%-46s %9.2f %10.1f %12.0f %7.2fx" % (name, s, docs / s, tokens / s, peer["seconds"] / s))
agree = (a.argmax(1) == b.argmax(1)).mean()
print("parity: max |score difference| %.3g (scores up to %.3g), top-1 agreement %.4f" % (np.abs(a - b).max(), np.abs(b).max(), agree))
EOF
