#!/bin/sh
# tc-train --precision bf16 on the CPU (kernels/cpu/matmul_bf16.c): every
# matrix product in bf16 with f32 sums. Where this CPU and build have no
# oneDNN bf16 kernel, the run is refused before any work in tc-encode's
# words (exit 1, no output directory) and the test runs the emulation
# (TC_CPU_BF16_EMULATE=1) instead; where they have one, the oneDNN path.
# Either way: -v names the path, the loss curve of the first 200 steps stays
# within 1% of fp32's step by step, the checkpoint is f32. fp16 stays a
# GPU's.
. "$TC_ROOT/tests/cli/lib.sh"

fx=$T/fx
if ! "$TC_HELPERS/train-fixture" "$fx" 48 > "$T/fixture.err" 2>&1; then
    fail train_bf16_fixture "$(cat "$T/fixture.err")"
    exit 0
fi
in="$fx/tokens.tct $fx/targets.tct"
base="-m $fx/model --class-vectors $fx/class_vectors.tct --threads 2 --gpus none"
steps="--batch 8 --lr 1e-3 --seed 7 --epochs 34 --max-epochs 0 --max-steps 200"

expect_error train_bf16_fp16_cpu 2 'precision fp16 needs a GPU' tc-train -q $base --precision fp16 -o "$T/x" $in

# the path: oneDNN where tc-encode would take bf16, else the refusal
env -u TC_CPU_BF16_EMULATE tc-encode --gpus none -m "$fx/model" --precision bf16 -o "$T/enc.tct" "$fx/tokens.tct" \
    > /dev/null 2> "$T/encode.err"
if [ $? = 0 ]; then
    emulate= path='bf16 through oneDNN'
    skip train_bf16_refused "$(grep -m 1 'precision' "$T/encode.err" || echo 'this CPU has a oneDNN bf16 kernel')"
else
    emulate=TC_CPU_BF16_EMULATE=1 path='bf16 emulated'
    expect_error train_bf16_refused 1 'tc-train: --precision bf16: this (CPU lacks|build has no oneDNN)' \
        env -u TC_CPU_BF16_EMULATE tc-train -q $base --precision bf16 -o "$T/refused" $in
    check train_bf16_refused_as_encode test "$(sed 's/^tc-train: //' "$T/err")" = "$(sed 's/^tc-encode: //' "$T/encode.err")"
    check train_bf16_refused_no_output test ! -e "$T/refused"
    # anything but 1 is not a request
    expect_error train_bf16_emulate_not_1 1 'this (CPU lacks|build has no oneDNN)' \
        env TC_CPU_BF16_EMULATE=yes tc-train -q $base --precision bf16 -o "$T/refused" $in
fi

expect train_bf16_fp32_run 0 env -u TC_CPU_BF16_EMULATE tc-train -q $base $steps -o "$T/f32" $in
expect train_bf16_run 0 env $emulate tc-train -v $base --precision bf16 $steps -o "$T/b16" $in
check train_bf16_path_named grep -q "tc-train: precision: $path" "$T/err"

# the step losses of both logs, side by side: 200 steps, each within 1%
losses() { sed -n 's/^{"step":\([0-9]*\),.*"loss":\([^,]*\),.*/\1 \2/p' "$1"; }
losses "$T/f32/log.jsonl" > "$T/f32.loss"
losses "$T/b16/log.jsonl" > "$T/b16.loss"
check train_bf16_200_steps test "$(wc -l < "$T/b16.loss")" = 200 -a "$(wc -l < "$T/f32.loss")" = 200
check train_bf16_loss_within_1pc awk '
    { if ((getline line < other) <= 0) { print "fewer steps"; exit 1 }
      split(line, o, " "); d = ($2 - o[2]) / o[2]; if (d < 0) d = -d
      if (d > 0.01) { print "step " $1 ": fp32 " $2 ", bf16 " o[2]; exit 1 }
      if (d > 0) moved = 1 }
    END { if (!moved) { print "bf16 gave fp32'"'"'s losses: nothing was rounded"; exit 1 } }' other="$T/b16.loss" "$T/f32.loss"

# the checkpoint and the model stay f32
check train_bf16_checkpoint_f32 sh -c "head -c 65536 '$T/b16/final/model.safetensors' | grep -q '\"F32\"' &&
    ! head -c 65536 '$T/b16/final/model.safetensors' | grep -q 'BF16'"
