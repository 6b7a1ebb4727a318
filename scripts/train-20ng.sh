#!/bin/sh
# A real training run on 20 Newsgroups with the default model, on the CPU:
# the first TRAIN_DOCS training documents (the prepared data is shuffled, so
# a prefix is a fair sample) with their gold path labels as targets, class
# vectors from the 27 class names embedded by the model, scored on the first
# TEST_DOCS test documents before training (the untrained head, logged as
# step 0) and after each epoch. Prints the loss and the test metrics before
# and after, and draws the log.
#
# usage: scripts/train-20ng.sh [OUTDIR]     (default build/train-20ng)
# settings from the environment: TRAIN_DOCS (1000) TEST_DOCS (500) EPOCHS (1)
#   MAX_LEN (128) BATCH (16) LR (2e-4) THREADS (all cores) MODEL
#   (models/all-MiniLM-L6-v2) TC_DATA (../shared/data)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
data=${TC_DATA:-$root/../shared/data}/20ng
model=${MODEL:-$root/models/all-MiniLM-L6-v2}
out=${1:-$root/build/train-20ng}
TRAIN_DOCS=${TRAIN_DOCS:-1000} TEST_DOCS=${TEST_DOCS:-500} EPOCHS=${EPOCHS:-1}
MAX_LEN=${MAX_LEN:-128} BATCH=${BATCH:-16} LR=${LR:-2e-4} THREADS=${THREADS:-0}
PATH=$root/bin:$PATH
for f in "$data/train/corpus.txt" "$data/test/corpus.txt" "$data/labels.txt" "$model/model.safetensors"; do
    [ -e "$f" ] || { echo "train-20ng: $f is missing (make model; ../shared/data)" >&2; exit 1; }
done
for p in tc-tokenize tc-taxo tc-train; do
    command -v $p > /dev/null || { echo "train-20ng: $p is not built (make)" >&2; exit 1; }
done
threads=""
[ "$THREADS" -gt 0 ] && threads="--threads $THREADS"
mkdir -p "$out"

head -n "$TRAIN_DOCS" "$data/train/corpus.txt" | tc-tokenize -q --model "$model" --max-len "$MAX_LEN" -o "$out/train.tct"
head -n "$TEST_DOCS" "$data/test/corpus.txt" | tc-tokenize -q --model "$model" --max-len "$MAX_LEN" -o "$out/test.tct"
# class names as words: computer_graphics -> computer graphics
sed 's/_/ /g' "$data/labels.txt" | tc-tokenize -q --model "$model" -o "$out/classes.tct"
# the taxonomy, for the class names the checkpoint records
tc-taxo build -q -o "$out/taxonomy.tct" "$data"

rm -rf "$out/run"
start=$(date +%s)
tc-train -m "$model" --class-tokens "$out/classes.tct" --taxonomy "$out/taxonomy.tct" --val "$out/test.tct" \
    --val-targets "$data/test/doc2labels.txt" --epochs "$EPOCHS" --batch "$BATCH" --lr "$LR" \
    --max-len "$MAX_LEN" $threads --progress -o "$out/run" "$out/train.tct" "$data/train/doc2labels.txt"
end=$(date +%s)
tc-train --plot "$out/run/log.jsonl" -o "$out/loss.png" || true

python3 - "$out/run/log.jsonl" "$((end - start))" << 'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
steps = [l for l in lines if "loss" in l]
vals = [l for l in lines if "val_loss" in l]
n = max(1, len(steps) // 10)
first = sum(l["loss"] for l in steps[:n]) / n
last = sum(l["loss"] for l in steps[-n:]) / n
tok = sum(l["tokens"] for l in steps)
print(f"steps {len(steps)}, wall {sys.argv[2]} s, {tok} training tokens, "
      f"mean {sum(l['tokens_per_s'] for l in steps) / len(steps):.0f} tokens/s")
print(f"training loss: first {n} steps {first:.4f}, last {n} steps {last:.4f}")
for v in vals:
    print(f"test at step {v['step']:>4}: loss {v['val_loss']:.4f}  P@1 {v['val_p_at_1']:.4f}  "
          f"example-F1 {v['val_example_f1']:.4f}  ({v['val_docs']} documents)")
PY

# The best checkpoint in PyTorch: transformers' BertModel and tokenizer, the
# head from head.safetensors, scored on the same test documents.
if python3 -c 'import torch, transformers, safetensors' 2> /dev/null; then
    head -n "$TEST_DOCS" "$data/test/corpus.txt" > "$out/test.txt"
    python3 - "$out/run/best" "$out/test.txt" "$data/test/doc2labels.txt" "$MAX_LEN" << 'PY'
import json, sys, torch
from safetensors.torch import load_file
from transformers import AutoTokenizer, BertModel
ckpt, corpus, gold_path, max_len = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
model = BertModel.from_pretrained(ckpt).eval()
tok = AutoTokenizer.from_pretrained(ckpt)
head = load_file(ckpt + "/head.safetensors")
meta = json.load(open(ckpt + "/classifier.json"))
assert meta["pooling"] == "mean" and not meta["normalize"]
gold = {l.split("\t")[0]: {int(c) for c in l.strip().split("\t")[1].split(",")} for l in open(gold_path)}
docs = [l.rstrip("\n").split("\t", 1) for l in open(corpus)]
hits = 0
with torch.no_grad():
    for i in range(0, len(docs), 32):
        part = docs[i:i + 32]
        enc = tok([t for _, t in part], truncation=True, max_length=max_len, padding=True, return_tensors="pt")
        h = model(**enc).last_hidden_state
        m = enc["attention_mask"].unsqueeze(-1).float()
        scores = ((h * m).sum(1) / m.sum(1)) @ head["interaction.weight"] @ head["label_embedding_weights"].T
        hits += sum(int(s.argmax()) in gold[d] for (d, _), s in zip(part, scores))
print(f"PyTorch on {ckpt}: P@1 {hits / len(docs):.4f} on {len(docs)} test documents")
PY
fi
echo "checkpoints: $out/run (best, final); plot: $out/loss.png"
