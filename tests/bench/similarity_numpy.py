#!/usr/bin/env python3
"""The similarity step of tc-refine in numpy, the peer of similarity-bench:
per-group maximum of cosines with M targets (annotate) and the top k of G
class embeddings (refine; the first G targets), batch by batch.
usage: similarity_numpy.py N M D G K BATCH   (prints "group_max DOCS_PER_S topk DOCS_PER_S")"""
import sys
import time

import numpy as np

n, m, d, g, k, batch = map(int, sys.argv[1:7])
rs = np.random.RandomState(0)
x = rs.rand(n, d).astype(np.float32) - 0.5
t = rs.rand(m, d).astype(np.float32) - 0.5
t /= np.linalg.norm(t, axis=1, keepdims=True)
starts = (np.arange(g) * m // g).astype(np.int64)


def normalised(rows):
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


t0 = time.perf_counter()
for at in range(0, n, batch):
    s = normalised(x[at:at + batch]) @ t.T
    np.maximum.reduceat(s, starts, axis=1)
t1 = time.perf_counter()
for at in range(0, n, batch):
    s = normalised(x[at:at + batch]) @ t[:g].T
    part = np.argpartition(-s, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(s, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    np.take_along_axis(part, order, axis=1)
t2 = time.perf_counter()
print(f"group_max {n / (t1 - t0):.0f} topk {n / (t2 - t1):.0f}")
