#!/bin/sh
# Prints the pipeline's metrics on the test documents next to its two
# reference rows, and how much of the gap between them the pipeline closes:
#   zero-shot   top-down similarity to the class names, no training
#   TELEClass   the pipeline from class names only
#   supervised  the same classifier trained on the gold training labels
# usage: scripts/pipeline-report.sh WORKDIR   (reads *.metrics.tsv there)
set -eu
w=${1:?usage: pipeline-report.sh WORKDIR}
for f in zeroshot.metrics.tsv metrics.tsv supervised.metrics.tsv; do
    [ -f "$w/$f" ] || { echo "pipeline-report: $w/$f is missing" >&2; exit 1; }
done
awk -F'\t' '
FNR == 1 { file++ }
{ v[file, $1] = $2 }
END {
    split("example_f1 p@1 p@2 p@3 mrr micro_f1 macro_f1", keys, " ")
    split("Example-F1 P@1 P@2 P@3 MRR micro-F1 macro-F1", labels, " ")
    split("zero-shot (class names, no training)|TELEClass pipeline (class names only)|supervised (gold training labels)", rows, "|")
    printf "%-40s", "test documents: " v[2, "matched"]
    for (k = 1; k <= 7; k++) printf " %10s", labels[k]
    printf "\n"
    for (r = 1; r <= 3; r++) {
        printf "%-40s", rows[r]
        for (k = 1; k <= 7; k++) printf " %10s", (v[r, keys[k]] == "" ? "-" : sprintf("%.4f", v[r, keys[k]]))
        printf "\n"
    }
    printf "%-40s", "gap closed by the pipeline"
    for (k = 1; k <= 7; k++) {
        lo = v[1, keys[k]]; mid = v[2, keys[k]]; hi = v[3, keys[k]]
        if (lo == "" || mid == "" || hi == "" || hi - lo == 0) printf " %10s", "-"
        else printf " %9.0f%%", 100 * (mid - lo) / (hi - lo)
    }
    printf "\n"
}' "$w/zeroshot.metrics.tsv" "$w/metrics.tsv" "$w/supervised.metrics.tsv"
