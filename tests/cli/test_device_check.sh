# The GPU device kit rehearsed without a GPU (tests/gpu/device-check.sh
# --dry-run): it packs its bundle from this build, the bundle with the tree
# fits the 64 MiB a device call carries, the bundle's programs start on its
# own libraries, the GPU CLI comparisons pass with the CPU standing in for
# the GPU, the peer scripts compile, and it prints the device command. So the
# kit cannot rot between the days a GPU is lent.
. "$TC_ROOT/tests/cli/lib.sh"
if [ "${TC_HAVE_CUDA:-0}" != 1 ]; then
    skip device_check "this build has no CUDA backend: no GPU programs to bundle"
    exit 0
fi
run sh "$TC_ROOT/tests/gpu/device-check.sh" --dry-run "$T/kit"
if [ $status -eq 0 ]; then pass device_check_dry_run; else fail device_check_dry_run "exit $status: $(grep '^FAIL' "$T/out" | head -n 3 | tr '\n' ' ')"; fi
check device_check_summary_written test -s "$T/kit/summary.txt"
check device_check_no_fail sh -c '! grep -q "^FAIL" "$0/kit/summary.txt"' "$T"
check device_check_sizes_fit grep -q '^PASS sizes .* of 64$' "$T/kit/summary.txt"
check device_check_bundle_self_contained grep -q '^PASS bundle ' "$T/kit/summary.txt"
check device_check_standin_ran grep -q '^PASS standin/cli/test_gpu_train ' "$T/kit/summary.txt"
check device_check_every_gpu_script sh -c 'for s in "$1"/tests/gpu/test_*.sh; do grep -q "standin/cli/$(basename "$s" .sh) " "$2" || exit 1; done' \
    _ "$TC_ROOT" "$T/kit/summary.txt"
check device_check_command grep -q 'run(command="sh tests/gpu/device-check.sh", carry=\["build/device-bundle"\], timeout_s=' "$T/out"
check device_check_at_most_8_files test "$(ls "$T/kit" | wc -l)" -le 8
