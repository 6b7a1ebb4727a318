#!/bin/sh
# The quality harness: runs the pipeline at its defaults (examples/pipeline.mk,
# nothing but DATA and WORK) on each dataset and prints one table: the
# dataset's size, the zero-shot / pipeline / supervised rows scored alike
# (top 3 of all classes ranked; path-consistent sets), and the wall time of
# each stage.
#
# usage: tests/bench/quality.sh [DATASET ...]        (also: make quality)
#   DATASET  a folder in the TELEClass layout (labels.txt, label_hierarchy.txt,
#            train/ and test/ with corpus.txt and doc2labels.txt), or one of
#            the datasets made from ../shared/data:
#              20ng-600    the first 600 training / 400 test documents of 20NG
#              20ng-3000   3000 / 2000
#              20ng-full   all 11,314 / 7,532
#              amazon531   Amazon-531's 2,555 generated reviews, split per path
#                          60/40 (tests/bench/quality_split.py), 531 classes
#              dbpedia298  DBPedia-298's 1,095 generated articles, the same way
#            default: 20ng-600 amazon531 dbpedia298 20ng-3000 20ng-full
# Environment: QUALITY_WORK (default work/quality, or work/quality-NAME... when
# MODEL, SIM_MODEL, CLS_MODEL or PRECISION is set) holds every run's files;
# a dataset whose run finished is not run again (remove its folder to redo).
# Pipeline variables (TC_FLAGS, GPUS, MODEL, SIM_MODEL, CLS_MODEL, ...) pass
# through the environment, e.g. the paper's similarity encoder:
#   SIM_MODEL=models/all-mpnet-base-v2 tests/bench/quality.sh
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
# runs with other encoders go to their own folder: finished runs are reused
tag=""
for v in MODEL SIM_MODEL CLS_MODEL; do
    eval "m=\${$v:-}"
    [ -n "$m" ] && tag="$tag-$(echo "$v" | tr 'A-Z_' 'a-z-')-$(basename "$m")"
done
[ -n "${PRECISION:-}" ] && tag="$tag-precision-$PRECISION"
work=${QUALITY_WORK:-work/quality$tag}
shared=${TC_DATA:-../shared/data}
[ $# -gt 0 ] || set -- 20ng-600 amazon531 dbpedia298 20ng-3000 20ng-full
mkdir -p "$work"
make -s
sh scripts/fetch-model.sh > /dev/null
sh scripts/fetch-model.sh --dirs ${MODEL:+"$MODEL"} ${SIM_MODEL:+"$SIM_MODEL"} ${CLS_MODEL:+"$CLS_MODEL"} > /dev/null

# dataset NAME -> sets $data and $vars (pipeline variables), or fails
dataset() {
    vars=""
    case "$1" in
    20ng-600) data=$shared/20ng vars="TRAIN_DOCS=600 TEST_DOCS=400" ;;
    20ng-3000) data=$shared/20ng vars="TRAIN_DOCS=3000 TEST_DOCS=2000" ;;
    20ng-full) data=$shared/20ng ;;
    amazon531 | dbpedia298)
        data=$work/data/$1
        [ -f "$data/test/doc2labels.txt" ] || python3 tests/bench/quality_split.py "$shared/$1" "$data" > /dev/null ;;
    *) data=$1 ;;
    esac
    for f in labels.txt label_hierarchy.txt train/corpus.txt train/doc2labels.txt test/corpus.txt test/doc2labels.txt; do
        [ -f "$data/$f" ] || { echo "quality: $1: $data/$f is missing" >&2; return 1; }
    done
}

results=$work/results.tsv
: > "$results"
for name in "$@"; do
    dataset "$name" || continue
    run=$work/runs/$(basename "$name")
    if [ ! -f "$run/supervised.metrics.tsv" ] || [ ! -f "$run/times.tsv" ]; then
        echo "quality: $name: running the pipeline into $run"
        # shellcheck disable=SC2086
        PREFIX="quality: $(basename "$name"): " sh scripts/pipeline-run.sh "$data" "$run" $vars || {
            echo "quality: $name: the pipeline failed" >&2; continue; }
    fi
    # size: documents, classes, levels
    train_docs=$(wc -l < "$run/train.txt") test_docs=$(wc -l < "$run/test.txt")
    classes=$(wc -l < "$data/labels.txt")
    levels=$(bin/tc-taxo show --summary "$run/taxonomy.tct" | awk -F"\t" '$1 == "max_depth" { print $2 }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(basename "$name")" "$train_docs" "$test_docs" "$classes" "${levels:-?}" "$run" >> "$results"
done

# The table: one block per dataset, under the encoders it used.
default_model=models/all-MiniLM-L6-v2
echo
echo "similarity model ${SIM_MODEL:-${MODEL:-$default_model}}, classifier model ${CLS_MODEL:-${MODEL:-$default_model}}"
awk -F'\t' '
function load(file, row,    line, kv) {
    while ((getline line < file) > 0) { split(line, kv, "\t"); m[row, kv[1]] = kv[2] }
    close(file)
}
function f(x) { return x == "" ? "-" : sprintf("%.3f", x) }
{
    name = $1; run = $6
    delete m
    load(run "/zeroshot.metrics.tsv", 1); load(run "/metrics.tsv", 2); load(run "/supervised.metrics.tsv", 3)
    printf "\n%s: %s train / %s test documents, %s classes, %s levels\n", name, $2, $3, $4, $5
    printf "  %-12s %7s %7s %7s %7s %7s | %8s %8s", "", "EF1", "P@1", "P@2", "P@3", "MRR", "set-F1", "macro-F1"
    for (l = 1; (1, "level" l "_f1") in m; l++) printf " %7s", "L" l "-F1"
    printf "\n"
    split("zero-shot pipeline supervised", rows, " ")
    for (r = 1; r <= 3; r++) {
        printf "  %-12s %7s %7s %7s %7s %7s | %8s %8s", rows[r], f(m[r, "example_f1"]), f(m[r, "p@1"]), f(m[r, "p@2"]),
            f(m[r, "p@3"]), f(m[r, "mrr"]), f(m[r, "micro_f1"]), f(m[r, "macro_f1"])
        for (l = 1; (1, "level" l "_f1") in m; l++) printf " %7s", f(m[r, "level" l "_f1"])
        printf "\n"
    }
    printf "  %-12s %+7.3f %+7.3f %+7.3f %+7.3f %+7.3f | %+8.3f %+8.3f", "pipeline-zs", m[2, "example_f1"] - m[1, "example_f1"],
        m[2, "p@1"] - m[1, "p@1"], m[2, "p@2"] - m[1, "p@2"], m[2, "p@3"] - m[1, "p@3"], m[2, "mrr"] - m[1, "mrr"],
        m[2, "micro_f1"] - m[1, "micro_f1"], m[2, "macro_f1"] - m[1, "macro_f1"]
    for (l = 1; (1, "level" l "_f1") in m; l++) printf " %+7.3f", m[2, "level" l "_f1"] - m[1, "level" l "_f1"]
    printf "\n  seconds:"
    total = 0
    while ((getline line < (run "/times.tsv")) > 0) { split(line, kv, "\t"); printf " %s %s", kv[1], kv[2]; total += kv[2] }
    close(run "/times.tsv")
    printf "; total %d\n", total
}' "$results"
