# tc-train's options for GPUs and large runs, on the CPU (the tiny problem
# of tests/helpers/train-fixture): usage errors of --precision and
# --loss-scale; --log-every (one line per N steps, the same bits as a line
# per step); --checkpoint-activations (the same bits: recomputed layers are
# the same layers); --shard-optimizer on one rank (the same bits) and on two
# MPI ranks (the same bits as unsharded ranks without clipping, the same
# within float tolerance with it: the norm adds the shards' sums), resumed
# from a checkpoint in the middle (the same bits as the run without a stop).
. "$TC_ROOT/tests/cli/lib.sh"

H=$TC_HELPERS
fx=$T/fx
if ! "$H/train-fixture" "$fx" 48 > "$T/fixture.err" 2>&1; then
    fail train_par_fixture "$(cat "$T/fixture.err")"
    exit 0
fi
in="$fx/tokens.tct $fx/targets.tct"
eq="-q -m $fx/model --class-vectors $fx/class_vectors.tct --max-steps 6 --lr 1e-3 --warmup-steps 0 --threads 1 --adam-eps 1e-6"

expect_error train_par_precision_cpu 2 'precision fp16 needs a GPU' tc-train $eq --gpus none --precision fp16 -o "$T/x" $in
expect_error train_par_precision_bad 2 "precision: 'fp8'" tc-train $eq --precision fp8 -o "$T/x" $in
expect_error train_par_loss_scale 2 'loss-scale is for --precision fp16' tc-train $eq --gpus none --loss-scale 1024 -o "$T/x" $in
expect_error train_par_log_every 2 'log-every' tc-train $eq --log-every 0 -o "$T/x" $in

expect train_par_base 0 tc-train $eq --gpus none --batch 8 -o "$T/base" $in
check train_par_base_lines test "$(grep -c '"loss"' "$T/base/log.jsonl")" -eq 6

# the host looks every 4 steps and at the end: two lines, the same bits
expect train_par_log_every_4 0 tc-train $eq --gpus none --batch 8 --log-every 4 -o "$T/le" $in
check train_par_log_every_same_model "$H/st-diff" "$T/base/final/model.safetensors" "$T/le/final/model.safetensors"
check train_par_log_every_same_moments "$H/st-diff" "$T/base/final/optimizer.safetensors" "$T/le/final/optimizer.safetensors"
check train_par_log_every_lines test "$(grep -c '"loss"' "$T/le/log.jsonl")" -eq 2
check train_par_log_every_docs grep -q '"step":4,.*"docs":32,' "$T/le/log.jsonl"

expect train_par_recompute 0 tc-train $eq --gpus none --batch 8 --checkpoint-activations -o "$T/ck" $in
check train_par_recompute_same_model "$H/st-diff" "$T/base/final/model.safetensors" "$T/ck/final/model.safetensors"
check train_par_recompute_same_head "$H/st-diff" "$T/base/final/head.safetensors" "$T/ck/final/head.safetensors"
expect train_par_recompute_pooler 0 tc-train $eq --gpus none --batch 8 --pooling pooler -o "$T/pp" $in
expect train_par_recompute_pooler_ck 0 tc-train $eq --gpus none --batch 8 --pooling pooler --checkpoint-activations -o "$T/ppk" $in
check train_par_recompute_pooler_same "$H/st-diff" "$T/pp/final/model.safetensors" "$T/ppk/final/model.safetensors"

expect train_par_shard_one_rank 0 tc-train $eq --gpus none --batch 8 --shard-optimizer -o "$T/s1" $in
check train_par_shard_one_rank_same "$H/st-diff" "$T/base/final/model.safetensors" "$T/s1/final/model.safetensors"
check train_par_shard_one_rank_moments "$H/st-diff" "$T/base/final/optimizer.safetensors" "$T/s1/final/optimizer.safetensors"

if ! command -v mpirun > /dev/null 2>&1 || [ "${TC_HAVE_MPI:-0}" != 1 ]; then
    skip train_par_shard_two_ranks "mpirun or an MPI build is missing"
    exit 0
fi
root_flags=""
[ "$(id -u)" = 0 ] && root_flags="--allow-run-as-root"
# two ranks under mpirun, leaks checked on the one-rank runs only (see test_train.sh)
mpi() {
    name=$1
    shift
    run env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" mpirun $root_flags --oversubscribe -np 2 tc-train "$@"
    if [ $status -eq 0 ]; then pass "$name"; else fail "$name" "exit $status: $(head -c 400 "$T/err" | tr '\n' ' ')"; fi
}
for clip in 0 1; do
    mpi train_par_ranks_clip$clip $eq --gpus none --batch 4 --max-grad-norm $clip -o "$T/r$clip" $in
    mpi train_par_sharded_clip$clip $eq --gpus none --batch 4 --max-grad-norm $clip --shard-optimizer -o "$T/z$clip" $in
done
check train_par_sharded_same_bits "$H/st-diff" "$T/r0/final/model.safetensors" "$T/z0/final/model.safetensors"
check train_par_sharded_same_head "$H/st-diff" "$T/r0/final/head.safetensors" "$T/z0/final/head.safetensors"
check train_par_sharded_same_moments "$H/st-diff" "$T/r0/final/optimizer.safetensors" "$T/z0/final/optimizer.safetensors"
check train_par_sharded_clipped_close "$H/st-diff" "$T/r1/final/model.safetensors" "$T/z1/final/model.safetensors" 2e-6 1e-5
check train_par_sharded_clipped_moments "$H/st-diff" "$T/r1/final/optimizer.safetensors" "$T/z1/final/optimizer.safetensors" 1e-7 1e-4
# stopped after 3 steps and resumed, sharded again: the run without a stop
zargs="$eq --gpus none --batch 4 --constant-lr --shard-optimizer"
mpi train_par_sharded_whole $zargs -o "$T/zw" $in
mpi train_par_sharded_first_half $zargs --max-steps 3 -o "$T/zh" $in
mpi train_par_sharded_resume $zargs --resume "$T/zh" -o "$T/zh" $in
check train_par_sharded_resume_same "$H/st-diff" "$T/zw/final/model.safetensors" "$T/zh/final/model.safetensors"
check train_par_sharded_resume_moments "$H/st-diff" "$T/zw/final/optimizer.safetensors" "$T/zh/final/optimizer.safetensors"
