#!/bin/sh
# Tensor stream throughput against plain zstd on the same bytes.
# Writes and reads 1 GiB of embeddings-like f32 data (unit-length gaussian
# rows of 384 values) at the default level (3): compression alone,
# decompression alone, and writer | reader through a pipe, each side by side
# with `zstd -3` / `zstd -d` on the same raw bytes. The format's overhead over
# plain zstd should be under 10%.
#
# usage: tests/bench/bench_tct.sh [MiB]     (default 1024)
set -eu
cd "$(dirname "$0")/../.."
mib=${1:-1024}
make -s tests > /dev/null
sample=$(ls build/opt-*/tests/helpers/tct-sample | head -n 1)
dir=$(mktemp -d "${TMPDIR:-/tmp}/bench-tct.XXXXXX")
trap 'rm -rf "$dir"' EXIT
rows=$((mib * 1024 * 1024 / (384 * 4)))
"$sample" raw-embeddings $rows 384 > "$dir/raw"
bytes=$(wc -c < "$dir/raw")

# seconds for a shell command, best of 3 (the page cache is warm after the first)
best() {
    best_time=""
    for i in 1 2 3; do
        start=$(date +%s.%N)
        sh -c "$1" > /dev/null 2>&1 || { echo "bench: failed: $1" >&2; exit 1; }
        t=$(echo "$(date +%s.%N) - $start" | bc -l)
        if [ -z "$best_time" ] || [ "$(echo "$t < $best_time" | bc -l)" = 1 ]; then best_time=$t; fi
    done
    echo "$best_time"
}
row() { # LABEL TCT_SECONDS ZSTD_SECONDS
    printf '%-28s %8.2f s %7.0f MB/s   %8.2f s %7.0f MB/s   %+6.1f%%\n' "$1" "$2" \
        "$(echo "$bytes / $2 / 1000000" | bc -l)" "$3" "$(echo "$bytes / $3 / 1000000" | bc -l)" \
        "$(echo "($2 / $3 - 1) * 100" | bc -l)"
}

w_tct=$(best "$sample from-raw 384 < $dir/raw > $dir/x.tct")
w_zstd=$(best "zstd -q -3 -c < $dir/raw > $dir/x.zst")
r_tct=$(best "$sample drain < $dir/x.tct")
r_zstd=$(best "zstd -q -d -c < $dir/x.zst > /dev/null")
p_tct=$(best "$sample from-raw 384 < $dir/raw | $sample drain")
p_zstd=$(best "zstd -q -3 -c < $dir/raw | zstd -q -d -c > /dev/null")

echo "tensor stream vs zstd, $(echo "$bytes / 1048576" | bc) MiB of f32 embeddings (384 wide), level 3, $(nproc) cores"
printf '%-28s %-24s   %-24s   %s\n' "" "tct" "zstd" "overhead"
row "write (compress)" "$w_tct" "$w_zstd"
row "read (decompress)" "$r_tct" "$r_zstd"
row "write | read through a pipe" "$p_tct" "$p_zstd"
printf '%-28s %14d bytes           %14d bytes     %+6.2f%%\n' "compressed size" "$(wc -c < "$dir/x.tct")" \
    "$(wc -c < "$dir/x.zst")" "$(echo "($(wc -c < "$dir/x.tct") / $(wc -c < "$dir/x.zst") - 1) * 100" | bc -l)"
