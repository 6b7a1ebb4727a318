"""Per-document comparison of two runs' rankings on the same test documents.

usage: quality_paired.py NAME GOLD A.tsv B.tsv
  GOLD   doc2labels lines (id<TAB>class,class,...), the gold path's classes
  A, B   tc-dump --tsv doc_ids,scores of the two runs (id<TAB>score per class)

Scored as tc-eval scores them (common/predict/metrics.c): classes ranked by
score, ties to the lower id; P@1 is 1 when the top class is a gold class;
Example-F1 is 2 hits / (gold + 3) over the top 3. Prints each mean, the
documents only A or only B gets right at P@1 with the exact two-sided sign
test, and a paired sign-flip permutation test of the Example-F1 difference:
how far the difference is from what swapping the runs per document gives.
"""
import math
import random
import sys


def read_gold(path):
    gold = {}
    with open(path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) == 2:
                gold[fields[0]] = {int(c) for c in fields[1].split(",") if c != ""}
    return gold


def read_top3(path):
    top = {}
    with open(path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            s = [float(v) for v in fields[1:]]
            top[fields[0]] = sorted(range(len(s)), key=lambda c: (-s[c], c))[:3]
    return top


def scores(top, gold):
    hits = sum(1 for c in top[:3] if c in gold)
    return (1 if top and top[0] in gold else 0), 2.0 * hits / (len(gold) + min(3, len(top)))


def sign_test(only_a, only_b):
    n, k = only_a + only_b, min(only_a, only_b)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0 ** n
    return min(1.0, 2 * tail)


def permutation_p(diffs, rounds=20000, seed=1):
    observed = abs(sum(diffs))
    rng = random.Random(seed)
    beyond = 0
    for _ in range(rounds):
        if abs(sum(d if rng.random() < 0.5 else -d for d in diffs)) >= observed - 1e-12:
            beyond += 1
    return (beyond + 1) / (rounds + 1)


def main():
    name, gold_path, a_path, b_path = sys.argv[1:5]
    gold = read_gold(gold_path)
    a, b = read_top3(a_path), read_top3(b_path)
    ids = [i for i in a if i in b and i in gold]
    if not ids:
        sys.exit(f"quality_paired: {name}: no document in both runs and the gold labels")
    pa = [scores(a[i], gold[i]) for i in ids]
    pb = [scores(b[i], gold[i]) for i in ids]
    only_a = sum(1 for x, y in zip(pa, pb) if x[0] > y[0])
    only_b = sum(1 for x, y in zip(pa, pb) if y[0] > x[0])
    n = len(ids)
    ef_diffs = [y[1] - x[1] for x, y in zip(pa, pb)]
    print(f"{name}: {n} documents; P@1 {sum(x[0] for x in pa) / n:.3f} -> {sum(y[0] for y in pb) / n:.3f} "
          f"(right only before {only_a}, only after {only_b}, sign test p = {sign_test(only_a, only_b):.3f}); "
          f"Example-F1 {sum(x[1] for x in pa) / n:.3f} -> {sum(y[1] for y in pb) / n:.3f} "
          f"(paired permutation p = {permutation_p(ef_diffs):.3f})")


main()
