#!/bin/sh
# tc-encode beside its peers on the same documents, the same model, the same
# batch size and truncation:
#
#   tests/bench/bench_encode.sh cpu    # every CPU path of tc-encode (fp32, bf16,
#                                      # int8) and every CPU peer, one table
#   tests/bench/bench_encode.sh gpu    # fp16 on GPU 0 against ST fp16 on it,
#                                      # plus achieved TFLOP/s against the peak
#   PRECISION=bf16 tests/bench/bench_encode.sh gpu   # bf16 on both sides
#
# Settings (environment): N documents (default 1000, the first of 20 Newsgroups
# test/corpus.txt), MAX_LEN (128), BATCH (32 on the CPU, 256 on a GPU),
# THREADS (all cores), REPEAT (3; cpu: rounds, each running every tc path
# once and every peer for one pass in its own process, in turn, so that a
# slower or faster spell of the machine falls on every row alike; best and
# median over the rounds; gpu: passes of each side),
# MODEL, CORPUS, PEAK_TFLOPS (the GPU's dense fp16 peak, default 989: H100
# SXM), PYTHON, PRECISION (gpu: fp16 or bf16), TC_BIN (the programs) and
# TC_HELPERS (the test helpers; default the opt build's), CACHE (cpu: where
# the exported peer models are kept, default build/peers-cache).
#
# cpu: the documents are tokenized once by tc-tokenize; every row reads the
# same token ids. Each tc-encode path is the whole command (start, model load,
# reading and writing files), once a round; a path this CPU or build lacks
# exits 1 with one line, printed as a SKIP row. The peers
# (bench_encode_peers.py, each in its own process) are timed on the model
# loop alone over length-sorted batches of BATCH, after a warm-up pass over
# every batch (every shape seen once):
# PyTorch fp32 (the reference), PyTorch bf16 autocast (where the CPU has
# avx512_bf16 or amx_bf16), ONNX Runtime fp32 and int8 (quantize_dynamic,
# per-tensor and per-channel), OpenVINO at its default CPU precision (named
# in its row). PYTHON defaults to build/peers-venv (make deps PEERS=1); a
# missing package is a SKIP row naming it. Each row: docs/s best and median,
# and the smallest cosine over the documents against PyTorch fp32 (same
# pooling and normalization as tc-encode's). The last line sets tc-encode's
# best path against the fastest peers (bench_peers_table.py).
#
# gpu: tc-encode's time is the whole command; the peer's is encode() after a
# warm-up batch ("encode", tokenization included) and the model alone on
# pre-tokenized batches ("forward"). The embeddings of both are compared
# (cosine, max abs error).
set -eu
mode=${1:-cpu}
root=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-1000}
MAX_LEN=${MAX_LEN:-128}
THREADS=${THREADS:-$(nproc)}
REPEAT=${REPEAT:-3}
MODEL=${MODEL:-$root/models/all-MiniLM-L6-v2}
CORPUS=${CORPUS:-$root/../shared/data/20ng/test/corpus.txt}
PYTHON=${PYTHON:-}
BIN=${TC_BIN:-$root/bin}
PEAK_TFLOPS=${PEAK_TFLOPS:-989}
case $mode in
cpu) BATCH=${BATCH:-32} ;;
gpu) BATCH=${BATCH:-256} ;;
*) echo "usage: bench_encode.sh [cpu|gpu]" >&2; exit 2 ;;
esac
[ -f "$MODEL/model.safetensors" ] || { echo "bench_encode: $MODEL missing (make model)" >&2; exit 1; }
[ -f "$CORPUS" ] || { echo "bench_encode: $CORPUS missing" >&2; exit 1; }

if [ "$mode" = cpu ]; then
    . "$root/tests/bench/peers_lib.sh"
    PYTHON=$(peers_python)
    peers_require_numpy "$PYTHON" bench_encode
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    trap 'exit 143' INT TERM
    head -n "$N" "$CORPUS" | "$BIN/tc-tokenize" -q --model "$MODEL" --max-len "$MAX_LEN" -o "$tmp/tokens.tct"
    for t in input_ids lengths; do "$BIN/tc-dump" -q --npy $t "$tmp/tokens.tct" -o "$tmp/$t.npy"; done
    print_cpu
    print_documents "$PYTHON" "$tmp/lengths.npy" "max length $MAX_LEN, batch $BATCH, $THREADS threads, $REPEAT rounds"
    for round in $(seq "$REPEAT"); do  # every row once a round: a slow or fast spell falls on all alike
        echo "round $round of $REPEAT" >&2
        run_tc "$tmp/rows" "$tmp" "$BIN/tc-encode" embeddings "fp32 bf16 int8" -q --gpus none --threads "$THREADS" \
            --batch-size "$BATCH" -m "$MODEL" "$tmp/tokens.tct"
        run_peers "$PYTHON" "$tmp/rows" "$tmp" --model "$MODEL" --ids "$tmp/input_ids.npy" --lengths "$tmp/lengths.npy" \
            --batch-size "$BATCH" --threads "$THREADS" --repeat 1 --cache "${CACHE:-$root/build/peers-cache}"
    done
    $PYTHON "$root/tests/bench/bench_peers_table.py" "$tmp/rows" --tool tc-encode --unit docs/s \
        --count-of "$tmp/lengths.npy" --reference "PyTorch fp32"
    exit 0
