#!/usr/bin/env python3
"""Loads a checkpoint that tc-train wrote from the tiny MPNet of
tests/golden/train_step_mpnet (test_train_step_golden leaves it in
$TC_TMP/train_step_mpnet-step-CASE/final) with transformers' MPNetModel.from_pretrained, and
compares its mean-pooled outputs on the golden batch with CASE.after_embeddings
(the outputs PyTorch's own model had after the same step). Prints the
largest difference; exits 1 above 1e-5 or when a tensor was not loaded.

usage: python3 tests/golden/check_checkpoint_mpnet.py CHECKPOINT_DIR [mean|pooler]
"""
import os
import sys

import torch
from safetensors.torch import load_file
from transformers import MPNetModel

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ckpt, case = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "mean"
    golden = load_file(os.path.join(HERE, "train_step_mpnet", "golden.safetensors"))
    model, info = MPNetModel.from_pretrained(ckpt, output_loading_info=True)
    missing = [k for k in info["missing_keys"] if "position_ids" not in k]
    if missing or info["unexpected_keys"] or info["mismatched_keys"]:
        print("not loaded cleanly:", info)
        return 1
    model.eval()
    ids = golden["input_ids"].long()
    lengths = golden["lengths"].long()
    mask = (torch.arange(ids.shape[1])[None, :] < lengths[:, None]).long()
    with torch.no_grad():
        hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    m = mask.unsqueeze(-1).float()
    out = (hidden * m).sum(1) / m.sum(1)
    diff = (out - golden[case + ".after_embeddings"]).abs().max().item()
    print("%s: MPNetModel.from_pretrained loads every tensor; outputs within %.3g of PyTorch's after the step" % (ckpt, diff))
    return 0 if diff <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
