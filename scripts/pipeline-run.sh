#!/bin/sh
# Runs examples/pipeline.mk stage by stage, timing each: the pipeline from
# class names, then its two reference rows. Prints one line per stage and
# writes WORK/times.tsv (stage<TAB>seconds). make demo and the quality
# harness (tests/bench/quality.sh) run the pipeline this way.
#
# usage: scripts/pipeline-run.sh DATA WORK [VAR=value ...]
#   DATA  a dataset in the TELEClass layout (labels.txt, label_hierarchy.txt,
#         train/ and test/ with corpus.txt and doc2labels.txt)
#   VAR=value  pipeline.mk's variables (TRAIN_DOCS=600, TC_FLAGS=-v, ...)
# Environment: PREFIX (default "pipeline: ") starts each printed line.
set -eu
[ $# -ge 2 ] || { echo "usage: scripts/pipeline-run.sh DATA WORK [VAR=value ...]" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$2"
DATA=$(cd "$1" && pwd) WORK=$(cd "$2" && pwd)
export DATA WORK
shift 2
for setting in "$@"; do
    case "$setting" in
    [A-Z]*=*) export "$setting" ;;
    *) echo "pipeline-run: '$setting' is not VAR=value" >&2; exit 2 ;;
    esac
done
prefix=${PREFIX-pipeline: }
# a stage already made keeps the time it took then (a rerun resumes)
old=$(cat "$WORK/times.tsv" 2> /dev/null || true)
: > "$WORK/times.tsv"

stage() { # NAME LABEL TARGET: pipeline.mk's variables come from the environment
    if make -s -q --no-print-directory -C "$top" -f examples/pipeline.mk "$3" 2> /dev/null &&
        dt=$(printf '%s\n' "$old" | awk -F'\t' -v s="$1" '$1 == s { t = $2 } END { if (t != "") print t; else exit 1 }'); then
        note=" (made before)"
    else
        t0=$(date +%s)
        make -s --no-print-directory -C "$top" -f examples/pipeline.mk "$3"
        dt=$(($(date +%s) - t0)) note=""
    fi
    printf '%s\t%d\n' "$1" "$dt" >> "$WORK/times.tsv"
    printf '%s%-58s %5ds%s\n' "$prefix" "$2" "$dt" "$note"
}
stage taxonomy "taxonomy (tc-taxo build)" taxonomy
stage names "class names: tokenize, encode, term sets" names
stage tokens "tokenize the documents (tc-tokenize)" tokens
stage embeddings "encode the documents (tc-encode)" embeddings
stage annotate "core classes by top-down search (tc-refine annotate)" annotate
stage enrich "corpus-based enrichment (tc-taxo candidates, enrich)" enrich
stage refine "refinement (tc-refine refine)" refine
stage augment "path-based augmentation (tc-augment)" augment
stage targets "training targets (tc-taxo targets)" targets
stage train "classifier training (tc-train)" train
stage predict "prediction (tc-predict --paths)" predict
stage metrics "evaluation (tc-eval)" metrics
stage zeroshot "reference: zero-shot (annotate the test documents)" zeroshot
stage supervised "reference: supervised (tc-train on gold labels)" supervised
