#!/bin/sh
# Does tuning the similarity encoder on the pipeline's own pairs raise the
# quality harness's figures? Runs the harness (tests/bench/quality.sh) on a
# dataset at its defaults, makes pairs from that run's outputs (tc-taxo
# pairs: each confident document with its refined core classes' names and
# key terms), trains the similarity encoder on them (tc-train --objective
# contrastive) and runs the harness again with the tuned encoder as
# SIM_MODEL (annotation, enrichment and refinement; the classifier stays
# MODEL). Both tables print, then the per-document comparison of P@1 for
# the zero-shot and pipeline rows (tests/bench/quality_paired.py): how many
# test documents each run alone gets right, and the sign test's p-value.
#
# usage: tests/bench/quality_tuned.sh [DATASET]    (default 20ng-600)
# Environment: BATCH (32), EPOCHS (1), LR (2e-5, not scaled), MAX_LEN (128,
# the pipeline's), TC_DATA as quality.sh. The encoder tuned is the
# harness's default (models/all-MiniLM-L6-v2); the tuned copy is
# work/tuned/TAG/sim-TAG (TAG: DATASET-bBATCH-eEPOCHS-lrLR), so that each
# setting's harness run has a folder of its own, work/quality-sim-model-sim-TAG.
set -eu
cd "$(dirname "$0")/../.."
name=${1:-20ng-600}
BATCH=${BATCH:-32} EPOCHS=${EPOCHS:-1} LR=${LR:-2e-5} MAX_LEN=${MAX_LEN:-128}
model=models/all-MiniLM-L6-v2
tag=$name-b$BATCH-e$EPOCHS-lr$LR
dir=work/tuned/$tag
tuned=$dir/sim-$tag

echo "== $name, the harness at its defaults"
env -u MODEL -u SIM_MODEL -u CLS_MODEL -u PRECISION -u QUALITY_WORK sh tests/bench/quality.sh "$name"
run=work/quality/runs/$(basename "$name")
[ -f "$run/metrics.tsv" ] || { echo "quality_tuned: $name: the run at the defaults did not finish ($run)" >&2; exit 1; }

if [ ! -e "$tuned/model.safetensors" ]; then
    mkdir -p "$dir"
    bin/tc-taxo pairs -q --taxonomy "$run/taxonomy.enriched.tct" --corpus "$run/train.txt" "$run/refined.tct" \
        -o "$dir/pairs.tsv"
    cut -f1,2 "$dir/pairs.tsv" | bin/tc-tokenize -q --model "$model" --max-len "$MAX_LEN" -o "$dir/anchors.tct"
    cut -f1,3 "$dir/pairs.tsv" | bin/tc-tokenize -q --model "$model" --max-len "$MAX_LEN" -o "$dir/positives.tct"
    echo "== $(wc -l < "$dir/pairs.tsv") pairs ($(cut -f2 "$dir/pairs.tsv" | sort -u | wc -l) distinct class texts);" \
        "tc-train --objective contrastive, batch $BATCH, $EPOCHS epoch(s), lr $LR; load $(cut -d' ' -f1-3 /proc/loadavg)"
    rm -rf "$dir/train"
    t0=$(date +%s)
    bin/tc-train -q --objective contrastive -m "$model" --batch "$BATCH" --epochs "$EPOCHS" --lr "$LR" --lr-scale none \
        --max-len "$MAX_LEN" --gpus none --no-tensorboard -o "$dir/train" "$dir/anchors.tct" "$dir/positives.tct"
    echo "== trained in $(($(date +%s) - t0)) s; load $(cut -d' ' -f1-3 /proc/loadavg)"
    rm -rf "$tuned"
    cp -RL "$dir/train/final" "$tuned"   # final is a link to a checkpoint
fi

echo "== $name, the harness with SIM_MODEL=$tuned"
env -u MODEL -u CLS_MODEL -u PRECISION -u QUALITY_WORK SIM_MODEL="$tuned" sh tests/bench/quality.sh "$name"
tuned_run=work/quality-sim-model-$(basename "$tuned")/runs/$(basename "$name")
[ -f "$tuned_run/metrics.tsv" ] || { echo "quality_tuned: $name: the run with the tuned encoder did not finish ($tuned_run)" >&2; exit 1; }

echo
echo "== per test document, default encoder -> tuned (zero-shot row, then pipeline row)"
gold=$run/test-gold.txt
for row in zeroshot.tct predictions.tct; do
    for r in "$run" "$tuned_run"; do
        bin/tc-dump -q --tsv doc_ids,scores "$r/$row" > "$r/$row.scores.tsv"
    done
    python3 tests/bench/quality_paired.py "$row" "$gold" "$run/$row.scores.tsv" "$tuned_run/$row.scores.tsv"
done
