#!/bin/sh
# tc-tokenize against Hugging Face tokenizers (encode_batch, the same
# truncation and padding) on 20 Newsgroups (train + test, 31.5 MB), one
# thread and all threads, side by side: MB/s of input and tokens/s (tokens
# with [CLS]/[SEP], before padding, which both count the same), wall clock
# and CPU time; then checks that both made the very same ids. Last, the peak
# RSS and throughput of tc-tokenize on a 1 GB input (20 Newsgroups repeated,
# in a temporary directory removed afterwards).
#
# tc-tokenize is timed end to end (reading the file, writing the compressed
# tensor file); tokenizers is timed on texts already decoded in memory.
#
# usage: tests/bench/bench_tokenize.sh [MAX_LEN [GB]]   (defaults 128 and 1; GB 0 skips the big run)
# Environment: TC_DATA (default ../shared/data), PYTHON (default build/venv/bin/python3),
# MODEL (default models/all-MiniLM-L6-v2; models/all-mpnet-base-v2 measures
# MPNet's tokenizer, whose <unk> is matched in the normalized text).
set -eu
cd "$(dirname "$0")/../.."
max_len=${1:-128}
gb=${2:-1}
data=${TC_DATA:-../shared/data}
model=${MODEL:-models/all-MiniLM-L6-v2}
py=${PYTHON:-build/venv/bin/python3}
for f in "$data/20ng/train/corpus.txt" "$data/20ng/test/corpus.txt" "$model/tokenizer.json"; do
    [ -f "$f" ] || { echo "bench_tokenize: $f missing" >&2; exit 1; }
done
"$py" -c 'import numpy, tokenizers' 2> /dev/null || { echo "bench_tokenize: $py lacks numpy or tokenizers" >&2; exit 1; }
make -s > /dev/null
tc=bin/tc-tokenize
dir=$(mktemp -d "${TMPDIR:-/tmp}/bench-tokenize.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cat "$data/20ng/train/corpus.txt" "$data/20ng/test/corpus.txt" > "$dir/corpus.txt"
bytes=$(wc -c < "$dir/corpus.txt")
cores=$(nproc)

# tc RUN_LABEL THREADS: best wall and its CPU seconds of 5 runs
tc_time() {
    best="" best_cpu=""
    for i in 1 2 3 4 5; do
        /usr/bin/time -f '%e %U %S' -o "$dir/time" "$tc" -q --model "$model" --max-len "$max_len" \
            --threads "$1" "$dir/corpus.txt" -o "$dir/tc.tct"
        read -r wall user sys < "$dir/time"
        if [ -z "$best" ] || [ "$(echo "$wall < $best" | bc -l)" = 1 ]; then
            best=$wall best_cpu=$(echo "$user + $sys" | bc -l)
        fi
    done
    echo "$best $best_cpu"
}

set -- $(tc_time 1)
tc1=$1 tc1_cpu=$2
set -- $(tc_time "$cores")
tcn=$1 tcn_cpu=$2
bin/tc-dump --npy input_ids "$dir/tc.tct" -o "$dir/tc.npy"
bin/tc-dump --npy lengths "$dir/tc.tct" -o "$dir/tc_lengths.npy"
set -- $(RAYON_NUM_THREADS=1 "$py" tests/bench/bench_tokenize_hf.py "$model" "$dir/corpus.txt" "$max_len" "$dir/hf.npy")
hf1=$1 hf1_cpu=$2 docs=$4 tokens=$5 hf1_fast=$6
set -- $("$py" tests/bench/bench_tokenize_hf.py "$model" "$dir/corpus.txt" "$max_len" "$dir/hf.npy")
hfn=$1 hfn_cpu=$2 hfn_fast=$6
same=$("$py" -c "
import numpy as np, sys
a, b, n = np.load(sys.argv[1]), np.load(sys.argv[2]), np.load(sys.argv[3])
print('identical' if a.shape == b.shape and (a == b).all() and int(n.sum()) == int(sys.argv[4]) else
      'DIFFERENT (%d of %d rows)' % (int((a != b).any(axis=1).sum()) if a.shape == b.shape else -1, len(b)))
" "$dir/tc.npy" "$dir/hf.npy" "$dir/tc_lengths.npy" "$tokens")

mbs() { echo "$bytes / $1 / 1000000" | bc -l; }
tps() { echo "$tokens / $1" | bc -l; }
row() { # LABEL TC_SECONDS TC_CPU HF_SECONDS HF_CPU
    printf '%-14s %8.1f MB/s %11.0f tok/s %6.2f s (cpu %6.2f)   %7.2f MB/s %10.0f tok/s %7.2f s (cpu %7.2f)   %6.1fx\n' \
        "$1" "$(mbs "$2")" "$(tps "$2")" "$2" "$3" "$(mbs "$4")" "$(tps "$4")" "$4" "$5" "$(echo "$4 / $2" | bc -l)"
}
echo "tc-tokenize vs Hugging Face tokenizers $("$py" -c 'import tokenizers; print(tokenizers.__version__)') encode_batch"
echo "20 Newsgroups train+test: $docs documents, $bytes bytes, max_len $max_len, $tokens tokens; $cores cores ($(uptime | sed 's/.*load average/load average/'))"
printf '%-14s %-55s   %-55s   %s\n' "" "tc-tokenize" "tokenizers" "ratio"
row "1 thread" "$tc1" "$tc1_cpu" "$hf1" "$hf1_cpu"
row "$cores threads" "$tcn" "$tcn_cpu" "$hfn" "$hfn_cpu"
printf 'tokenizers encode_batch_fast (no offsets): %.2f s with 1 thread, %.2f s with %d\n' "$hf1_fast" "$hfn_fast" "$cores"
echo "output: $same"

if [ "$gb" != 0 ]; then
    target=$(echo "$gb * 1000000000" | bc)
    : > "$dir/big.txt"
    while [ "$(wc -c < "$dir/big.txt")" -lt "$target" ]; do cat "$dir/corpus.txt" >> "$dir/big.txt"; done
    big=$(wc -c < "$dir/big.txt")
    /usr/bin/time -f '%e %M' -o "$dir/time" "$tc" -q --model "$model" --max-len "$max_len" "$dir/big.txt" > /dev/null
    read -r wall rss < "$dir/time"
    rm -f "$dir/big.txt"
    printf '%s bytes (%.2f GB), %d threads: %.1f s, %.1f MB/s, peak RSS %.1f MiB\n' "$big" \
        "$(echo "$big / 1000000000" | bc -l)" "$cores" "$wall" "$(echo "$big / $wall / 1000000" | bc -l)" \
        "$(echo "$rss / 1024" | bc -l)"
fi
