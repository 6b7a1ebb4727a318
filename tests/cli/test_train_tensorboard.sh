#!/bin/sh
# tc-train's TensorBoard event files (common/train/tb_events.h), for both
# objectives, on the tiny problem of tests/helpers/train-fixture: the file
# is there (DIR/runs by default, --tensorboard elsewhere, none with
# --no-tensorboard), and the tensorboard package's own event reader finds in
# it every number of log.jsonl at its step (tb_compare.py), where the
# test python has tensorboard (tests/requirements.txt).
. "$TC_ROOT/tests/cli/lib.sh"

H=$TC_HELPERS
fx=$T/fx
if ! "$H/train-fixture" "$fx" 48 > "$T/fixture.err" 2>&1; then
    fail tensorboard_fixture "$(cat "$T/fixture.err")"
    exit 0
fi
common="-q -m $fx/model --threads 2 --gpus none --max-steps 6 --batch 8 --log-every 2"
expect_error tensorboard_empty 2 '--tensorboard needs a directory' \
    tc-train $common --class-vectors "$fx/class_vectors.tct" --tensorboard '' -o "$T/x" "$fx/tokens.tct" "$fx/targets.tct"
expect tensorboard_classifier 0 tc-train $common --class-vectors "$fx/class_vectors.tct" --val "$fx/val_tokens.tct" \
    --val-targets "$fx/val_targets.tct" --eval-every 3 -o "$T/c" "$fx/tokens.tct" "$fx/targets.tct"
check tensorboard_default_dir sh -c "ls '$T/c/runs/' | grep -q '^events.out.tfevents.'"
expect tensorboard_contrastive 0 tc-train $common --objective contrastive --val "$fx/val_tokens.tct" \
    --val-positives "$fx/val_pair_tokens.tct" --tensorboard "$T/tb" -o "$T/s" "$fx/tokens.tct" "$fx/pair_tokens.tct"
check tensorboard_given_dir sh -c "ls '$T/tb/' | grep -q '^events.out.tfevents.'"
check tensorboard_not_default test ! -e "$T/s/runs"
expect tensorboard_none 0 tc-train $common --class-vectors "$fx/class_vectors.tct" --no-tensorboard \
    -o "$T/n" "$fx/tokens.tct" "$fx/targets.tct"
check tensorboard_none_written test ! -e "$T/n/runs"
if py=$(python_with tensorboard); then
    check tensorboard_classifier_read "$py" "$TC_ROOT/tests/cli/tb_compare.py" "$T/c/runs" "$T/c/log.jsonl"
    check tensorboard_contrastive_read "$py" "$TC_ROOT/tests/cli/tb_compare.py" "$T/tb" "$T/s/log.jsonl"
else
    skip tensorboard_read "no Python with the tensorboard package (scripts/deps.sh installs tests/requirements.txt in build/venv)"
fi
