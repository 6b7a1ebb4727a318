"""Loads tc-dump's .npy exports in numpy (examples/inspect.sh makes them).

    python3 examples/inspect.py examples/20ng/work
"""
import sys

import numpy as np

work = sys.argv[1] if len(sys.argv) > 1 else "examples/20ng/work"
emb = np.load(f"{work}/train.emb.npy")        # (N, 384) float32, unit length
ids = np.load(f"{work}/train.ids.npy")        # (N,) unicode document ids
scores = np.load(f"{work}/scores.npy")        # (N_test, C) logits of the classifier
print("embeddings", emb.shape, emb.dtype, "norms", np.linalg.norm(emb, axis=1)[:3])
nearest = np.argsort(-(emb @ emb[0]))[1:4]
print("documents nearest to", ids[0], ":", list(ids[nearest]))
print("scores", scores.shape, "best class of the first test documents:", scores.argmax(axis=1)[:5])
