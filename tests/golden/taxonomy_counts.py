#!/usr/bin/env python3
"""Counts of a TELEClass taxonomy (labels.txt + label_hierarchy.txt), computed
independently of tc-taxo, in the format of `tc-taxo show --summary`.

    python3 taxonomy_counts.py DATASET_DIR

Depth: top-level classes (no parent) are 1, others 1 + the smallest parent
depth (breadth-first). Paths: root-to-leaf paths, a class with several
parents counted on each (enumerated explicitly).
Writes taxonomy_counts.txt beside this script for the datasets given with --golden.
"""
import collections
import sys


def read(dataset):
    names = {}
    with open(f"{dataset}/labels.txt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                i, name = line.rstrip("\n").split("\t")
                names[int(i)] = name
    edges = []
    with open(f"{dataset}/label_hierarchy.txt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                p, c = line.split("\t")
                edges.append((int(p), int(c)))
    return names, edges


def counts(dataset):
    names, edges = read(dataset)
    children = collections.defaultdict(list)
    parents = collections.defaultdict(list)
    for p, c in edges:
        children[p].append(c)
        parents[c].append(p)
    roots = sorted(c for c in names if not parents[c])
    depth = {r: 1 for r in roots}
    queue = collections.deque(roots)
    while queue:
        v = queue.popleft()
        for w in children[v]:
            if w not in depth:
                depth[w] = depth[v] + 1
                queue.append(w)
    assert len(depth) == len(names), "classes unreachable from a root"

    def walk(v):  # number of root-to-leaf paths through v, by enumeration
        stack, n = [v], 0
        while stack:
            u = stack.pop()
            if children[u]:
                stack.extend(children[u])
            else:
                n += 1
        return n

    max_depth = max(depth.values())
    out = [
        ("classes", len(names)),
        ("edges", len(edges)),
        ("roots", len(roots)),
        ("virtual_root", "yes" if len(roots) > 1 else "no"),
        ("leaves", sum(1 for c in names if not children[c])),
        ("multi_parent", sum(1 for c in names if len(parents[c]) > 1)),
        ("max_depth", max_depth),
    ]
    hist = collections.Counter(depth.values())
    out += [(f"depth_{d}", hist[d]) for d in range(1, max_depth + 1)]
    out.append(("paths", sum(walk(r) for r in roots)))
    return "".join(f"{k}\t{v}\n" for k, v in out)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--golden":
        import os
        here = os.path.dirname(os.path.abspath(__file__))
        with open(os.path.join(here, "taxonomy_counts.txt"), "w") as f:
            for d in args[1:]:
                f.write(f"# {os.path.basename(os.path.normpath(d))}\n" + counts(d))
    else:
        sys.stdout.write(counts(args[0]))
