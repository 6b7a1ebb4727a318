# Shared by the CPU benchmarks that set tc's paths beside the peers
# (bench_encode.sh cpu, bench_predict.sh cpu, bench_train.sh); sourced, with
# $root (the repository) set. Each row is a result file (a JSON line, or
# "SKIP: why") named in a rows file that bench_peers_table.py prints.

# The peers' Python: PYTHON, else the venv `make deps PEERS=1` makes, else python3.
peers_python() {
    if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"
    elif [ -x "$root/build/peers-venv/bin/python3" ]; then echo "$root/build/peers-venv/bin/python3"
    else echo python3
    fi
}

# The table needs numpy; the peers say for themselves what else they lack.
peers_require_numpy() {
    "$1" -c 'import numpy' 2> /dev/null ||
        { echo "$2: $1 lacks numpy (make deps PEERS=1 makes build/peers-venv, or set PYTHON)" >&2; exit 1; }
}

print_cpu() {
    echo "CPU: $(grep -m 1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
    echo "CPU flags: $(grep -o 'avx512_bf16\|amx_bf16\|amx_int8\|avx512_vnni\|avx_vnni\|avx512f\|avx2' /proc/cpuinfo |
        sort -u | tr '\n' ' ')"
}

# add_row ROWS KIND NAME RESULT OUTPUTS
add_row() {
    printf '%s\t%s\t%s\t%s\n' "$2" "$3" "$4" "$5" >> "$1"
}

# time_tc RESULT CMD...: the whole command REPEAT times, wall seconds each.
# A command that fails (a path this CPU or this build lacks) leaves
# "SKIP: " and its first line on stderr instead, and returns 1.
time_tc() {
    _result=$1
    shift
    _secs=
    for _ in $(seq "$REPEAT"); do
        _start=$(date +%s.%N)
        if ! "$@" > /dev/null 2> "$_result.err"; then
            printf 'SKIP: %s\n' "$(grep -m 1 . "$_result.err" | tr '\t' ' ')" > "$_result"
            return 1
        fi
        _end=$(date +%s.%N)
        _secs="$_secs${_secs:+, }$(echo "$_start $_end" | awk '{printf "%.4f", $2 - $1}')"
    done
    echo "{\"seconds\": [$_secs]}" > "$_result"
}

# run_peer PYTHON RESULT PEER ARGS...: one peer of bench_encode_peers.py in its
# own process. It exits 3 with a SKIP line when it cannot run here; any other
# failure becomes a SKIP row quoting its last line on stderr.
run_peer() {
    _py=$1 _result=$2 _peer=$3
    shift 3
    echo "  $_peer" >&2
    _rc=0
    "$_py" "$root/tests/bench/bench_encode_peers.py" run "$_peer" "$@" > "$_result" 2> "$_result.err" || _rc=$?
    case $_rc in
    0 | 3) ;;
    *) printf 'SKIP: failed (exit %d): %s\n' "$_rc" "$(grep . "$_result.err" | tail -n 1 | tr '\t' ' ' | cut -c 1-200)" > "$_result" ;;
    esac
}

# The peers' rows, names as printed, in order: PEER<TAB>NAME
peer_names() {
    printf '%s\t%s\n' torch-fp32 "PyTorch fp32" torch-bf16 "PyTorch bf16 autocast" \
        ort-fp32 "ONNX Runtime fp32" ort-int8 "ONNX Runtime int8 quantize_dynamic" \
        ort-int8-channel "ONNX Runtime int8 per-channel" openvino "OpenVINO, its default precision"
}
