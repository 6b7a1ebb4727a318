#!/usr/bin/env python3
"""The PyTorch/transformers side of tests/bench/bench_predict.sh.

Loads the checkpoint tc-train wrote with transformers (BertModel: config.json
+ model.safetensors) and its head (head.safetensors), and times the
classifier's scores on the same tokens (a tc-tokenize file, read through
tc-dump), the same batch size, batches of similar length (as tc-predict makes
them): encoder, pooling and normalization as classifier.json says, then
doc . interaction.weight . label_embedding_weights^T. The time starts after
loading and a warm-up batch. Prints one JSON line and writes the scores
(.npy) for the parity check.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from safetensors.numpy import load_file
from transformers import BertModel


def load_tokens(path, helper_dump):
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("input_ids", "lengths"):
            subprocess.run([helper_dump, "--npy", name, path, "-o", "%s/%s.npy" % (tmp, name)], check=True)
        return np.load(tmp + "/input_ids.npy"), np.load(tmp + "/lengths.npy")


def run(args):
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if args.device == "cuda" else "cpu")
    cfg = json.load(open(os.path.join(args.checkpoint, "classifier.json")))
    head = load_file(os.path.join(args.checkpoint, "head.safetensors"))
    model = BertModel.from_pretrained(args.checkpoint).eval().to(device)
    W = torch.from_numpy(head["interaction.weight"]).to(device)
    E = torch.from_numpy(head["label_embedding_weights"]).to(device)
    if args.fp16:
        model, W, E = model.half(), W.half(), E.half()
    ids, lengths = load_tokens(args.tokens, args.dump)
    order = np.argsort(-lengths, kind="stable")
    batches = []
    for s in range(0, len(order), args.batch_size):
        idx = order[s : s + args.batch_size]
        width = int(lengths[idx].max())
        mask = (np.arange(width)[None, :] < lengths[idx, None]).astype(np.int64)
        batches.append((idx, torch.from_numpy(ids[idx, :width].astype(np.int64)).to(device),
                        torch.from_numpy(mask).to(device)))

    def scores_of(batch_ids, mask):
        out = model(input_ids=batch_ids, attention_mask=mask)
        h = out.last_hidden_state
        if cfg["pooling"] == "mean":
            m = mask[:, :, None].to(h.dtype)
            doc = (h * m).sum(1) / m.sum(1)
        elif cfg["pooling"] == "cls":
            doc = h[:, 0]
        else:
            doc = out.pooler_output
        if cfg["normalize"]:
            doc = torch.nn.functional.normalize(doc, dim=1)
        return (doc @ W @ E.T).float().cpu()

    scores = np.zeros((len(lengths), E.shape[0]), np.float32)
    with torch.inference_mode():
        scores_of(batches[0][1], batches[0][2])
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        for idx, b, m in batches:
            scores[idx] = scores_of(b, m).numpy()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t
    np.save(args.scores_out, scores)
    print(json.dumps({"seconds": seconds, "docs": len(lengths), "tokens": int(lengths.sum()),
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True, help="the checkpoint directory")
    ap.add_argument("--tokens", required=True, help="the tokens file")
    ap.add_argument("--dump", required=True, help="tc-dump")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--fp16", action="store_true")
    ap.add_argument("--scores-out", required=True, help="where the scores go (.npy)")
    run(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
