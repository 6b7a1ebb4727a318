#!/usr/bin/env python3
"""PyTorch peer of tests/bench/bench_train_gpu.sh: the same training step as
tc-train on a GPU (BERT encoder in eval mode, i.e. no dropout, as TELEClass
fine-tunes it; mean pooling; bilinear head doc @ W @ E.T; weighted BCE
summed / batch; clip_grad_norm_ 1.0; fused torch.optim.AdamW), with
automatic mixed precision in bf16 (torch.autocast) and f32 master weights,
transformers' default attention (SDPA), batches of consecutive documents
padded to their longest, on cuda:0 (CUDA_VISIBLE_DEVICES picks the GPU).

usage: bench_train_gpu_torch.py MODEL_DIR input_ids.npy lengths.npy BATCH STEPS WARMUP [fp32|bf16]
Prints one line:
  "torch tokens_per_s X steps N tokens T seconds S peak_allocated_mib A peak_reserved_mib R"
(tokens: real tokens, not padding; peak: the caching allocator's high-water
marks over the whole run).
"""
import sys
import time

import numpy as np
import torch
from transformers import BertModel


def main():
    model_dir, ids_path, len_path = sys.argv[1:4]
    batch, steps, warmup = (int(x) for x in sys.argv[4:7])
    precision = sys.argv[7] if len(sys.argv) > 7 else "bf16"
    dev = torch.device("cuda")
    torch.manual_seed(0)
    ids, lengths = np.load(ids_path), np.load(len_path)
    model = BertModel.from_pretrained(model_dir).to(dev)
    model.eval()  # no dropout
    C, K = model.config.hidden_size, 27
    W = torch.nn.Parameter(torch.empty(C, C, device=dev).uniform_(-C ** -0.5, C ** -0.5))
    E = torch.nn.Parameter(torch.randn(K, C, device=dev) * 0.05)
    y = (torch.rand(len(lengths), K, device=dev) < 0.1).float()
    params = list(model.parameters()) + [W, E]
    opt = torch.optim.AdamW(params, lr=5e-5, weight_decay=0.01, fused=True)
    amp = precision == "bf16"
    total_tokens, start = 0, None
    for step in range(warmup + steps):
        if step == warmup:
            torch.cuda.synchronize()
            start = time.perf_counter()
        at = (step * batch) % (len(lengths) - batch + 1)
        lens = torch.tensor(lengths[at:at + batch], dtype=torch.long)
        T = int(lens.max())
        x = torch.tensor(ids[at:at + batch, :T], dtype=torch.long).to(dev, non_blocking=True)
        mask = (torch.arange(T)[None, :] < lens[:, None]).long().to(dev, non_blocking=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
            hidden = model(input_ids=x, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(hidden.dtype)
            doc = (hidden * m).sum(1) / m.sum(1)
            scores = doc @ W @ E.T
        loss = torch.nn.functional.binary_cross_entropy_with_logits(scores.float(), y[at:at + batch],
                                                                    reduction="sum") / batch
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if step >= warmup:
            total_tokens += int(lens.sum())
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    print(f"torch tokens_per_s {total_tokens / seconds:.1f} steps {steps} tokens {total_tokens} seconds {seconds:.3f} "
          f"peak_allocated_mib {torch.cuda.max_memory_allocated() / 2**20:.0f} "
          f"peak_reserved_mib {torch.cuda.max_memory_reserved() / 2**20:.0f}")


if __name__ == "__main__":
    main()
