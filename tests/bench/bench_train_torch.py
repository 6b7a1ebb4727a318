#!/usr/bin/env python3
"""PyTorch peer of tests/bench/bench_train.sh: the same training step as
tc-train (BERT encoder, mean pooling, bilinear head doc @ W @ E.T, weighted
BCE summed / batch, clip_grad_norm_ 1.0, torch.optim.AdamW with defaults),
in f32 on the CPU, or with bf16 autocast (f32 weights and optimizer, the
products in bf16), no dropout (the encoder in eval mode, as TELEClass
fine-tunes it), batches of consecutive documents padded to their longest.

usage: bench_train_torch.py MODEL_DIR input_ids.npy lengths.npy BATCH STEPS WARMUP THREADS [fp32|bf16]
Prints one line: "torch tokens_per_s X steps N tokens T seconds S cpu_seconds P"
(P: process CPU time of the measured steps, all threads), or "SKIP: why"
(exit 3) where a package is missing or, for bf16, the CPU has no bf16 units.
"""
import statistics
import sys
import time

import numpy as np

try:
    import torch
    from transformers import BertModel
except ImportError as e:
    print("SKIP: needs the Python package %s (make deps PEERS=1)" % e.name)
    sys.exit(3)

BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_has_bf16():
    with open("/proc/cpuinfo") as f:
        flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    return any(f in flags for f in BF16_FLAGS)


def main():
    model_dir, ids_path, len_path = sys.argv[1:4]
    batch, steps, warmup, threads = (int(x) for x in sys.argv[4:8])
    bf16 = len(sys.argv) > 8 and sys.argv[8] == "bf16"
    if bf16 and not cpu_has_bf16():
        print("SKIP: this CPU lacks %s (no bf16 dot-product units)" % " and ".join(BF16_FLAGS))
        sys.exit(3)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    ids, lengths = np.load(ids_path), np.load(len_path)
    model = BertModel.from_pretrained(model_dir)
    model.eval()  # no dropout
    C, K = model.config.hidden_size, 27
    W = torch.nn.Parameter(torch.empty(C, C).uniform_(-C ** -0.5, C ** -0.5))
    E = torch.nn.Parameter(torch.randn(K, C) * 0.05)
    y = (torch.rand(len(lengths), K) < 0.1).float()
    params = list(model.parameters()) + [W, E]
    opt = torch.optim.AdamW(params, lr=5e-5, weight_decay=0.01)
    rates, total_tokens, total_time, total_cpu = [], 0, 0.0, 0.0
    for step in range(warmup + steps):
        at = (step * batch) % (len(lengths) - batch + 1)
        lens = torch.tensor(lengths[at:at + batch], dtype=torch.long)
        T = int(lens.max())
        x = torch.tensor(ids[at:at + batch, :T], dtype=torch.long)
        mask = (torch.arange(T)[None, :] < lens[:, None]).long()
        start, cpu_start = time.perf_counter(), time.process_time()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            hidden = model(input_ids=x, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(hidden.dtype)
            doc = (hidden * m).sum(1) / m.sum(1)
            scores = (doc @ W @ E.T).float()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(scores, y[at:at + batch], reduction="sum") / batch
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        if step >= warmup:
            tokens = int(lens.sum())
            rates.append(tokens / seconds)
            total_tokens += tokens
            total_time += seconds
            total_cpu += cpu
    print(f"torch tokens_per_s {statistics.median(rates):.1f} steps {steps} tokens {total_tokens} "
          f"seconds {total_time:.2f} cpu_seconds {total_cpu:.2f}")


if __name__ == "__main__":
    main()
