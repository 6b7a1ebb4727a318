#!/bin/sh
# Looking at intermediates: every stage's output is a tensor file that
# tc-dump lists, checks, summarises and exports; numpy loads the exports.
#   sh examples/inspect.sh examples/20ng/work
set -eu
work=${1:-examples/20ng/work}
bin=$(cd "$(dirname "$0")/.." && pwd)/bin
"$bin/tc-dump" "$work/train.tokens.tct"                   # tensors, shapes, sizes, attributes
"$bin/tc-dump" --meta "$work/core.tct"                    # which command made it
"$bin/tc-dump" --stats --tensor embeddings "$work/train.emb.tct"
"$bin/tc-dump" --head 3 --tensor label_classes "$work/refined.tct"
"$bin/tc-dump" --check "$work/predictions.tct"
"$bin/tc-dump" --tsv doc_ids,lengths "$work/train.tokens.tct" | sort -t "$(printf '\t')" -k2 -n | tail -n 3
"$bin/tc-dump" --npy embeddings -o "$work/train.emb.npy" "$work/train.emb.tct"
"$bin/tc-dump" --npy doc_ids -o "$work/train.ids.npy" "$work/train.emb.tct"
"$bin/tc-dump" --npy scores -o "$work/scores.npy" "$work/predictions.tct"
python3 "$(dirname "$0")/inspect.py" "$work"
