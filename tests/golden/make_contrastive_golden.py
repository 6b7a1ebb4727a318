#!/usr/bin/env python3
"""Golden contrastive training for tc-train --objective contrastive
(tests/unit/test_contrastive_golden.c).

The tiny BERT of tests/golden/train_step/model (make_train_step_golden.py)
as a sentence-transformers model (Transformer + mean Pooling, no dropout),
trained by sentence-transformers' own MultipleNegativesRankingLoss (scale
20, cos_sim) on a fixed batch of 6 (anchor, positive) pairs, all of them
every step (the candidates are the whole batch, so the order the pairs come
in does not matter), for 10 steps, in PyTorch on the CPU in f32:

  loss = MultipleNegativesRankingLoss(model)(features, labels)
  loss.backward()
  clip_grad_norm_(parameters with a gradient, 1.0)
  torch.optim.AdamW(lr=1e-3, betas=(0.9, 0.999), eps=1e-4, weight_decay=0.01,
                    no decay on biases and LayerNorm parameters).step()

(eps 1e-4 for the reason make_train_step_golden.py gives.)

Writes tests/golden/contrastive/golden.safetensors:
  anchor_ids, positive_ids I32 (B, T) padded with 0; anchor_lengths,
  positive_lengths I32 (B); loss F32 (10) and grad_norm F32 (10), step by
  step; after.NAME for every encoder tensor with a gradient (BertModel
  names), after the 10 steps; the embeddings ST gives for the anchors
  before (embed.before) and after (embed.after) training, F32 (B, 16).

usage: /work/wt/refvenv/bin/python tests/golden/make_contrastive_golden.py
"""
import os
import warnings

import torch
from safetensors.torch import save_file

warnings.filterwarnings("ignore", category=DeprecationWarning)
from sentence_transformers import SentenceTransformer  # noqa: E402

try:
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
except ImportError:  # sentence-transformers < 6
    from sentence_transformers.losses import MultipleNegativesRankingLoss
    from sentence_transformers.models import Pooling, Transformer

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "train_step", "model")
OUT = os.path.join(HERE, "contrastive")
B, STEPS = 6, 10
ANCHOR_LENGTHS = [5, 9, 3, 7, 4, 6]
POSITIVE_LENGTHS = [8, 4, 10, 5, 6, 3]
LR, WD, EPS = 1e-3, 0.01, 1e-4


def padded(lengths, g):
    T = max(lengths)
    ids = torch.zeros(len(lengths), T, dtype=torch.long)
    mask = torch.zeros(len(lengths), T, dtype=torch.long)
    for b, n in enumerate(lengths):
        ids[b, :n] = torch.randint(5, 40, (n,), generator=g)
        ids[b, 0], ids[b, n - 1] = 2, 3
        mask[b, :n] = 1
    return ids, mask


def features(ids, mask):
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}


def embed(model, ids, mask):
    with torch.no_grad():
        return model(features(ids, mask))["sentence_embedding"].detach().clone()


def main():
    torch.manual_seed(0)
    model = SentenceTransformer(modules=[Transformer(MODEL), Pooling(16, "mean")], device="cpu")
    model.eval()  # no dropout (the model's config has none either)
    g = torch.Generator().manual_seed(7)
    a_ids, a_mask = padded(ANCHOR_LENGTHS, g)
    p_ids, p_mask = padded(POSITIVE_LENGTHS, g)
    golden = {"anchor_ids": a_ids.to(torch.int32), "positive_ids": p_ids.to(torch.int32),
              "anchor_lengths": torch.tensor(ANCHOR_LENGTHS, dtype=torch.int32),
              "positive_lengths": torch.tensor(POSITIVE_LENGTHS, dtype=torch.int32),
              "embed.before": embed(model, a_ids, a_mask)}
    loss_fn = MultipleNegativesRankingLoss(model, scale=20.0)
    bert = model[0].auto_model
    named = [(n, p) for n, p in bert.named_parameters() if not n.startswith("pooler.")]
    decay = [p for n, p in named if not ("bias" in n or "LayerNorm" in n)]
    no_decay = [p for n, p in named if "bias" in n or "LayerNorm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=LR, betas=(0.9, 0.999), eps=EPS, foreach=False)
    losses, norms = [], []
    for step in range(STEPS):
        opt.zero_grad()
        loss = loss_fn([features(a_ids, a_mask), features(p_ids, p_mask)], torch.arange(B))
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_([p for _, p in named], 1.0)
        opt.step()
        losses.append(loss.item())
        norms.append(norm.item())
        print(f"step {step + 1}: loss {loss.item():.7f}, gradient norm {norm.item():.7f}")
    golden["loss"] = torch.tensor(losses, dtype=torch.float32)
    golden["grad_norm"] = torch.tensor(norms, dtype=torch.float32)
    for n, p in named:
        golden[f"after.{n}"] = p.detach().clone().contiguous()
    golden["embed.after"] = embed(model, a_ids, a_mask)
    os.makedirs(OUT, exist_ok=True)
    import sentence_transformers
    save_file({k: v.contiguous() for k, v in golden.items()}, os.path.join(OUT, "golden.safetensors"),
              metadata={"torch": torch.__version__, "sentence_transformers": sentence_transformers.__version__,
                        "lr": str(LR), "weight_decay": str(WD), "eps": str(EPS), "scale": "20"})


if __name__ == "__main__":
    main()
