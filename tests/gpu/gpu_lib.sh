# Sourced by tests/gpu/test_gpu_*.sh after tests/cli/lib.sh: which device
# the GPU side of each comparison runs on, and the model it encodes with.
#   G        the --gpus value of the GPU side: 0, or "none" when
#            TC_GPU_STANDIN=cpu (tests/gpu/device-check.sh --dry-run: the CPU
#            stands in for the GPU, so that the comparison harness itself runs
#            on a machine without one; both sides then give the same numbers)
#   NGPU     how many GPUs the tests may use (1 for the stand-in)
#   STANDIN  1 when the CPU stands in
#   TC_GPU_MODEL  the MiniLM-shaped model (default models/all-MiniLM-L6-v2;
#            the device kit generates one with random weights)
if [ "${TC_GPU_STANDIN:-}" = cpu ]; then
    G=none NGPU=1 STANDIN=1
else
    G=0 NGPU=$(nvidia-smi -L 2> /dev/null | grep -c '^GPU') STANDIN=0
fi
GPU_MODEL=${TC_GPU_MODEL:-$TC_ROOT/models/all-MiniLM-L6-v2}

# prec P: the --precision of the GPU side (the CPU computes in fp32 alone).
prec() { if [ "$STANDIN" = 1 ]; then echo fp32; else echo "$1"; fi; }

# gpu_only NAME CMD...: a check that only means something on a real GPU (the
# output says which device ran it, a mixed precision): skipped for the stand-in.
gpu_only() {
    if [ "$STANDIN" = 1 ]; then skip "$1" "the CPU stands in for the GPU"; return 1; fi
    return 0
}
