# 1e8 f32 rows through a pipe: every value arrives, and the reader's peak
# memory stays bounded by the chunk size (4 MiB), not the 400 MB of data.
. "$TC_ROOT/tests/cli/lib.sh"
sample="$TC_HELPERS/tct-sample"
limit_kib=65536
[ "${TC_SANITIZE:-0}" = 1 ] && limit_kib=262144  # sanitizer shadow memory and quarantine
"$sample" rows 100000000 1 | "$sample" check-rows > result.txt 2> err.txt
status=$?
check pipe_status sh -c "test $status -eq 0 || { cat err.txt; exit 1; }"
check pipe_all_rows grep -q "^rows 100000000 " result.txt
rss=$(sed -n 's/.*peak_rss_kib \([0-9]*\).*/\1/p' result.txt)
echo "  reader peak RSS: ${rss:-?} KiB (limit $limit_kib KiB)"
check pipe_memory_bounded test "${rss:-999999999}" -lt $limit_kib
