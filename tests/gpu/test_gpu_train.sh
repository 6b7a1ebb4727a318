# tc-train on GPUs, on the tiny problem of tests/helpers/train-fixture:
#   --gpus 0 (fp32) against the CPU after 5 steps (within 2e-5 + 1e-4 |x|)
#   --gpus 0 in one process and one rank under mpirun (NCCL bootstrapped
#     over MPI) give the same bits, and the same log
#   a look at the host every step or every 4 steps: the same bits
#   bf16 and fp16 train (within the rate x steps of the fp32 weights)
#   fp16 with a loss scale of 2^24 overflows: the first steps are skipped
#     and logged (no norm, the scale halved), the run recovers and finishes
#     with updates
#   --shard-optimizer and --checkpoint-activations: the same bits as without
#   with two GPUs: --gpus 0,1 at batch 4 = --gpus 0 at batch 8 (within
#     float tolerance), and = two ranks under mpirun (the same bits)
. "$TC_ROOT/tests/cli/lib.sh"
. "$TC_ROOT/tests/gpu/gpu_lib.sh"
H=$TC_HELPERS
if [ "$NGPU" -lt 1 ]; then
    skip gpu_train "no GPU (nvidia-smi lists none)"
    exit 0
fi
fx=$T/fx
if ! "$H/train-fixture" "$fx" 48 > "$T/fixture.err" 2>&1; then
    fail gpu_train_fixture "$(cat "$T/fixture.err")"
    exit 0
fi
in="$fx/tokens.tct $fx/targets.tct"
eq="-q -m $fx/model --class-vectors $fx/class_vectors.tct --max-steps 5 --lr 1e-3 --warmup-steps 0 --adam-eps 1e-6"
strip() { sed 's/,"tokens_per_s":[^,]*,"docs_per_s":[^,]*,"cpu_s":[^}]*//' "$1"; }

expect gpu_train_cpu 0 tc-train $eq --gpus none --threads 2 --batch 8 -o "$T/cpu" $in
expect gpu_train_fp32 0 tc-train $eq --gpus $G --batch 8 --log-every 1 -o "$T/g1" $in
check gpu_train_fp32_vs_cpu "$H/st-diff" "$T/cpu/final/model.safetensors" "$T/g1/final/model.safetensors" 2e-5 1e-4
check gpu_train_fp32_vs_cpu_head "$H/st-diff" "$T/cpu/final/head.safetensors" "$T/g1/final/head.safetensors" 2e-5 1e-4
check gpu_train_log_lines test "$(grep -c '"loss"' "$T/g1/log.jsonl")" -eq 5

# how often the host looks changes nothing but the log's lines
expect gpu_train_log_every_4 0 tc-train $eq --gpus $G --batch 8 --log-every 4 -o "$T/g4" $in
check gpu_train_log_every_same_bits "$H/st-diff" "$T/g1/final/model.safetensors" "$T/g4/final/model.safetensors"
check gpu_train_log_every_lines test "$(grep -c '"loss"' "$T/g4/log.jsonl")" -eq 2

# one rank under mpirun: NCCL over MPI, the same bits
if ! command -v mpirun > /dev/null 2>&1 || [ "${TC_HAVE_MPI:-0}" != 1 ]; then
    skip gpu_train_mpi_one_rank "mpirun or an MPI build is missing"
else
    root_flags=""
    [ "$(id -u)" = 0 ] && root_flags="--allow-run-as-root"
    run mpirun $root_flags -np 1 tc-train $eq --gpus $G --batch 8 --log-every 1 -o "$T/m1" $in
    if [ $status -eq 0 ]; then pass gpu_train_mpi_one_rank; else fail gpu_train_mpi_one_rank "exit $status: $(head -c 400 "$T/err" | tr '\n' ' ')"; fi
    check gpu_train_mpi_same_model "$H/st-diff" "$T/g1/final/model.safetensors" "$T/m1/final/model.safetensors"
    check gpu_train_mpi_same_head "$H/st-diff" "$T/g1/final/head.safetensors" "$T/m1/final/head.safetensors"
    check gpu_train_mpi_same_moments "$H/st-diff" "$T/g1/final/optimizer.safetensors" "$T/m1/final/optimizer.safetensors"
    strip "$T/g1/log.jsonl" > "$T/g1.log"
    strip "$T/m1/log.jsonl" > "$T/m1.log"
    check gpu_train_mpi_same_log cmp "$T/g1.log" "$T/m1.log"
