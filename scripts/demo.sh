#!/bin/sh
# make demo: the TELEClass pipeline end to end on 20 Newsgroups with the
# default model, from class names only, then its metrics on the test
# documents next to the zero-shot floor and the supervised ceiling.
#
# Installs what is missing, builds, fetches the model, prepares the data
# (../shared/data/20ng when present, else the public archive, downloaded and
# prepared by scripts/prepare_20ng.py), and runs every stage of
# examples/pipeline.mk into work/demo/, timing each. Every stage's output
# stays there for tc-dump.
#
# Size: TRAIN_DOCS training and TEST_DOCS test documents (the first ones of
# each split; the splits are shuffled). Both classifiers train for tc-train's
# floor of 300 steps whatever the size, so the defaults (1000 and 500) fit in
# 15 minutes on a 2-core CPU; GPUs are used when present. Override on the
# command line:
#   make demo TRAIN_DOCS=all TEST_DOCS=all
# Models: MODEL (default models/all-MiniLM-L6-v2), or the similarity encoder
# and the classifier apart, as the paper has them (fetched when they are
# models/NAME of a model make model knows):
#   make demo SIM_MODEL=models/all-mpnet-base-v2
set -eu
cd "$(dirname "$0")/.."
TRAIN_DOCS=${TRAIN_DOCS:-1000}
TEST_DOCS=${TEST_DOCS:-500}
EPOCHS=${EPOCHS:-}
# the similarity and classifier encoders (examples/pipeline.mk), MODEL both by default
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
SIM_MODEL=${SIM_MODEL:-$MODEL} CLS_MODEL=${CLS_MODEL:-$MODEL}
WORK=${WORK:-work/demo}
start=$(date +%s)

sh scripts/deps.sh --check > /dev/null 2>&1 || sh scripts/deps.sh
make -s
sh scripts/fetch-model.sh --dirs "$SIM_MODEL" "$CLS_MODEL"

data=../shared/data/20ng
if [ ! -f "$data/train/corpus.txt" ]; then
    data=work/20ng
    if [ ! -f "$data/train/corpus.txt" ]; then
        url=http://qwone.com/~jason/20Newsgroups/20news-bydate.tar.gz
        mkdir -p work
        echo "demo: ../shared/data/20ng is absent: fetching $url"
        curl -fsSL -o work/20news-bydate.tar.gz "$url" ||
            { echo "demo: cannot download $url" >&2; exit 1; }
        python3 scripts/prepare_20ng.py work/20news-bydate.tar.gz "$data"
    fi
fi

echo "demo: 20 Newsgroups from $data: $TRAIN_DOCS training and $TEST_DOCS test documents, class names only"
models=$([ "$SIM_MODEL" = "$CLS_MODEL" ] && echo "model $SIM_MODEL" || echo "similarity model $SIM_MODEL, classifier model $CLS_MODEL")
echo "demo: $models, ${EPOCHS:+$EPOCHS epoch(s)}${EPOCHS:-training budget of tc-train (at least 300 steps)}; outputs in $WORK"
nproc=$(nproc 2> /dev/null || echo 1)
echo "demo: $nproc CPU cores$(command -v nvidia-smi > /dev/null 2>&1 && nvidia-smi -L 2> /dev/null | sed 's/^/, /' | tr -d '\n')"

PREFIX="demo: " sh scripts/pipeline-run.sh "$data" "$WORK" TRAIN_DOCS="$TRAIN_DOCS" TEST_DOCS="$TEST_DOCS" EPOCHS="$EPOCHS" \
    SIM_MODEL="$SIM_MODEL" CLS_MODEL="$CLS_MODEL"
echo
sh scripts/pipeline-report.sh "$WORK"
echo
echo "demo: finished in $(($(date +%s) - start))s; every stage's output is in $WORK (tc-dump FILE)"