fi

gpus="--gpus 0" precision=${PRECISION:-fp16} device=cuda fp16=--$precision PYTHON=${PYTHON:-python3}
helpers=${TC_HELPERS:-$(dirname "$(ls "$root"/build/opt-*/tests/helpers/golden-pack 2> /dev/null | head -n 1)")}
[ -x "$helpers/golden-pack" ] || { echo "bench_encode: run 'make tests' first (golden-pack helper)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 143' INT TERM
st="$PYTHON $root/tests/bench/bench_encode_st.py --model $MODEL --corpus $CORPUS --n $N --max-len $MAX_LEN --batch-size $BATCH --threads $THREADS --device $device $fp16 --pack $helpers/golden-pack"

$st prepare --out "$tmp/tokens.tct" > "$tmp/prepare.json" 2> "$tmp/prepare.err" || { cat "$tmp/prepare.err" >&2; exit 1; }
for _ in $(seq "$REPEAT"); do
    $PYTHON "$root/tests/bench/bench_encode_st.py" time "$BIN/tc-encode" -q $gpus --threads "$THREADS" \
        --batch-size "$BATCH" --precision $precision -m "$MODEL" "$tmp/tokens.tct" -o "$tmp/tc.tct" >> "$tmp/tc.json"
done
$st run --emb-out "$tmp/st.tct" > "$tmp/st.json" 2> "$tmp/st.err" || { cat "$tmp/st.err" >&2; exit 1; }
parity=$("$helpers/emb-compare" "$tmp/tc.tct" "$tmp/st.tct" 0 1 || true)
"$BIN/tc-dump" --tsv lengths "$tmp/tokens.tct" > "$tmp/lengths.txt"

$PYTHON - "$tmp" "$MODEL" "$mode" "$PEAK_TFLOPS" "$parity" << 'EOF'
import json, sys
tmp, model, mode, peak, parity = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
tc = min(map(json.loads, open(tmp + "/tc.json")), key=lambda j: j["seconds"])  # the best run
tc_s = tc["seconds"]
prep = json.load(open(tmp + "/prepare.json"))
st = {j["mode"]: j for j in map(json.loads, open(tmp + "/st.json"))}
cfg = json.load(open(model + "/config.json"))
C, F, layers = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
lengths = [int(x) for x in open(tmp + "/lengths.txt")]
# matrix products per layer: q,k,v,out (4 C^2), two feed-forward (2 C F), attention (2 L^2 C)
flop = sum(layers * (2 * L * (4 * C * C + 2 * C * F) + 4 * L * L * C) for L in lengths)
docs, tokens = prep["docs"], prep["tokens"]
rows = [("tc-encode", tc)] + [("sentence-transformers " + m, st[m]) for m in ("encode", "forward")]
print("%d documents, %d tokens (%.0f per document), %.2f TFLOP" % (docs, tokens, tokens / docs, flop / 1e12))
print("%-32s %8s %9s %10s %8s %8s %8s" % ("", "seconds", "docs/s", "tokens/s", "TFLOP/s", "slower", "CPU s"))
for name, r in rows:
    s = r["seconds"]
    print("%-32s %8.2f %9.1f %10.0f %8.3f %7.2fx %8.1f" % (name, s, docs / s, tokens / s, flop / s / 1e12, s / tc_s, r["cpu"]))
print("tc-encode vs encode(): %.2fx, vs forward: %.2fx (wall); %.2fx, %.2fx (CPU seconds)" % (
    st["encode"]["seconds"] / tc_s, st["forward"]["seconds"] / tc_s, st["encode"]["cpu"] / tc["cpu"], st["forward"]["cpu"] / tc["cpu"]))
if mode == "gpu":
    print("tc-encode: %.1f%% of the %.0f TFLOP/s peak" % (100 * flop / tc_s / 1e12 / peak, peak))
print("parity (tc-encode vs encode()): " + parity)
EOF