fi

# mixed precision: f32 masters, bf16/fp16 arithmetic; near fp32 after 5 steps
for p in bf16 fp16; do
    gpu_only gpu_train_$p || continue
    expect gpu_train_$p 0 tc-train $eq --gpus $G --batch 8 --precision $p -o "$T/$p" $in
    # a sanity bound: AdamW moves a weight by about the rate a step, whatever the gradient
    check gpu_train_${p}_near_fp32 "$H/st-diff" "$T/g1/final/model.safetensors" "$T/$p/final/model.safetensors" 1.1e-2 0
done

# an overflow on purpose: 2^24 x the loss gradient does not fit fp16
if gpu_only gpu_train_fp16_overflow; then
expect gpu_train_fp16_overflow 0 tc-train $eq --gpus $G --batch 8 --precision fp16 --loss-scale 16777216 \
    --max-steps 20 --log-every 1 -o "$T/ov" $in
check gpu_train_fp16_skipped grep -q '"step":1,.*"grad_norm":null,.*"skipped_steps":1,' "$T/ov/log.jsonl"
check gpu_train_fp16_scale_down grep -Eq '"step":1,.*"loss_scale":8388608[.,]' "$T/ov/log.jsonl"
check gpu_train_fp16_recovers sh -c "grep '\"loss\"' '$T/ov/log.jsonl' | tail -n 1 | grep -q '\"step\":20,' && test -e '$T/ov/final/model.safetensors'"
last_skips=$(grep '"step":20,.*"loss"' "$T/ov/log.jsonl" | sed 's/.*"skipped_steps":\([0-9]*\).*/\1/')
check gpu_train_fp16_updates_after test "${last_skips:-20}" -lt 20
fi

# ZeRO-1 and recomputation change nothing on one GPU
expect gpu_train_shard 0 tc-train $eq --gpus $G --batch 8 --log-every 1 --shard-optimizer -o "$T/sh" $in
check gpu_train_shard_same_bits "$H/st-diff" "$T/g1/final/model.safetensors" "$T/sh/final/model.safetensors"
expect gpu_train_recompute 0 tc-train $eq --gpus $G --batch 8 --log-every 1 --checkpoint-activations -o "$T/ck" $in
check gpu_train_recompute_same_bits "$H/st-diff" "$T/g1/final/model.safetensors" "$T/ck/final/model.safetensors"

if [ "$NGPU" -ge 2 ]; then
    expect gpu_train_two_gpus 0 tc-train $eq --gpus 0,1 --batch 4 -o "$T/g2" $in
    check gpu_train_two_gpus_vs_one "$H/st-diff" "$T/g1/final/model.safetensors" "$T/g2/final/model.safetensors" 2e-5 1e-4
    expect gpu_train_two_gpus_sharded 0 tc-train $eq --gpus 0,1 --batch 4 --shard-optimizer -o "$T/g2s" $in
    check gpu_train_two_gpus_sharded_close "$H/st-diff" "$T/g2/final/model.safetensors" "$T/g2s/final/model.safetensors" 2e-6 1e-5
    if command -v mpirun > /dev/null 2>&1 && [ "${TC_HAVE_MPI:-0}" = 1 ]; then
        run mpirun $root_flags -np 2 tc-train $eq --gpus 0,1 --batch 4 -o "$T/m2" $in
        if [ $status -eq 0 ]; then pass gpu_train_mpi_two_ranks; else fail gpu_train_mpi_two_ranks "exit $status: $(head -c 400 "$T/err" | tr '\n' ' ')"; fi
        check gpu_train_mpi_two_ranks_same "$H/st-diff" "$T/g2/final/model.safetensors" "$T/m2/final/model.safetensors"
    fi
else
    skip gpu_train_two_gpus "one GPU: data parallel over several is not exercised"
fi
