#!/bin/sh
# Training throughput on one GPU, tc-train side by side with Hugging Face
# transformers + PyTorch automatic mixed precision (bf16) training the same
# classifier (tests/bench/bench_train_gpu_torch.py: BERT encoder without
# dropout, mean pooling, bilinear head, weighted BCE, clipping, fused AdamW),
# on the same GPU, documents, batch and sequence length, for two models:
# all-MiniLM-L6-v2 (models/) and a bert-base-uncased-sized BERT with random
# weights (tests/bench/make_random_bert.py).
#
# Figures, each engine over the same STEPS steps after WARMUP:
#   tokens/s     real tokens (not padding) per second of whole steps
#   peak MiB     the GPU's used memory at its highest during the run, less
#                what was in use before it (nvidia-smi every 100 ms: CUDA
#                context, libraries, allocator caches, everything)
#   TFLOP/s      model FLOPs per second: 6 x (matrix parameters) per token
#                plus 12 x layers x hidden x (the token's sequence length)
#                for attention (recomputation not counted), and the share of
#                the GPU's dense 16-bit peak (PEAK_TFLOPS)
# tc-train looks at the host every WARMUP steps; its log lines after the
# first one are the measured steps.
#
# usage: tests/bench/bench_train_gpu.sh     settings from the environment:
#   GPU (0) BATCH (32) MAX_LEN (128) STEPS (60, rounded up to WARMUP's multiple)
#   WARMUP (10) PRECISION (bf16; fp32 compares with PyTorch in fp32)
#   MODELS ("minilm bert-base") TC_ARGS (more tc-train options, e.g. --checkpoint-activations)
#   PEAK_TFLOPS (default from the GPU's name: H100/H200 SXM 989, H100 PCIe 756,
#                A100 312, L40S 362, else 0: no share printed)
#   TC_BIN (the programs; default bin/, built by make) MINILM (the MiniLM
#   model; default models/all-MiniLM-L6-v2)
# Needs nvidia-smi, models/all-MiniLM-L6-v2 (make model), python3 with CUDA
# torch, transformers and numpy; uses ../shared/data/20ng when present, else
# a synthetic corpus of random vocabulary words.
set -eu
cd "$(dirname "$0")/../.."
GPU=${GPU:-0} BATCH=${BATCH:-32} MAX_LEN=${MAX_LEN:-128} STEPS=${STEPS:-60} WARMUP=${WARMUP:-10}
PRECISION=${PRECISION:-bf16} MODELS=${MODELS:-minilm bert-base} TC_ARGS=${TC_ARGS:-}
STEPS=$(( (STEPS + WARMUP - 1) / WARMUP * WARMUP ))
minilm=${MINILM:-models/all-MiniLM-L6-v2}
BIN=${TC_BIN:-bin}
data=${TC_DATA:-../shared/data}/20ng
die() { echo "bench_train_gpu: $*" >&2; exit 1; }
command -v nvidia-smi > /dev/null 2>&1 || die "nvidia-smi is missing: no NVIDIA GPU here"
[ -e "$minilm/model.safetensors" ] || die "$minilm is missing (make model)"
python3 -c 'import torch, transformers, numpy; assert torch.cuda.is_available()' 2> /dev/null ||
    die "python3 with CUDA torch, transformers and numpy is missing"
[ -n "${TC_BIN:-}" ] || make -s > /dev/null
dir=$(mktemp -d "${TMPDIR:-/tmp}/bench-train-gpu.XXXXXX")
sampler=""
trap '[ -n "$sampler" ] && kill "$sampler" 2> /dev/null; rm -rf "$dir"' EXIT
trap 'exit 143' INT TERM

# ---------------------------------------------------------------- data
docs=$((BATCH * (STEPS + WARMUP)))
if [ -e "$data/train/corpus.txt" ]; then
    head -n "$docs" "$data/train/corpus.txt" > "$dir/corpus.txt"
    cp "$data/train/doc2labels.txt" "$dir/doc2labels.txt"
    sed 's/_/ /g' "$data/labels.txt" > "$dir/names.txt"
else
    python3 - "$minilm/vocab.txt" "$dir" "$docs" << 'PY'
import random, sys
vocab = [w for w in open(sys.argv[1]).read().split("\n") if w.isalpha()]
out, n = sys.argv[2], int(sys.argv[3])
rng = random.Random(0)
with open(out + "/corpus.txt", "w") as c, open(out + "/doc2labels.txt", "w") as l:
    for i in range(n):
        c.write("d%d\t%s\n" % (i, " ".join(rng.choice(vocab) for _ in range(rng.randint(20, 400)))))
        l.write("d%d\t%d,%d\n" % (i, rng.randrange(27), rng.randrange(27)))
with open(out + "/names.txt", "w") as f:
    for k in range(27):
        f.write("%d\t%s %s\n" % (k, rng.choice(vocab), rng.choice(vocab)))
PY
fi
"$BIN"/tc-tokenize -q --model "$minilm" --max-len "$MAX_LEN" -o "$dir/tokens.tct" < "$dir/corpus.txt"
"$BIN"/tc-tokenize -q --model "$minilm" -o "$dir/classes.tct" < "$dir/names.txt"
"$BIN"/tc-dump --npy input_ids -o "$dir/input_ids.npy" "$dir/tokens.tct"
"$BIN"/tc-dump --npy lengths -o "$dir/lengths.npy" "$dir/tokens.tct"

