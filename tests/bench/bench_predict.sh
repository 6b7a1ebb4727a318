#!/bin/sh
# tc-predict beside its peers computing the same scores with the same
# checkpoint:
#
#   tests/bench/bench_predict.sh cpu    # every CPU path of tc-predict (fp32,
#                                       # bf16, int8) and every CPU peer, one table
#   tests/bench/bench_predict.sh gpu    # fp16 on GPU 0 against PyTorch fp16 on it
#
# The checkpoint is a real one: tc-train fine-tunes the default model
# (all-MiniLM-L6-v2) for one step on 20 Newsgroups' 27-class taxonomy
# (class vectors from the class names), so the head is the classifier's
# (W 384x384, 27 class vectors). The documents are the first N of 20
# Newsgroups test/corpus.txt, tokenized by tc-tokenize (truncation at
# MAX_LEN); the peers read the same token ids.
#
# Settings (environment): N documents (default 1000), MAX_LEN (128), BATCH
# (32 on the CPU, 256 on a GPU), THREADS (all cores), REPEAT (3; cpu:
# rounds, as bench_encode.sh's: every tc path and every peer once a round, in
# turn; gpu: passes of each side), MODEL, DATA, PYTHON, TC_BIN, CACHE (cpu: where the exported
# peer models are kept, default build/peers-cache; one checkpoint's at a time).
# tc-predict's time is the whole command (start, checkpoint load, reading
# tokens, writing scores).
#
# cpu: each tc-predict path (--precision fp32, bf16, int8) once a round; a
# path this CPU or build lacks exits 1 with one line, printed as a SKIP row.
# The peers are those of bench_encode.sh cpu (bench_encode_peers.py --head),
# on the encoder and the head together: PyTorch fp32 (the reference) and bf16
# autocast (where the CPU has avx512_bf16 or amx_bf16); ONNX Runtime fp32 and
# int8 (quantize_dynamic, per-tensor and per-channel) and OpenVINO run the
# same module exported whole (encoder, pooling, normalization, doc . W . E^T),
# so int8 covers the head's products too. Peers are timed on the model loop
# alone, over length-sorted batches, after a warm-up pass over every batch.
# Each row: docs/s best and median, the smallest cosine of a document's 27
# scores against PyTorch fp32's, and the share of documents whose top class
# is PyTorch fp32's. The last line sets tc-predict's best path against the
# fastest peers (bench_peers_table.py).
#
# gpu: the peer (bench_predict_torch.py) is the model and head alone on
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
PYTHON=${PYTHON:-}
BIN=${TC_BIN:-$root/bin}
case $mode in
cpu) BATCH=${BATCH:-32} ;;
gpu) BATCH=${BATCH:-256} gpus="--gpus 0" precision=fp16 device=cuda fp16=--fp16 PYTHON=${PYTHON:-python3} ;;
*) echo "usage: bench_predict.sh [cpu|gpu]" >&2; exit 2 ;;
esac
[ -f "$MODEL/model.safetensors" ] || { echo "bench_predict: $MODEL missing (make model)" >&2; exit 1; }
[ -f "$DATA/test/corpus.txt" ] || { echo "bench_predict: $DATA/test/corpus.txt missing" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 143' INT TERM

# inputs and the checkpoint
tok="$BIN/tc-tokenize -q --model $MODEL --max-len $MAX_LEN"
head -n "$N" "$DATA/test/corpus.txt" | $tok -o "$tmp/tokens.tct"
head -n 64 "$DATA/train/corpus.txt" | $tok -o "$tmp/train_tokens.tct"
tr '_' ' ' < "$DATA/labels.txt" | $tok -o "$tmp/class_tokens.tct"
"$BIN/tc-taxo" build -q "$DATA" -o "$tmp/taxonomy.tct"
"$BIN/tc-train" -q --gpus none --threads "$THREADS" -m "$MODEL" --class-tokens "$tmp/class_tokens.tct" \
    --taxonomy "$tmp/taxonomy.tct" --max-len "$MAX_LEN" --max-steps 1 --batch 8 -o "$tmp/run" \
    "$tmp/train_tokens.tct" "$DATA/train/doc2labels.txt"

if [ "$mode" = cpu ]; then
    . "$root/tests/bench/peers_lib.sh"
    PYTHON=$(peers_python)
    peers_require_numpy "$PYTHON" bench_predict
    for t in input_ids lengths; do "$BIN/tc-dump" -q --npy $t "$tmp/tokens.tct" -o "$tmp/$t.npy"; done
    print_cpu
    print_documents "$PYTHON" "$tmp/lengths.npy" "27 classes, max length $MAX_LEN, batch $BATCH, $THREADS threads, $REPEAT rounds"
    for round in $(seq "$REPEAT"); do  # every row once a round: a slow or fast spell falls on all alike
        echo "round $round of $REPEAT" >&2
        run_tc "$tmp/rows" "$tmp" "$BIN/tc-predict" scores "fp32 bf16 int8" -q --gpus none --threads "$THREADS" \
            --batch-size "$BATCH" -m "$tmp/run/final" "$tmp/tokens.tct"
        run_peers "$PYTHON" "$tmp/rows" "$tmp" --model "$tmp/run/final" --head "$tmp/run/final" --ids "$tmp/input_ids.npy" --lengths "$tmp/lengths.npy" \
            --batch-size "$BATCH" --threads "$THREADS" --repeat 1 --cache "${CACHE:-$root/build/peers-cache}"
    done
    $PYTHON "$root/tests/bench/bench_peers_table.py" "$tmp/rows" --tool tc-predict --unit docs/s \
        --count-of "$tmp/lengths.npy" --reference "PyTorch fp32" --top1
    exit 0
fi

py="$PYTHON $root/tests/bench/bench_predict_torch.py"
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
