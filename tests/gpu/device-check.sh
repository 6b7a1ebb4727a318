#!/bin/sh
# The GPU path proven in one call: on a machine with an NVIDIA GPU, in under
# 8 minutes, every kernel and CLI comparison with the CPU, compute-sanitizer
# over the kernel tests, and the benchmarks beside their PyTorch peers; one
# summary line per check (PASS / FAIL / SKIP with the reason, and figures).
#
#   tests/gpu/device-check.sh [OUTDIR]     on the GPU machine (OUTDIR: $OUT)
#   tests/gpu/device-check.sh --bundle     here: build portable binaries
#                                          (x86-64-v3, sm_90) and pack them
#                                          with their libraries into
#                                          build/device-bundle
#   tests/gpu/device-check.sh --dry-run [OUTDIR]   here, no GPU needed: packs
#                                          a bundle from TC_BIN/TC_TESTBIN (or
#                                          the opt build), checks its sizes,
#                                          runs every step that needs no GPU
#                                          and prints the device command
#
# OUTDIR gets summary.txt and at most 7 more files: env.txt, setup.log,
# tests.log, sanitizer.log, bench.log. The GPU machine needs the CUDA
# toolkit and python3 with torch, transformers and sentence-transformers;
# nothing else (the bundle brings the rest; random-weight models of the
# MiniLM and bert-base shapes are made there). docs/HACKING.md tells how to
# read the summary.
set -u
KIT_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$KIT_ROOT/tests/gpu/device_lib.sh"
mode=device
case ${1:-} in
--dry-run) mode=dry; shift ;;
--bundle) mode=bundle; shift ;;
-h | --help) sed -n '2,22p' "$0"; exit 0 ;;
esac
# cuobjdump, compute-sanitizer and nvcc live in the toolkit's bin/
PATH=$PATH:${CUDA_HOME:-/usr/local/cuda}/bin
BUNDLE_DIR=${TC_DEVICE_BUNDLE:-$KIT_ROOT/build/device-bundle}
RUN_TIMEOUT=560
DEVICE_COMMAND="sh tests/gpu/device-check.sh"

# ------------------------------------------------------------ --bundle
if [ "$mode" = bundle ]; then
    [ -f "$KIT_ROOT/models/all-MiniLM-L6-v2/vocab.txt" ] ||
        { echo "device-check: models/all-MiniLM-L6-v2 is missing (make model): the GPU machine needs its tokenizer" >&2; exit 1; }
    build=build/device-build
    targets="programs"
    for c in "$KIT_ROOT"/tests/gpu/test_*.c; do targets="$targets $build/tests/$(basename "$c" .c)"; done
    for h in $KIT_HELPERS; do targets="$targets $build/tests/helpers/$h"; done
    echo "building $build: x86-64-v3 host code, sm_90 GPU code (H100/H200) with its PTX"
    make -C "$KIT_ROOT" -j2 BUILD="$build" NATIVE=0 CFLAGS=-march=x86-64-v3 CUDA=1 CUDA_ARCHS=90 $targets ||
        { echo "device-check: the build failed" >&2; exit 1; }
    make_bundle "$KIT_ROOT/$build/bin" "$KIT_ROOT/$build/tests" "$KIT_ROOT/models/all-MiniLM-L6-v2" "$BUNDLE_DIR" 9 \
        "sm_90 (and compute_90 PTX)" || { echo "device-check: cannot pack $BUNDLE_DIR" >&2; exit 1; }
    echo "bundle: $(mib "$(du -cb "$BUNDLE_DIR"/* | tail -n 1 | cut -f1)") MiB in $BUNDLE_DIR"
    cat "$BUNDLE_DIR/MANIFEST"
    exit 0
fi

OUTDIR=${1:-${OUT:-}}
[ -n "$OUTDIR" ] || { echo "usage: device-check.sh [--dry-run|--bundle] [OUTDIR] (or set OUT)" >&2; exit 2; }
mkdir -p "$OUTDIR" || exit 1
OUTDIR=$(cd "$OUTDIR" && pwd)
SUMMARY=$OUTDIR/summary.txt
for f in summary.txt env.txt setup.log tests.log sanitizer.log bench.log; do : > "$OUTDIR/$f"; done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tc-device.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 143' INT TERM
KIT_START=$(date +%s)
KIT_DEADLINE=$((KIT_START + ${KIT_SECONDS:-470}))
PYTHON=${PYTHON:-python3}

. "$KIT_ROOT/tests/gpu/device_steps.sh"
if [ "$mode" = dry ]; then
    dry_run
else
    device_run
fi
n_fail=$(grep -c '^FAIL' "$SUMMARY")
echo "$(grep -c '^PASS' "$SUMMARY") PASS, $n_fail FAIL, $(grep -c '^SKIP' "$SUMMARY") SKIP in $(($(date +%s) - KIT_START)) s" | tee -a "$SUMMARY"
[ "$n_fail" -eq 0 ]
