# The GPU device kit rehearsed without a GPU (tests/gpu/device-check.sh
# --dry-run): it packs its bundle from this build, the bundle with the tree
# fits the 64 MiB a device call carries, the bundle's programs start on its
# own libraries, the GPU CLI comparisons pass with the CPU standing in for
# the GPU, the peer scripts compile, and it prints the device command. So the
# kit cannot rot between the days a GPU is lent.
# Once, in the plain build: the kit bundles programs built for the GPU
# machine (never the sanitizer build's), and its stand-in runs repeat, on the
# CPU, what test_encode, test_predict, test_refine and test_train run under
# the sanitizers.
. "$TC_ROOT/tests/cli/lib.sh"
if [ "${TC_HAVE_CUDA:-0}" != 1 ]; then
    skip device_check "this build has no CUDA backend: no GPU programs to bundle"
    exit 0
fi
if [ "${TC_SANITIZE:-0}" = 1 ]; then
    skip device_check "the sanitizer build: the plain build rehearses the device kit"
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