# ---------------------------------------------------------------- the GPU
name=$(nvidia-smi -i "$GPU" --query-gpu=name --format=csv,noheader | head -n 1)
case "$name" in
*H100*PCIe*) peak=756 ;; *H100* | *H200* | *GH200*) peak=989 ;; *A100*) peak=312 ;; *L40S*) peak=362 ;; *) peak=0 ;;
esac
PEAK_TFLOPS=${PEAK_TFLOPS:-$peak}
used() { nvidia-smi -i "$GPU" --query-gpu=memory.used --format=csv,noheader,nounits | head -n 1; }
start_sampler() { nvidia-smi -i "$GPU" --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 > "$1" & sampler=$!; }
stop_sampler() { kill "$sampler" 2> /dev/null; wait "$sampler" 2> /dev/null || true; sampler=""; }
peak_mib() { echo $(( $(sort -n "$1" | tail -n 1) - $2 )); }
# model FLOPs per real token, from the model's config and the documents' lengths
flops_per_token() {
    python3 - "$1/config.json" "$dir/lengths.npy" << 'PY'
import json, sys
import numpy as np
c = json.load(open(sys.argv[1]))
C, L, F = c["hidden_size"], c["num_hidden_layers"], c["intermediate_size"]
n = np.load(sys.argv[2]).astype(np.float64)
matrix = L * (4 * C * C + 2 * C * F)          # QKV, projection, feed-forward
print(6 * matrix + 12 * L * C * (n * n).sum() / n.sum())
PY
}
tflops() { echo "$1 * $2 / 1e12" | bc -l; }
share() { if [ "$PEAK_TFLOPS" != 0 ]; then printf ' (%4.1f%%)' "$(echo "100 * $1 / $PEAK_TFLOPS" | bc -l)"; fi; }

export CUDA_VISIBLE_DEVICES="$GPU"
echo "GPU $GPU: $name; peak $PEAK_TFLOPS TFLOP/s; batch $BATCH, max length $MAX_LEN, $STEPS steps after $WARMUP, $PRECISION"
echo "tc-train: $BIN/tc-train --gpus 0 --precision $PRECISION --batch $BATCH --max-len $MAX_LEN --log-every $WARMUP $TC_ARGS"
printf '%-10s %12s %12s %6s %10s %10s %16s %16s\n' model "tc-train" PyTorch ratio "tc MiB" "torch MiB" "tc TFLOP/s" "torch TFLOP/s"
for m in $MODELS; do
    case "$m" in
    minilm) model=$minilm ;;
    bert-base)
        model=$dir/bert-base
        [ -e "$model/model.safetensors" ] || python3 tests/bench/make_random_bert.py "$model" "$minilm" > /dev/null 2>&1 ||
            die "cannot write the random bert-base model"
        ;;
    *) die "unknown model '$m' (minilm, bert-base)" ;;
    esac
    fpt=$(flops_per_token "$model")
    base=$(used)
    start_sampler "$dir/mem.tc"
    "$BIN"/tc-train -q --gpus 0 --precision "$PRECISION" -m "$model" --class-tokens "$dir/classes.tct" \
        --batch "$BATCH" --max-len "$MAX_LEN" --epochs 1 --max-steps $((STEPS + WARMUP)) --log-every "$WARMUP" \
        $TC_ARGS -o "$dir/run-$m" "$dir/tokens.tct" "$dir/doc2labels.txt"
    stop_sampler
    tc_mib=$(peak_mib "$dir/mem.tc" "$base")
    tc_rate=$(python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if "\"loss\"" in l][1:]
print("%.1f" % (sum(l["tokens"] for l in lines) / sum(l["tokens"] / l["tokens_per_s"] for l in lines)))
' "$dir/run-$m/log.jsonl")
    rm -rf "$dir/run-$m"
    base=$(used)
    start_sampler "$dir/mem.torch"
    torch_line=$(python3 tests/bench/bench_train_gpu_torch.py "$model" "$dir/input_ids.npy" "$dir/lengths.npy" \
        "$BATCH" "$STEPS" "$WARMUP" "$PRECISION" 2> /dev/null)
    stop_sampler
    torch_mib=$(peak_mib "$dir/mem.torch" "$base")
    torch_rate=$(echo "$torch_line" | awk '{print $3}')
    tc_tf=$(tflops "$tc_rate" "$fpt")
    torch_tf=$(tflops "$torch_rate" "$fpt")
    printf '%-10s %12.1f %12.1f %6.2f %10d %10d %9.1f%s %9.1f%s\n' "$m" "$tc_rate" "$torch_rate" \
        "$(echo "$tc_rate / $torch_rate" | bc -l)" "$tc_mib" "$torch_mib" "$tc_tf" "$(share "$tc_tf")" \
        "$torch_tf" "$(share "$torch_tf")"
    echo "           (PyTorch allocator peaks: $(echo "$torch_line" | awk '{print $11 " MiB allocated, " $13 " MiB reserved"}'))"
done
