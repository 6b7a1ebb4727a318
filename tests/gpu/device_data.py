#!/usr/bin/env python3
"""A synthetic dataset in the TELEClass layout (what the benchmarks read
from ../shared/data/20ng), for a machine that has no data: random words of a
BERT vocabulary, 27 classes in a two-level hierarchy, two labels a document.

usage: device_data.py VOCAB.txt OUT_DIR [DOCS]
writes OUT_DIR/labels.txt, label_hierarchy.txt, {train,test}/corpus.txt and
train/doc2labels.txt (DOCS documents each, default 2000).
"""
import os
import random
import sys


def main():
    vocab_path, out = sys.argv[1:3]
    docs = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    with open(vocab_path, encoding="utf-8") as f:
        words = [w for w in f.read().split("\n") if w.isalpha() and w.isascii()]
    rng = random.Random(0)
    os.makedirs(out + "/train", exist_ok=True)
    os.makedirs(out + "/test", exist_ok=True)
    classes = 27
    with open(out + "/labels.txt", "w") as f:
        f.writelines("%d\t%s_%s\n" % (k, rng.choice(words), rng.choice(words)) for k in range(classes))
    with open(out + "/label_hierarchy.txt", "w") as f:
        f.writelines("%d\t%d\n" % (k % 5, k) for k in range(5, classes))
    for split in ("train", "test"):
        with open("%s/%s/corpus.txt" % (out, split), "w") as c:
            for i in range(docs):
                text = " ".join(rng.choice(words) for _ in range(rng.randint(20, 400)))
                c.write("%s%d\t%s\n" % (split, i, text))
    with open(out + "/train/doc2labels.txt", "w") as f:
        for i in range(docs):
            child = rng.randrange(5, classes)
            f.write("train%d\t%d,%d\n" % (i, child % 5, child))


if __name__ == "__main__":
    main()
