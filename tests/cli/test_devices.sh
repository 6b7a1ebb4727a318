# --gpus on a machine as it is: with no GPU (or no driver), a CUDA build runs
# on the CPU and says so once; asking for a GPU there is a one-line error.
. "$TC_ROOT/tests/cli/lib.sh"
dev="$TC_HELPERS/devices"
expect gpus_none 0 "$dev" --gpus none
check gpus_none_cpu sh -c 'test "$(cat out)" = cpu && test ! -s err'
if [ "${TC_HAVE_CUDA:-0}" = 1 ] && ! "$dev" --gpus all > /dev/null 2>&1; then
    expect default_cpu 0 "$dev"
    check default_cpu_out test "$(cat out)" = cpu
    check default_says_once sh -c 'test $(grep -c "no usable GPU (.*): running on the CPU" err) -eq 1 && test $(wc -l < err) -eq 1'
    expect quiet_default 0 "$dev" -q
    check quiet_default_silent test ! -s err
    expect_error gpus_0_no_gpu 1 "^devices: --gpus 0: no GPU is available \(.+\)$" "$dev" --gpus 0
    expect_error gpus_all_no_gpu 1 "^devices: --gpus all: no GPU is available" "$dev" --gpus all
elif [ "${TC_HAVE_CUDA:-0}" = 1 ]; then
    expect default_gpus 0 "$dev"
    check default_uses_gpus grep -q "^gpus 0" out
    expect_error gpus_out_of_range 1 "there is no GPU 999" "$dev" --gpus 999
else
    expect default_cpu 0 "$dev"
    check default_cpu_quietly sh -c 'test "$(cat out)" = cpu && test ! -s err'
    expect_error gpus_0_cpu_build 1 "--gpus 0: this build has no CUDA backend" "$dev" --gpus 0
fi
expect_error gpus_malformed 1 "expected a list of GPU numbers" "$dev" --gpus 0,,x
