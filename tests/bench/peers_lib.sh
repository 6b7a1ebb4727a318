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

# add_row_once ROWS KIND NAME RESULT OUTPUTS: add_row in the first round only.
add_row_once() {
    grep -qF "$(printf '\t%s\t' "$4")" "$1" 2> /dev/null || add_row "$@"
}

# time_tc RESULT CMD...: one pass of the whole command, its wall seconds
# added to RESULT's list. A command that fails (a path this CPU or this
# build lacks) leaves "SKIP: " and its first line on stderr instead, and
# returns 1, as it does at once in later rounds.
time_tc() {
    _result=$1
    shift
    grep -q '^SKIP:' "$_result" 2> /dev/null && return 1
    _start=$(date +%s.%N)
    if ! "$@" > /dev/null 2> "$_result.err"; then
        printf 'SKIP: %s\n' "$(grep -m 1 . "$_result.err" | tr '\t' ' ')" > "$_result"
        return 1
    fi
    _end=$(date +%s.%N)
    _secs=$(echo "$_start $_end" | awk '{printf "%.4f", $2 - $1}')
    if [ -s "$_result" ]; then sed -i "s/]}\$/, $_secs]}/" "$_result"; else echo "{\"seconds\": [$_secs]}" > "$_result"; fi
}

# run_tc ROWS DIR PROGRAM TENSOR "PRECISIONS" ARGS...: PROGRAM --precision P
# ARGS... -o DIR/tc-P.tct for each P, timed by time_tc; TENSOR of its output
# (for the cosine column) to DIR/tc-P.npy; a row each in ROWS.
run_tc() {
    _rows=$1 _dir=$2 _program=$3 _tensor=$4 _precisions=$5
    shift 5
    for _p in $_precisions; do
        echo "  $(basename "$_program") --precision $_p" >&2
        time_tc "$_dir/tc-$_p.json" "$_program" --precision "$_p" "$@" -o "$_dir/tc-$_p.tct" &&
            "$BIN/tc-dump" -q --npy "$_tensor" "$_dir/tc-$_p.tct" -o "$_dir/tc-$_p.npy"
        add_row_once "$_rows" tc "$(basename "$_program") $_p" "$_dir/tc-$_p.json" "$_dir/tc-$_p.npy"
    done
}

# run_peer PYTHON RESULT PEER ARGS...: one peer of bench_encode_peers.py in its
# own process. It exits 3 with a SKIP line when it cannot run here; any other
# failure becomes a SKIP row quoting its last line on stderr.
run_peer() {
    _py=$1 _result=$2 _peer=$3
    shift 3
    grep -q '^SKIP:' "$_result" 2> /dev/null && return 0
    echo "  $_peer" >&2
    _rc=0
    "$_py" "$root/tests/bench/bench_encode_peers.py" run "$_peer" "$@" > "$_result.new" 2> "$_result.err" < /dev/null ||
        _rc=$?
    case $_rc in
    0 | 3) ;;
    *) printf 'SKIP: failed (exit %d): %s\n' "$_rc" "$(grep . "$_result.err" | tail -n 1 | tr '\t' ' ' | cut -c 1-200)" \
        > "$_result.new" ;;
    esac
    if [ -s "$_result" ] && ! grep -q '^SKIP:' "$_result.new"; then  # a later round: its passes join the earlier ones'
        "$_py" -c 'import json, statistics, sys
old, new = (json.loads(open(f).read().splitlines()[-1]) for f in sys.argv[1:])
new["seconds"] = old["seconds"] + new["seconds"]
new["median"] = statistics.median(new["seconds"])
print(json.dumps(new))' "$_result" "$_result.new" > "$_result.merged" && mv "$_result.merged" "$_result"
    else
        mv "$_result.new" "$_result"
    fi
}

# run_peers PYTHON ROWS DIR ARGS...: every peer in turn, on the same ARGS
# (bench_encode_peers.py's), results and outputs in DIR, a row each in ROWS
# (names as printed; PyTorch fp32 is the reference of the cosine column).
run_peers() {
    _py=$1 _rows=$2 _dir=$3
    shift 3
    for _peer in torch-fp32 torch-bf16 ort-fp32 ort-int8 ort-int8-channel openvino; do
        case $_peer in
        torch-fp32) _name="PyTorch fp32" ;;
        torch-bf16) _name="PyTorch bf16 autocast" ;;
        ort-fp32) _name="ONNX Runtime fp32" ;;
        ort-int8) _name="ONNX Runtime int8 quantize_dynamic" ;;
        ort-int8-channel) _name="ONNX Runtime int8 per-channel" ;;
        openvino) _name="OpenVINO, its default precision" ;;
        esac
        run_peer "$_py" "$_dir/$_peer.json" "$_peer" "$@" --out "$_dir/$_peer.npy"
        add_row_once "$_rows" peer "$_name" "$_dir/$_peer.json" "$_dir/$_peer.npy"
    done
}

# print_documents PYTHON LENGTHS.npy WHAT: the documents' count and tokens, then WHAT
print_documents() {
    "$1" -c 'import numpy as n, sys; l = n.load(sys.argv[1])
print("%d documents, %d tokens (%.0f per document), %s" % (len(l), l.sum(), l.mean(), sys.argv[2]))' "$2" "$3"
}
