#!/usr/bin/env python3
"""Not speed: what attention's two products would cost in int8, measured in
PyTorch before any kernel is written for them.

  attention_int8_accuracy.py INPUT_IDS.npy LENGTHS.npy MODEL_DIR

INPUT_IDS and LENGTHS: token ids as tc-dump --npy writes them from a
tc-tokenize file. The model (transformers layout, BERT, eager attention) is
run in fp32 and again with attention's products on quantized operands, each
quantized and dequantized in f32 as an int8 kernel would see them:
  qk  q and k, per (token, head) row, symmetric int8
  pv  qk, and also the softmax's probabilities per row in 255 levels (u8,
      as vpdpbusd takes them) and v per (head, column) over the tokens, int8
Mean pooling and L2 normalization as tc-encode's; prints, per mode, the
smallest and the mean cosine over the documents against fp32. Batches of 32,
length-sorted, padded to their longest with the mask.
"""
import sys

import numpy as np
import torch
import transformers.models.bert.modeling_bert as bert
from transformers import AutoModel


def symmetric(x, dim=-1, levels=127):
    scale = x.abs().amax(dim, keepdim=True).clamp_min(1e-30) / levels
    return torch.round(x / scale) * scale


def unsigned(x, levels=255):  # [min(0, lo), max(0, hi)] in levels steps, zero exact
    lo, hi = x.amin(-1, keepdim=True).clamp(max=0), x.amax(-1, keepdim=True).clamp(min=0)
    scale = ((hi - lo) / levels).clamp_min(1e-30)
    zero = torch.round(-lo / scale)
    return (torch.clamp(torch.round(x / scale) + zero, 0, levels) - zero) * scale


MODE = {"now": None}


def attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    mode = MODE["now"]
    if mode in ("qk", "pv"):
        query, key = symmetric(query), symmetric(key)
    scaling = query.size(-1) ** -0.5 if scaling is None else scaling
    weights = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        weights = weights + attention_mask
    weights = torch.nn.functional.softmax(weights, dim=-1)
    if mode == "pv":
        weights, value = unsigned(weights), symmetric(value, dim=-2)
    return torch.matmul(weights, value).transpose(1, 2).contiguous(), weights


def embed(model, ids, lengths, batch=32):
    out = np.zeros((len(lengths), model.config.hidden_size), np.float32)
    order = np.argsort(-lengths, kind="stable")
    with torch.inference_mode():
        for s in range(0, len(order), batch):
            idx = order[s : s + batch]
            width = int(lengths[idx].max())
            mask = torch.from_numpy((np.arange(width)[None] < lengths[idx, None]).astype(np.int64))
            h = model(input_ids=torch.from_numpy(ids[idx, :width].astype(np.int64)), attention_mask=mask)[0]
            doc = (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
            out[idx] = torch.nn.functional.normalize(doc, dim=1).numpy()
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    ids, lengths = np.load(sys.argv[1]), np.load(sys.argv[2]).astype(np.int64)
    bert.eager_attention_forward = attention
    model = AutoModel.from_pretrained(sys.argv[3], attn_implementation="eager").eval()
    reference = embed(model, ids, lengths)
    for mode in ("qk", "pv"):
        MODE["now"] = mode
        cosine = (embed(model, ids, lengths) * reference).sum(1)
        print("%s: min cosine %.6f, mean %.6f over %d documents" % (mode, cosine.min(), cosine.mean(), len(cosine)))


if __name__ == "__main__":
    main()
