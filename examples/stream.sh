#!/bin/sh
# The pipeline's front half as one shell pipeline: stages stream into each
# other, so encoding starts while the corpus is still being tokenized, and
# nothing but the final labels touches the disk.
#
#   sh examples/stream.sh ../shared/data/20ng 2000 > core.tct
#
# arguments: DATA (TELEClass layout) and how many training documents.
set -eu
data=${1:-../shared/data/20ng}
n=${2:-2000}
bin=$(cd "$(dirname "$0")/.." && pwd)/bin
model=$(cd "$(dirname "$0")/.." && pwd)/models/all-MiniLM-L6-v2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the taxonomy and the class names' embeddings (small: files are fine)
"$bin/tc-taxo" build -q "$data" -o "$tmp/taxonomy.tct"
"$bin/tc-taxo" texts -q "$tmp/taxonomy.tct" |
    "$bin/tc-tokenize" -q --model "$model" |
    "$bin/tc-encode" -q --model "$model" |
    "$bin/tc-taxo" term-embeddings -q --taxonomy "$tmp/taxonomy.tct" -o "$tmp/names.tct"

# documents -> tokens -> embeddings -> core classes, streaming
head -n "$n" "$data/train/corpus.txt" |
    "$bin/tc-tokenize" -q --model "$model" |
    "$bin/tc-encode" -q --model "$model" |
    "$bin/tc-refine" annotate -q --taxonomy "$tmp/taxonomy.tct" --terms "$tmp/names.tct"
