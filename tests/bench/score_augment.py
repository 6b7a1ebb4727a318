#!/usr/bin/env python3
"""How right the built-in augmentation's labels are: for each document that
tc-augment --from-corpus took for a path (its --report), whether the
document's gold path (doc2labels.txt) is that path, and whether its gold
classes include the path's leaf.

usage: score_augment.py LABELS.txt DOC2LABELS REPORT.tsv"""
import sys


def main():
    names = {}
    for line in open(sys.argv[1]):
        if line.strip():
            i, name = line.rstrip("\n").split("\t")
            names[name.replace("_", " ")] = int(i)
    gold = {}
    for line in open(sys.argv[2]):
        doc, _, labels = line.rstrip("\n").partition("\t")
        gold[doc] = {int(c) for c in labels.split(",") if c}
    docs = exact = leaf = paths = covered = 0
    for row in list(open(sys.argv[3]))[1:]:
        fields = row.rstrip("\n").split("\t")
        path = [names[n] for n in fields[1].split(" > ")]
        sources = [s for s in fields[5].split(",") if s] if len(fields) > 5 else []
        paths += 1
        covered += bool(sources)
        for s in sources:
            docs += 1
            exact += gold[s] == set(path)
            leaf += path[-1] in gold[s]
    print(f"augmentation from the corpus: {docs} documents for {covered} of {paths} paths; "
          f"gold path equals the path for {exact / max(docs, 1):.3f}, gold classes hold the leaf for {leaf / max(docs, 1):.3f}")


if __name__ == "__main__":
    main()
