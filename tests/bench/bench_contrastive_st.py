#!/usr/bin/env python3
"""sentence-transformers' side of tests/bench/bench_contrastive_20ng.sh:
retrieval on the test pairs (each subject's own body ranked among all test
bodies by cosine similarity: MRR@10 and recall@1, as tc-train's contrastive
validation computes them) before and after sentence-transformers' own
training loop (SentenceTransformer.old_fit, the loop of model.fit before
v3, which needs no `datasets`) with MultipleNegativesRankingLoss (scale 20)
on the same pairs, batch, epochs, rate, warmup and weight decay; and the
training's tokens per second (real tokens of both sides after truncation,
over the wall time of the fit). Prints one JSON object, then one line.

usage: python3 bench_contrastive_st.py MODEL TRAIN_A TRAIN_P TEST_A TEST_P \
           --batch N --epochs N --lr X --max-len N --threads N
(the pair files: id<TAB>text lines, row i of A with row i of P)
"""
import argparse
import json
import time
import warnings

warnings.filterwarnings("ignore")
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import InputExample, SentenceTransformer  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

try:
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
except ImportError:
    from sentence_transformers.losses import MultipleNegativesRankingLoss


def read(path):
    return [line.rstrip("\n").split("\t", 1)[1] for line in open(path, encoding="utf-8")]


def retrieval(model, anchors, positives):
    a = model.encode(anchors, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    p = model.encode(positives, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    s = a.astype(np.float64) @ p.astype(np.float64).T
    above = (s > np.diag(s)[:, None]).sum(1)
    return {"mrr_at_10": float(np.where(above < 10, 1.0 / (above + 1), 0).mean()), "recall_at_1": float((above == 0).mean())}


def main():
    ap = argparse.ArgumentParser()
    for name in ("model", "train_a", "train_p", "test_a", "test_p"):
        ap.add_argument(name)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    model = SentenceTransformer(args.model, device="cpu")
    model.max_seq_length = args.max_len
    train_a, train_p, test_a, test_p = (read(getattr(args, n)) for n in ("train_a", "train_p", "test_a", "test_p"))
    before = retrieval(model, test_a, test_p)
    tokens = sum(len(model.tokenizer(t, truncation=True, max_length=args.max_len)["input_ids"]) for t in train_a + train_p)
    data = DataLoader([InputExample(texts=[a, p]) for a, p in zip(train_a, train_p)], shuffle=True, batch_size=args.batch)
    steps = len(data) * args.epochs
    start = time.perf_counter()
    model.old_fit(train_objectives=[(data, MultipleNegativesRankingLoss(model, scale=20.0))], epochs=args.epochs,
                  warmup_steps=round(0.1 * steps), optimizer_params={"lr": args.lr}, weight_decay=0.01,
                  max_grad_norm=1.0, show_progress_bar=False)
    seconds = time.perf_counter() - start
    after = retrieval(model, test_a, test_p)
    print(json.dumps({"before": before, "after": after, "steps": steps, "train_seconds": seconds,
                      "tokens_per_s": tokens * args.epochs / seconds}))
    print(f"sentence-transformers  before: MRR@10 {before['mrr_at_10']:.4f} recall@1 {before['recall_at_1']:.4f}"
          f"   after: MRR@10 {after['mrr_at_10']:.4f} recall@1 {after['recall_at_1']:.4f}"
          f"   {tokens * args.epochs / seconds:.0f} tokens/s ({steps} steps, {seconds:.1f} s)")


if __name__ == "__main__":
    main()
