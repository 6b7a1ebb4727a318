#!/bin/sh
# One quality run's classifier trained again with other seeds: a single
# pipeline run's Example-F1 and P@1 move with the training seed (and with a
# handful of changed training targets) by more than the differences worth
# telling apart, such as int8 against fp32 (README, "On a CPU with bf16 and
# VNNI units"). For each SEED: the pipeline's own tc-train command on the
# run's targets with --seed SEED, tc-predict at PRECISION on the run's test
# tokens, tc-eval; one line of metrics per seed, then their means.
#
# usage: tests/bench/quality_seeds.sh RUN PRECISION SEED...
#   RUN        a quality run's folder (work/quality*/runs/NAME, made by
#              tests/bench/quality.sh), left as it is
#   PRECISION  tc-predict's --precision (the run's own: fp32, int8, ...)
# Each seed's files go to RUN-seeds/SEED.
set -eu
[ $# -ge 3 ] || { echo "usage: tests/bench/quality_seeds.sh RUN PRECISION SEED..." >&2; exit 2; }
run=$1 precision=$2
shift 2
cd "$(dirname "$0")/../.."
BIN=${TC_BIN:-bin}
MODEL=${CLS_MODEL:-${MODEL:-models/all-MiniLM-L6-v2}}
for f in targets.tct train-all.tokens.tct classes.emb.tct taxonomy.tct test.tokens.tct test-gold.txt; do
    [ -f "$run/$f" ] || { echo "quality_seeds: $run/$f is missing (a finished tests/bench/quality.sh run?)" >&2; exit 1; }
done
mkdir -p "$run-seeds"
for seed in "$@"; do
    out=$run-seeds/$seed
    rm -rf "$out" && mkdir -p "$out"
    "$BIN/tc-train" -q --model "$MODEL" --max-len 128 --seed "$seed" --class-vectors "$run/classes.emb.tct" \
        --taxonomy "$run/taxonomy.tct" -o "$out/classifier" "$run/train-all.tokens.tct" "$run/targets.tct"
    "$BIN/tc-predict" -q --precision "$precision" --model "$out/classifier/final" --taxonomy "$run/taxonomy.tct" \
        --scores --paths "$run/test.tokens.tct" -o "$out/predictions.tct"
    "$BIN/tc-eval" -q --gold "$run/test-gold.txt" --taxonomy "$run/taxonomy.tct" --tsv "$out/predictions.tct" \
        -o "$out/metrics.tsv"
    awk -F'\t' -v seed="$seed" '$1 ~ /^(example_f1|p@1|mrr|micro_f1)$/ { v[$1] = $2 }
        END { printf "seed %s\texample_f1 %.4f\tp@1 %.4f\tmrr %.4f\tmicro_f1 %.4f\n", seed, v["example_f1"],
              v["p@1"], v["mrr"], v["micro_f1"] }' "$out/metrics.tsv"
done | tee "$run-seeds/lines.tsv.tmp"
awk -F'\t' '{ for (i = 2; i <= 5; i++) { split($i, kv, " "); s[i] += kv[2]; name[i] = kv[1] } n++ }
    END { printf "mean of %d\t", n; for (i = 2; i <= 5; i++) printf "%s %.4f%s", name[i], s[i] / n, i < 5 ? "\t" : "\n" }' \
    "$run-seeds/lines.tsv.tmp"
rm -f "$run-seeds/lines.tsv.tmp"
