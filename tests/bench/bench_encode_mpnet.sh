#!/bin/sh
# tc-encode against sentence-transformers on the paper's encoder,
# all-mpnet-base-v2, on the CPU in fp32: bench_encode.sh with its model and
# settings, so the two models' tables read side by side.
#
#   tests/bench/bench_encode_mpnet.sh            # speed: 200 documents, best of 3
#   N=1000 REPEAT=1 tests/bench/bench_encode_mpnet.sh   # parity on 1000 documents
#
# Settings as bench_encode.sh's (N, MAX_LEN 128, BATCH 32, THREADS, REPEAT,
# PYTHON with sentence-transformers, TC_BIN); MODEL defaults to
# models/all-mpnet-base-v2 (make model NAME=all-mpnet-base-v2). The last
# line is the parity of tc-encode's embeddings with encode()'s (min cosine,
# max abs error) over every document.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=${MODEL:-$root/models/all-mpnet-base-v2} N=${N:-200} MAX_LEN=${MAX_LEN:-128} BATCH=${BATCH:-32} \
    exec sh "$root/tests/bench/bench_encode.sh" cpu
