#!/usr/bin/env python3
"""Golden class scores for tc-predict (tests/cli/test_predict.sh).

Writes tests/golden/predict/:
  checkpoint/   a tiny classifier checkpoint in tc-train's layout: a random
                BERT saved by transformers (BertModel.save_pretrained:
                config.json, model.safetensors with its own tensor names and a
                pooler), vocab.txt, head.safetensors (interaction.weight (C, D),
                label_embedding_weights (K, D)) and classifier.json (mean
                pooling, normalized, max_length 12)
  golden.tct    a tokens file (doc_ids, input_ids i32[N,24] with the vocabulary's
                fingerprint, lengths 2..24: some longer than max_length) and the
                scores transformers computes for it, f32[N,K]:
                  scores_mean    mean pooling, L2-normalized (classifier.json as written)
                  scores_cls     [CLS] pooling, not normalized
                  scores_pooler  BertModel's pooler output, not normalized
                score = doc . interaction.weight . label_embedding_weights^T, in
                float64; documents past max_length cut to their first 11 tokens
                plus their last ([SEP]), as tc-train truncates.

usage: python3 tests/golden/make_predict_golden.py [--pack PATH]
--pack is the golden-pack helper (built by `make tests`; found under build/
when not given).
"""
import argparse
import json
import os

import numpy as np
import torch
import transformers
from safetensors.numpy import save_file
from transformers import BertConfig, BertModel

from golden_pack import find_helper, pack

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "golden", "predict")
N, WIDTH, MAX_LEN, K, D, VOCAB = 24, 24, 12, 7, 10, 60
NAMES = ["arts", "science", "sports", "physics", "biology", "hockey", "tennis"]


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def make_model(ck):
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=VOCAB, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=32, max_position_embeddings=32, type_vocab_size=2, hidden_act="gelu",
                     layer_norm_eps=1e-12, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = BertModel(cfg, add_pooling_layer=True).eval()
    with torch.no_grad():  # weights large enough that every part of the model matters
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))
    model.save_pretrained(ck, safe_serialization=True)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + ["w%d" % i for i in range(5, VOCAB)]
    with open(os.path.join(ck, "vocab.txt"), "w") as f:
        f.write("".join(w + "\n" for w in words))
    return model


def make_head(ck, C):
    rng = np.random.default_rng(1)
    W = rng.normal(0, 0.5, (C, D)).astype(np.float32)
    E = rng.normal(0, 0.5, (K, D)).astype(np.float32)
    save_file({"interaction.weight": W, "label_embedding_weights": E}, os.path.join(ck, "head.safetensors"))
    cls = {"format": "teleclass-c classifier", "version": 1, "pooling": "mean", "normalize": True,
           "max_length": MAX_LEN, "hidden_size": C, "class_dim": D, "num_classes": K, "head": "head.safetensors",
           "score": "doc . interaction.weight . label_embedding_weights[c]; probability sigmoid(score)",
           "loss_reduction": "mean", "class_names": NAMES}
    with open(os.path.join(ck, "classifier.json"), "w") as f:
        json.dump(cls, f, indent=2)
    return W.astype(np.float64), E.astype(np.float64)


def make_tokens():
    rng = np.random.default_rng(2)
    ids = np.zeros((N, WIDTH), np.int32)
    lengths = np.zeros(N, np.int32)
    for i in range(N):
        n = 2 + i % (WIDTH - 1)
        ids[i, 0], ids[i, n - 1] = 2, 3
        ids[i, 1:n - 1] = rng.integers(5, VOCAB, n - 2)
        lengths[i] = n
    return ids, lengths


def truncate(ids, lengths):
    rows = []
    for r, n in zip(ids, lengths):
        row = list(r[:n])
        rows.append(row if n <= MAX_LEN else row[:MAX_LEN - 1] + [row[-1]])
    return rows


def scores(model, rows, W, E):
    model = model.double()
    T = max(len(r) for r in rows)
    ids = torch.tensor([r + [0] * (T - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (T - len(r)) for r in rows])
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask)
    h, m = out.last_hidden_state, mask.double()[:, :, None]
    mean = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=1)
    docs = {"mean": mean, "cls": h[:, 0], "pooler": out.pooler_output}
    return {k: (v.numpy() @ W @ E.T).astype(np.float32) for k, v in docs.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", help="the golden-pack helper")
    args = ap.parse_args()
    helper = args.pack or find_helper(ROOT, "make_predict_golden.py")
    ck = os.path.join(OUT, "checkpoint")
    os.makedirs(ck, exist_ok=True)
    model = make_model(ck)
    W, E = make_head(ck, model.config.hidden_size)
    ids, lengths = make_tokens()
    s = scores(model, truncate(ids, lengths), W, E)
    fp = fnv1a64(open(os.path.join(ck, "vocab.txt"), "rb").read())
    arrays = {"input_ids": ids, "lengths": lengths, "scores_mean": s["mean"], "scores_cls": s["cls"],
              "scores_pooler": s["pooler"]}
    pack(helper, os.path.join(OUT, "golden.tct"), arrays, {"doc_ids": ["g%02d" % i for i in range(N)]},
         ["input_ids:vocab_fingerprint=" + fp],
         ["made_by=tests/golden/make_predict_golden.py", "torch=" + torch.__version__,
          "transformers=" + transformers.__version__])
    print("wrote %s (%d documents, %d classes)" % (OUT, N, K))


if __name__ == "__main__":
    main()
