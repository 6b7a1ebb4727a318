#!/bin/sh
# make demo: the TELEClass pipeline end to end on 20 Newsgroups with the
# default model, from class names only. Installs what is missing, builds,
# fetches the model, runs every stage into work/demo/ and prints the metrics.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh --check > /dev/null 2>&1 || sh scripts/deps.sh
make -s
sh scripts/fetch-model.sh
work=work/demo
mkdir -p "$work"
echo "demo: the pipeline stages land in the programs as they are built; available now:"
for p in bin/tc-*; do echo "  $p"; done
