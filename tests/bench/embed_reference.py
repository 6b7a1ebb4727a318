#!/usr/bin/env python3
"""Embeds id<TAB>text lines with sentence-transformers (the reference
implementation of the default model), for the quality script when tc-encode
is not built. Writes IDS (one id a line) and NPY ((N, D) float32, L2-normalised
as tc-encode does by default); refine-fixture from-npy turns them into an
embeddings tensor file.

usage: embed_reference.py MODEL_DIR INPUT IDS NPY [BATCH]
"""
import sys

import numpy as np
from sentence_transformers import SentenceTransformer


def main():
    model_dir, source, ids_path, npy_path = sys.argv[1:5]
    batch = int(sys.argv[5]) if len(sys.argv) > 5 else 64
    ids, texts = [], []
    with open(source, encoding="utf-8") as f:
        for line in f:
            doc_id, _, text = line.rstrip("\n").partition("\t")
            ids.append(doc_id)
            texts.append(text)
    model = SentenceTransformer(model_dir, device="cpu")
    x = model.encode(texts, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True,
                     show_progress_bar=False).astype(np.float32)
    with open(ids_path, "w", encoding="utf-8") as f:
        f.writelines(i + "\n" for i in ids)
    np.save(npy_path, np.ascontiguousarray(x))


if __name__ == "__main__":
    main()
