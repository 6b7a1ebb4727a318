#!/usr/bin/env python3
"""Makes a labeled dataset in the TELEClass layout from TELEClass's generated
documents (train/generated_docs.txt + train/generated_doc2label.json of
Amazon-531 or DBPedia-298), split per root-to-leaf path into train and test:
of the documents of one path (the label set "with ancestors"), the first
60% (rounded up) train, the rest test. The taxonomy is the dataset's own.

usage: quality_split.py SOURCE_DIR OUT_DIR
  SOURCE_DIR: ../shared/data/amazon531 (labels.txt, label_hierarchy.txt, train/...)
  OUT_DIR: gets labels.txt, label_hierarchy.txt, train/ and test/ with
  corpus.txt (id<TAB>text) and doc2labels.txt (id<TAB>c1,c2,...)
"""
import collections
import json
import math
import os
import shutil
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().split("\n\n")[1])
    src, out = sys.argv[1], sys.argv[2]
    texts = {}
    with open(os.path.join(src, "train", "generated_docs.txt"), encoding="utf-8") as f:
        for line in f:
            doc_id, _, text = line.rstrip("\n").partition("\t")
            texts[doc_id] = " ".join(text.split())
    with open(os.path.join(src, "train", "generated_doc2label.json"), encoding="utf-8") as f:
        labels = json.load(f)
    by_path = collections.OrderedDict()
    for doc_id in sorted(labels, key=int):
        if doc_id not in texts:
            sys.exit(f"quality_split: document {doc_id} has labels but no text")
        path = tuple(labels[doc_id]["with ancestors"])
        by_path.setdefault(path, []).append(doc_id)
    split = {"train": [], "test": []}
    for path, docs in by_path.items():
        cut = math.ceil(0.6 * len(docs))
        split["train"] += [(d, path) for d in docs[:cut]]
        split["test"] += [(d, path) for d in docs[cut:]]
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    for part, rows in split.items():
        os.makedirs(os.path.join(tmp, part))
        rows.sort(key=lambda r: int(r[0]))
        with open(os.path.join(tmp, part, "corpus.txt"), "w", encoding="utf-8") as c, \
                open(os.path.join(tmp, part, "doc2labels.txt"), "w", encoding="utf-8") as g:
            for doc_id, path in rows:
                c.write(f"{doc_id}\t{texts[doc_id]}\n")
                g.write(f"{doc_id}\t{','.join(path)}\n")
    for name in ("labels.txt", "label_hierarchy.txt"):
        shutil.copy(os.path.join(src, name), os.path.join(tmp, name))
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    print(f"quality_split: {out}: {len(by_path)} paths, {len(split['train'])} train and "
          f"{len(split['test'])} test documents")


if __name__ == "__main__":
    main()
