# Streams built to attack a reader (tests/helpers/tct-sample hostile): a
# 32 KB frame declaring a 1 GiB record is refused from its header, after one
# block, in bounded memory; a tensor of 2^40 zero-width rows is listed, dumped
# and exported in bounded work.
. "$TC_ROOT/tests/cli/lib.sh"
sample="$TC_HELPERS/tct-sample"
for kind in zero-width bomb-chunk bomb-sizes bomb-end; do
    "$sample" hostile $kind > $kind.tct || { fail setup "tct-sample hostile $kind failed"; exit 1; }
done
check bombs_are_small sh -c 'for f in bomb-*.tct; do test $(wc -c < $f) -lt 65536 || exit 1; done'

# A record is decompressed in full only once its header agrees with the
# frame: the reader's peak memory stays far below the 1 GiB declared (it was
# over 1 GiB, and 5 seconds, when the sizes were checked after decompressing).
limit_kib=65536
[ "${TC_SANITIZE:-0}" = 1 ] && limit_kib=262144  # sanitizer shadow memory and quarantine
bomb() { # KIND MESSAGE
    expect_error "$1_refused" 1 "^tct-sample: \(stdin\): byte 67: $2" sh -c "'$sample' peak < $1.tct > $1.peak"
    rss=$(sed -n 's/^peak_rss_kib \([0-9]*\)$/\1/p' $1.peak)
    echo "  $1: reader peak RSS ${rss:-?} KiB (limit $limit_kib KiB)"
    check "$1_memory_bounded" test "${rss:-999999999}" -lt $limit_kib
    expect_error "$1_dump" 1 "^tc-dump: $1.tct: byte 67: $2" tc-dump --check $1.tct
}
bomb bomb-chunk "chunk of tensor 'x' has the wrong size"
bomb bomb-sizes "record sizes do not add up"
bomb bomb-end "data in a record that has none"
# nor is memory reserved for the declared size before the header is checked:
# under a 300 MB address-space limit the message is the same, not "out of
# memory" (the sanitizers reserve terabytes of address space: not there)
if [ "${TC_SANITIZE:-0}" = 1 ]; then
    skip bomb_no_reservation "ulimit -v does not work with the sanitizers"
else
    expect_error bomb_no_reservation 1 "^tct-sample: \(stdin\): byte 67: chunk of tensor 'x' has the wrong size" \
        sh -c "ulimit -v 300000 && '$sample' peak < bomb-chunk.tct > /dev/null"
fi
# the decompressed form is checked the same way, before its data is read
zstdcat bomb-chunk.tct | head -c 4096 > bomb-raw.tct
expect_error bomb_raw 1 "^tc-dump: bomb-raw.tct: byte 192: chunk of tensor 'x' has the wrong size" tc-dump --check bomb-raw.tct

# [2^40, 0]: a few hundred bytes; the listing, --stats, --head and --json
# list no rows (there are no values), --tsv refuses to print 2^40 empty
# lines, --npy writes a header only. Each within seconds, not forever.
expect zero_width_list 0 timeout 20 tc-dump --stats zero-width.tct
check zero_width_shape grep -q "x  *f32  *\[1099511627776,0\]" out
expect zero_width_head 0 timeout 20 tc-dump --head 5 zero-width.tct
check zero_width_head_no_rows sh -c '! grep -q "\[0\]" out'
expect zero_width_json 0 timeout 20 tc-dump --json zero-width.tct
check zero_width_json_data python3 -c '
import json
d = json.load(open("out"))
assert d["tensors"][0]["shape"] == [1099511627776, 0] and d["tensors"][0]["data"] == [], d'
expect_error zero_width_tsv 1 "^tc-dump: zero-width.tct: the rows of 'x' hold no values: no text to export$" \
    timeout 20 tc-dump --tsv x -o zw.tsv zero-width.tct
check zero_width_tsv_no_file test ! -e zw.tsv
expect zero_width_npy 0 timeout 20 tc-dump --npy x -o zw.npy zero-width.tct
check zero_width_npy_header_only sh -c 'test $(wc -c < zw.npy) -eq 256 && grep -q "(1099511627776, 0)" zw.npy'
expect zero_width_check 0 timeout 20 tc-dump --check zero-width.tct
