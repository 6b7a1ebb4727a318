#!/usr/bin/env python3
"""The Hugging Face side of tests/bench/bench_tokenize.sh.

usage: bench_tokenize_hf.py MODEL_DIR CORPUS MAX_LEN OUT.npy [RUNS]

Reads CORPUS (id<TAB>text lines) as tc-tokenize does, then times
tokenizers' encode_batch on the texts with the model's tokenizer.json,
truncation and padding to MAX_LEN: the best of RUNS (default 1). The
reading and decoding of the file are not timed. The thread count is
tokenizers' own (RAYON_NUM_THREADS=1 for one thread). Prints one line:

    seconds cpu_seconds bytes documents tokens fast_seconds

(tokens: with the first and last special tokens, before padding, as tc-tokenize's lengths;
fast_seconds: encode_batch_fast, which skips the offsets) and saves the
ids [N, MAX_LEN] to OUT.npy for the comparison with tc-tokenize.
"""
import os
import sys
import time

import numpy as np
from tokenizers import Tokenizer


def main():
    model, corpus, max_len, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    with open(corpus, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    texts = []
    for line in lines:
        if line.endswith(b"\r"):
            line = line[:-1]
        texts.append(line.split(b"\t", 1)[1].decode("utf-8", "replace"))
    tok = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
    padding = tok.padding or {"pad_id": tok.token_to_id("[PAD]"), "pad_token": "[PAD]"}  # MPNet's is <pad>
    tok.enable_truncation(max_length=max_len)
    tok.enable_padding(length=max_len, pad_id=padding["pad_id"], pad_token=padding["pad_token"])
    best = best_cpu = fast = None
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        encodings = tok.encode_batch(texts)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
        if best is None or seconds < best:
            best, best_cpu = seconds, cpu_seconds
        start = time.perf_counter()
        tok.encode_batch_fast(texts)
        fast = min(fast or 1e30, time.perf_counter() - start)
    ids = np.array([e.ids for e in encodings], dtype=np.int32).reshape(len(texts), max_len)
    tokens = int(sum(sum(e.attention_mask) for e in encodings))
    np.save(out, ids)
    print("%.4f %.4f %d %d %d %.4f" % (best, best_cpu, len(data), len(texts), tokens, fast))


if __name__ == "__main__":
    main()
