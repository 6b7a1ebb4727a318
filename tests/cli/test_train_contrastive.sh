#!/bin/sh
# tc-train --objective contrastive from the command line on the CPU, on the
# tiny model of tests/helpers/train-fixture (pairs: tokens.tct row i with
# pair_tokens.tct row i): usage and input errors (one line, exit 1, no
# output, inputs unchanged), a run with validation (retrieval figures in the
# log), the sentence-transformers layout of its checkpoints, resuming, the
# cached loss equal to the plain one, normalized embeddings training as plain ones, two MPI ranks with gathered negatives
# equal to one rank at the doubled batch, and the final model loading in
# sentence-transformers with tc-encode's embeddings (when the python has it).
# The loss itself is checked against sentence-transformers in
# tests/unit/test_contrastive_golden.c.
. "$TC_ROOT/tests/cli/lib.sh"

H=$TC_HELPERS
fx=$T/fx
if ! "$H/train-fixture" "$fx" 48 > "$T/fixture.err" 2>&1; then
    fail contrastive_fixture "$(cat "$T/fixture.err")"
    exit 0
fi
pairs="$fx/tokens.tct $fx/pair_tokens.tct"
base="-q -m $fx/model --objective contrastive --threads 2 --gpus none"

# ---------------------------------------------------------------- usage

expect_error contrastive_bad_objective 2 "--objective: 'ranking' is not classifier or contrastive" \
    tc-train -q --objective ranking -o "$T/x" $pairs
expect_error contrastive_no_inputs 2 'expected ANCHORS and POSITIVES' tc-train $base -o "$T/x" "$fx/tokens.tct"
expect_error contrastive_class_options 2 'trains the encoder alone' \
    tc-train $base --class-vectors "$fx/class_vectors.tct" -o "$T/x" $pairs
expect_error contrastive_val_alone 2 '--val needs --val-positives' tc-train $base --val "$fx/val_tokens.tct" -o "$T/x" $pairs
expect_error contrastive_pooler 2 'no pooler pooling' tc-train $base --pooling pooler -o "$T/x" $pairs
expect_error contrastive_options_for_classifier 2 'are for --objective contrastive' \
    tc-train -q -m "$fx/model" --class-vectors "$fx/class_vectors.tct" --cached-chunk 4 -o "$T/x" \
    "$fx/tokens.tct" "$fx/targets.tct"

# ---------------------------------------------------------------- input errors

cp "$fx/pair_short.tct" "$T/short_before.tct"
expect_error contrastive_rows_differ 1 'pair_short.tct: 47 rows, but .*tokens.tct has 48: pairs are joined by row' \
    tc-train $base -o "$T/x" "$fx/tokens.tct" "$fx/pair_short.tct"
expect_error contrastive_ids_differ 1 "pair_other_ids.tct: row 0 is 'o0', but it is 'd0' in .*tokens.tct" \
    tc-train $base -o "$T/x" "$fx/tokens.tct" "$fx/pair_other_ids.tct"
check contrastive_no_output_on_input_error test ! -e "$T/x"
check contrastive_input_kept cmp "$fx/pair_short.tct" "$T/short_before.tct"

# ---------------------------------------------------------------- a run and its checkpoints

run_a="$base --val $fx/val_tokens.tct --val-positives $fx/val_pair_tokens.tct --epochs 2 --batch 8 --lr 1e-3 --seed 7"
expect contrastive_run 0 tc-train $run_a -o "$T/a" $pairs
ok=1
for f in config.json vocab.txt model.safetensors modules.json 1_Pooling/config.json sentence_bert_config.json \
    optimizer.safetensors trainer_state.json; do
    [ -s "$T/a/final/$f" ] || { ok=0; fail contrastive_checkpoint_files "final/$f missing"; }
done
[ $ok = 1 ] && pass contrastive_checkpoint_files
check contrastive_no_head test ! -e "$T/a/final/head.safetensors" -a ! -e "$T/a/final/classifier.json"
check contrastive_mean_pooling grep -q '"pooling_mode_mean_tokens": true' "$T/a/final/1_Pooling/config.json"
check contrastive_log_retrieval grep -q '"step":12,.*"val_mrr_at_10":.*"val_recall_at_1"' "$T/a/log.jsonl"
check contrastive_log_before grep -q '"step":0,.*"val_mrr_at_10"' "$T/a/log.jsonl"
# a tc-encode of the result: it loads as a model directory
expect contrastive_encode_result 0 tc-encode -q --gpus none -m "$T/a/final" -o "$T/a_emb.tct" "$fx/tokens.tct"

