#!/usr/bin/env python3
"""Golden training step for tc-train (tests/unit/test_train_step_golden.c).

Builds a tiny random BERT with transformers (BertModel, exact GELU, no
dropout), saves it as a Hugging Face directory in tests/golden/train_step/model
(config.json, model.safetensors, vocab.txt), and runs ONE training step of
the TELEClass classifier in PyTorch (CPU, f32) on a fixed batch of 4 padded
sequences, for two document poolings ("pooler", TELEClass's pooler_output,
and "mean" over the attention mask):

  doc    = pooler_output | masked mean of last_hidden_state      (B, C)
  scores = doc @ W @ E.T                                         (B, K)
  loss   = BCEWithLogits(scores, y, weight=w, reduction="sum") / B
  loss.backward()
  norm   = clip_grad_norm_(parameters with a gradient, 1.0)
  torch.optim.AdamW(lr=1e-3, betas=(0.9, 0.999), eps=1e-4, weight_decay=0.01,
                    no decay on biases and LayerNorm parameters).step()

eps is large on purpose: at the first AdamW step the update is
lr * g / (|g| + eps), which for eps = 1e-8 is lr * sign(g) and turns float
noise in a tiny gradient into a full +-lr step; with eps = 1e-4 the update
is smooth in g, so the comparison measures the arithmetic.

Writes tests/golden/train_step/golden.safetensors:
  input_ids I32 (B, T) padded with 0, lengths I32 (B), y, w F32 (B, K)
  (w: each row's document weight, 0 for masked classes),
  W F32 (C, D), E F32 (K, D), and per case ("pooler", "mean"):
  CASE.loss, CASE.grad_norm F32 (1), CASE.grad.NAME and CASE.after.NAME for
  every encoder tensor (BertModel names) and for interaction.weight (W) and
  label_embedding_weights (E).

With --arch mpnet the same for a tiny random MPNetModel (no token types,
positions from pad_token_id + 1, a relative position bias of 32 buckets)
in tests/golden/train_step_mpnet: its sequences are padded with <pad> (1),
start with <s> (0) and end with </s> (2), one holds a <pad> inside (it
takes the padding position) and one is 22 tokens long, so that distances
reach the log-spaced buckets. The gradient of
encoder.relative_attention_bias.weight is among the goldens, and per case
CASE.after_embeddings F32 (B, C): the masked mean of last_hidden_state of
the model after the step, which a checkpoint must reproduce when loaded;
and rel_buckets I32 (1201): transformers' bucket of each distance -600..600.

usage: python3 tests/golden/make_train_step_golden.py [--arch bert|mpnet]
"""
import argparse
import copy
import os

import numpy as np
import torch
from safetensors.torch import save_file
from transformers import BertConfig, BertModel, MPNetConfig, MPNetModel
from transformers.models.mpnet.modeling_mpnet import MPNetEncoder

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "train_step")
B, K, D = 4, 5, 6
LENGTHS = [5, 9, 3, 7]
LR, WD, EPS = 1e-3, 0.01, 1e-4
ARCH = "bert"
BOS, EOS, PAD = 2, 3, 0  # [CLS], [SEP], [PAD]


def make_mpnet():
    config = MPNetConfig(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=32, max_position_embeddings=26, hidden_act="gelu",
                         hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=1e-5,
                         initializer_range=0.3, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                         relative_attention_num_buckets=32)
    torch.manual_seed(1234)
    return MPNetModel(config, add_pooling_layer=True)


def make_model():
    if ARCH == "mpnet":
        model = make_mpnet()
        with torch.no_grad():  # as below, and the bias table well away from 0
            for name, p in model.named_parameters():
                if "LayerNorm.weight" in name:
                    p.copy_(1 + 0.2 * torch.randn_like(p))
                elif name.endswith("bias") or "relative_attention_bias" in name:
                    p.copy_(0.5 * torch.randn_like(p) if "relative" in name else 0.1 * torch.randn_like(p))
        model.eval()
        return model
    config = BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=32, max_position_embeddings=24, type_vocab_size=2, hidden_act="gelu",
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=1e-12,
                        initializer_range=0.3, pad_token_id=0)
    torch.manual_seed(1234)
    model = BertModel(config, add_pooling_layer=True)
    with torch.no_grad():  # layer norms and biases away from 1 and 0, so their gradients matter
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
    model.eval()
    return model


def save_model(model):
    os.makedirs(os.path.join(OUT, "model"), exist_ok=True)
    model.save_pretrained(os.path.join(OUT, "model"), safe_serialization=True)
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"] if ARCH == "mpnet" else \
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    with open(os.path.join(OUT, "model", "vocab.txt"), "w") as f:
        for i in range(40):
            f.write(specials[i] + "\n" if i < 5 else f"w{i}\n")


