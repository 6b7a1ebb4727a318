#!/usr/bin/env python3
"""Precision and recall of label files against gold paths (doc2labels.txt).

Each label file is read through `tc-dump --tsv` (doc_ids, label_offsets,
label_classes). A document's predicted set is its classes plus their
ancestors (from the hierarchy file); the gold set is its doc2labels line (the
classes on its path). Micro precision = sum |P & G| / sum |P|, recall =
sum |P & G| / sum |G| over the documents of the label file; "leaf" counts
documents whose predicted set contains the gold path's deepest class.

usage: score_labels.py HIERARCHY DOC2LABELS N_CORPUS NAME=LABELS.tct ...
"""
import subprocess
import sys


def column(path, name):
    out = subprocess.run(["tc-dump", "--tsv", name, path], check=True, capture_output=True, text=True).stdout
    return [line for line in out.split("\n") if line]


def read_labels(path):
    ids = column(path, "doc_ids")
    offsets = [int(v) for v in column(path, "label_offsets")]
    classes = [int(v) for v in column(path, "label_classes")]
    return {d: classes[offsets[i]:offsets[i + 1]] for i, d in enumerate(ids)}


def main():
    hierarchy, gold_path, n_corpus = sys.argv[1], sys.argv[2], int(sys.argv[3])
    parents = {}
    for line in open(hierarchy):
        if line.strip():
            p, c = map(int, line.split())
            parents.setdefault(c, set()).add(p)

    def closure(classes):
        out, stack = set(classes), list(classes)
        while stack:
            for p in parents.get(stack.pop(), ()):
                if p not in out:
                    out.add(p)
                    stack.append(p)
        return out

    gold = {}
    for line in open(gold_path):
        doc, _, labels = line.rstrip("\n").partition("\t")
        gold[doc] = [int(c) for c in labels.split(",") if c]
    print(f"{'labels':<22} {'docs':>6} {'kept':>7} {'precision':>9} {'recall':>7} {'leaf hit':>8} {'labels/doc':>10}")
    for arg in sys.argv[4:]:
        name, path = arg.split("=", 1)
        predicted = read_labels(path)
        hit = npred = ngold = leaf = 0
        for doc, classes in predicted.items():
            p, g = closure(classes), set(gold[doc])
            hit += len(p & g)
            npred += len(p)
            ngold += len(g)
            deepest = max(g, key=lambda c: len(closure([c]))) if g else None
            leaf += deepest in p
        n = len(predicted)
        print(f"{name:<22} {n:>6} {100.0 * n / n_corpus:>6.1f}% {hit / max(npred, 1):>9.3f} {hit / max(ngold, 1):>7.3f} "
              f"{leaf / max(n, 1):>8.3f} {npred / max(n, 1):>10.2f}")


if __name__ == "__main__":
    main()