# resumed from a checkpoint = the uninterrupted run, bit for bit (a
# constant rate: the schedule of a 3-step run is not the first half of a
# 6-step one's)
run_r="$base --batch 8 --lr 1e-3 --constant-lr --warmup-steps 0"
expect contrastive_whole 0 tc-train $run_r --max-steps 6 -o "$T/whole" $pairs
expect contrastive_first_half 0 tc-train $run_r --max-steps 3 -o "$T/cut" $pairs
expect contrastive_resume 0 tc-train $run_r --max-steps 6 --resume "$T/cut" -o "$T/cut" $pairs
check contrastive_resume_same_model "$H/st-diff" "$T/whole/final/model.safetensors" "$T/cut/final/model.safetensors"

# ---------------------------------------------------------------- equivalences

# as in test_train.sh: a large eps keeps Adam from blowing float noise up
# (the attention key biases' gradient, zero in exact arithmetic)
eq="$base --max-steps 4 --lr 1e-3 --warmup-steps 0 --threads 1 --adam-eps 1e-4"
expect contrastive_eq_batch8 0 tc-train $eq --batch 8 -o "$T/e1" $pairs
expect contrastive_eq_cached 0 tc-train $eq --batch 8 --cached-chunk 3 -o "$T/e2" $pairs
check contrastive_eq_cached_model "$H/st-diff" "$T/e1/final/model.safetensors" "$T/e2/final/model.safetensors" 2e-6 1e-5
# the cosine ignores the norm: normalized embeddings (a model with a
# Normalize module) train as the plain ones, through the normalization's backward
expect contrastive_eq_normalized 0 tc-train $eq --batch 8 --normalize -o "$T/e4" $pairs
check contrastive_eq_normalized_model "$H/st-diff" "$T/e1/final/model.safetensors" "$T/e4/final/model.safetensors" 2e-6 1e-5
check contrastive_normalize_module grep -q 'sentence_transformers.models.Normalize' "$T/e4/final/modules.json"
if ! command -v mpirun > /dev/null 2>&1 || [ "${TC_HAVE_MPI:-0}" != 1 ]; then
    skip contrastive_eq_two_ranks "mpirun or an MPI build is missing"
else
    root_flags=""
    [ "$(id -u)" = 0 ] && root_flags="--allow-run-as-root"
    run env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
        mpirun $root_flags --oversubscribe -np 2 tc-train $eq --batch 4 -o "$T/e3" $pairs
    if [ $status -eq 0 ]; then pass contrastive_eq_two_ranks; else fail contrastive_eq_two_ranks "exit $status: $(head -c 400 "$T/err" | tr '\n' ' ')"; fi
    check contrastive_eq_two_ranks_model "$H/st-diff" "$T/e1/final/model.safetensors" "$T/e3/final/model.safetensors" 2e-6 1e-5
    l1=$(grep '"step":4,' "$T/e1/log.jsonl" | grep -o '"loss":[^,]*' | cut -d: -f2)
    l3=$(grep '"step":4,' "$T/e3/log.jsonl" | grep -o '"loss":[^,]*' | cut -d: -f2)
    check contrastive_eq_two_ranks_loss awk -v a="$l1" -v b="$l3" 'BEGIN { d = a - b; exit !(a != "" && d * d <= 1e-12 * b * b) }' 
fi

# ---------------------------------------------------------------- sentence-transformers loads it

# SentenceTransformer(DIR/final) gives tc-encode's embeddings. Importing
# sentence-transformers takes many seconds: opt-in, and only where the
# python has it.
if [ "${TC_SLOW_TESTS:-0}" != 1 ]; then
    skip contrastive_loads_in_sentence_transformers "set TC_SLOW_TESTS=1 to load the model in sentence-transformers (slow import)"
elif "$PYTHON" -c 'import sentence_transformers, numpy' 2> /dev/null; then
    tc-dump -q --npy input_ids -o "$T/ids.npy" "$fx/tokens.tct" && tc-dump -q --npy lengths -o "$T/len.npy" "$fx/tokens.tct" &&
        tc-dump -q --npy embeddings -o "$T/emb.npy" "$T/a_emb.tct"
    run "$PYTHON" - "$T/a/final" "$T" << 'PY'
import sys, numpy as np, torch
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(sys.argv[1], device="cpu")
ids, lengths, ref = (np.load(f"{sys.argv[2]}/{n}.npy") for n in ("ids", "len", "emb"))
worst = 0.0
for i in range(len(lengths)):
    n = int(lengths[i])
    x = torch.tensor(ids[i : i + 1, :n], dtype=torch.long)
    f = {"input_ids": x, "attention_mask": torch.ones_like(x), "token_type_ids": torch.zeros_like(x)}
    with torch.no_grad():
        e = model(f)["sentence_embedding"][0].numpy()
    worst = max(worst, float(np.abs(e - ref[i]).max()))
print("ok" if worst < 1e-5 else "differ", worst)
PY
    check contrastive_loads_in_sentence_transformers grep -q '^ok' "$T/out"
else
    skip contrastive_loads_in_sentence_transformers "$PYTHON lacks sentence_transformers"
fi