def make_batch():
    g = torch.Generator().manual_seed(99)
    T = max(LENGTHS)
    ids = torch.full((B, T), PAD, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.long)
    for b, n in enumerate(LENGTHS):
        ids[b, :n] = torch.randint(5, 40, (n,), generator=g)
        ids[b, 0], ids[b, n - 1] = BOS, EOS
        mask[b, :n] = 1
    if ARCH == "mpnet":
        ids[1, 4] = PAD  # a <pad> inside a text: attended, at the padding position
    y = (torch.rand(B, K, generator=g) < 0.4).float()
    # a document weight per row (augmented documents weigh less) and masked
    # classes (descendants of core classes) of weight 0, as tc-taxo targets
    doc_weight = torch.rand(B, generator=g) + 0.5
    w = doc_weight[:, None].expand(B, K).clone()
    w[0, 1] = w[2, 3] = 0.0
    y[0, 1] = y[2, 3] = 0.0
    W = torch.randn(16, D, generator=g) * 0.5
    E = torch.randn(K, D, generator=g) * 0.5
    return ids, mask, y, w, W, E


def one_step(model, pooling, ids, mask, y, w, W0, E0):
    model = copy.deepcopy(model)
    W = torch.nn.Parameter(W0.clone())
    E = torch.nn.Parameter(E0.clone())
    out = model(input_ids=ids, attention_mask=mask)
    if pooling == "pooler":
        doc = out.pooler_output
    else:
        m = mask.unsqueeze(-1).float()
        doc = (out.last_hidden_state * m).sum(1) / m.sum(1)
    scores = doc @ W @ E.T
    loss = torch.nn.functional.binary_cross_entropy_with_logits(scores, y, weight=w, reduction="sum") / B
    loss.backward()
    named = [(n, p) for n, p in model.named_parameters() if p.grad is not None]
    named += [("interaction.weight", W), ("label_embedding_weights", E)]
    grads = {n: p.grad.detach().clone() for n, p in named}
    norm = torch.nn.utils.clip_grad_norm_([p for _, p in named], 1.0)
    decay = [p for n, p in named if not ("bias" in n or "LayerNorm" in n)]
    no_decay = [p for n, p in named if "bias" in n or "LayerNorm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=LR, betas=(0.9, 0.999), eps=EPS, foreach=False)
    opt.step()
    after = {n: p.detach().clone() for n, p in named}
    with torch.no_grad():
        hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).float()
        after["embeddings"] = (hidden * m).sum(1) / m.sum(1)
    return loss.detach(), norm.detach(), grads, after


def main():
    global OUT, LENGTHS, ARCH, BOS, EOS, PAD
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", choices=["bert", "mpnet"], default="bert")
    ARCH = ap.parse_args().arch
    if ARCH == "mpnet":
        OUT = os.path.join(HERE, "train_step_mpnet")
        LENGTHS = [5, 9, 3, 22]
        BOS, EOS, PAD = 0, 2, 1
    model = make_model()
    save_model(model)
    ids, mask, y, w, W, E = make_batch()
    golden = {"input_ids": ids.to(torch.int32), "lengths": torch.tensor(LENGTHS, dtype=torch.int32), "y": y, "w": w,
              "W": W, "E": E}
    for pooling in ("pooler", "mean"):
        loss, norm, grads, after = one_step(model, pooling, ids, mask, y, w, W, E)
        golden[f"{pooling}.loss"] = loss.reshape(1).float()
        golden[f"{pooling}.grad_norm"] = norm.reshape(1).float()
        for n in grads:
            golden[f"{pooling}.grad.{n}"] = grads[n].contiguous()
            golden[f"{pooling}.after.{n}"] = after[n].contiguous()
        if ARCH == "mpnet":
            golden[f"{pooling}.after_embeddings"] = after["embeddings"].contiguous()
        print(f"{pooling}: loss {loss.item():.6f}, gradient norm {norm.item():.6f}, {len(grads)} tensors")
    if ARCH == "mpnet":
        distances = torch.arange(-600, 601)
        golden["rel_buckets"] = MPNetEncoder.relative_position_bucket(distances).to(torch.int32)
    save_file({k: v.contiguous() for k, v in golden.items()}, os.path.join(OUT, "golden.safetensors"),
              metadata={"torch": torch.__version__, "lr": str(LR), "weight_decay": str(WD), "eps": str(EPS)})


if __name__ == "__main__":
    main()
