#!/usr/bin/env python3
"""The metrics of TELEClass's eval_classifier.py (github yzhan238/TELEClass),
re-stated with numpy, plus the set metrics of tc-eval; makes the evaluation
cases under tests/golden/eval/ and their expected `tc-eval --tsv` values.

    python3 eval_reference.py            (re)writes tests/golden/eval/

TELEClass's definitions, per document with gold classes G and scores s:
  top      = the first 3 of argsort(-s)   (ties: a stable sort, lower id first;
             TELEClass's default sort leaves tied classes in no fixed order)
  P@k      = |set(top[:k]) & G| / k                    averaged over documents
  Ex-F1    = 2 |set(top) & G| / (|G| + |top|)           averaged over documents
  rank(c)  = 1 + #{j not in G : s[j] >= s[c]}           for each c in G
  MRR      = mean of 1 / rank over all (document, gold class) pairs
With top-k predictions only, top = the first 3 listed classes (-1 is padding),
rank(c) = 1 + #{listed j not in G : score_j >= score_c} when c is listed, and an
unlisted gold class adds 0 to the MRR sum (it still counts as a pair).

Set metrics (predicted set P = {c : s[c] >= threshold}):
  micro precision/recall/F1 over all (document, class) pairs;
  macro F1 = mean over classes seen in G or P of 2 tp / (2 tp + fp + fn);
  the same restricted to the classes of each depth (level).
Documents are matched to gold labels by id; unmatched ones are left out.
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "eval")

# ---------------------------------------------------------------- the taxonomy
# 12 classes, 3 levels; class 9 has two parents (4 and 5).
LABELS = ["r0", "r1", "r2", "a", "b", "c", "d", "e", "f", "g", "h", "i"]
EDGES = [(0, 3), (0, 4), (1, 5), (1, 6), (2, 7), (3, 8), (4, 9), (5, 9), (5, 10), (6, 11)]


def depths():
    parents = {c: [p for p, k in EDGES if k == c] for c in range(len(LABELS))}
    depth = {}
    frontier = [c for c in range(len(LABELS)) if not parents[c]]
    for c in frontier:
        depth[c] = 1
    while frontier:
        nxt = []
        for p in frontier:
            for q, k in EDGES:
                if q == p and k not in depth:
                    depth[k] = depth[p] + 1
                    nxt.append(k)
        frontier = nxt
    return np.array([depth[c] for c in range(len(LABELS))])


def ancestors(c):
    out, todo = set(), [c]
    while todo:
        v = todo.pop()
        for p, k in EDGES:
            if k == v and p not in out:
                out.add(p)
                todo.append(p)
    return out


# ---------------------------------------------------------------- the metrics

def gold_ranks(scores, gold):
    """Rank of each gold class: 1 + non-gold classes scoring at least as high."""
    negative = np.ones(len(scores), dtype=bool)
    negative[list(gold)] = False
    return [1 + int(np.sum(scores[negative] >= scores[c])) for c in gold]


def ranking_metrics(tops, golds, ranks):
    n = len(golds)
    p_at = [sum(len(set(t[:k]) & set(g)) / k for t, g in zip(tops, golds)) / n for k in (1, 2, 3)]
    ex_f1 = float(np.mean([2 * len(set(t) & set(g)) / (len(t) + len(g)) for t, g in zip(tops, golds)]))
    flat = [r for rs in ranks for r in rs]
    mrr = float(np.mean([1.0 / r if r > 0 else 0.0 for r in flat])) if flat else float("nan")
    return ex_f1, p_at, mrr


def set_metrics(preds, golds, depth):
    C = len(depth)
    tp, fp, fn = np.zeros(C), np.zeros(C), np.zeros(C)
    for p, g in zip(preds, golds):
        p, g = set(p), set(g)
        for c in p & g:
            tp[c] += 1
        for c in p - g:
            fp[c] += 1
        for c in g - p:
            fn[c] += 1

    def scores(mask):
        t, f_p, f_n = tp[mask].sum(), fp[mask].sum(), fn[mask].sum()
        prec = t / (t + f_p) if t + f_p else 0.0
        rec = t / (t + f_n) if t + f_n else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        seen = mask & (tp + fp + fn > 0)
        macro = float(np.mean(2 * tp[seen] / (2 * tp[seen] + fp[seen] + fn[seen]))) if seen.any() else 0.0
        return [prec, rec, f1, macro]

    out = [("micro_precision", "micro_recall", "micro_f1", "macro_f1"), scores(np.ones(C, dtype=bool))]
    rows = [(k, v) for k, v in zip(out[0], out[1])]
    for level in range(1, int(depth.max()) + 1):
        vals = scores(depth == level)
        rows += [(f"level{level}_{k}", v) for k, v in zip(("precision", "recall", "f1", "macro_f1"), vals)]
    return rows


def expected(golds_by_id, ids, scores=None, topk=None, threshold=None):
    """tc-eval --tsv lines for predictions of documents `ids`."""
    depth = depths()
    tops, golds, ranks, preds = [], [], [], []
    matched = [i for i, d in enumerate(ids) if d in golds_by_id]
    for i in matched:
        g = golds_by_id[ids[i]]
        golds.append(g)
        if scores is not None:
            s = scores[i]
            tops.append(list(np.argsort(-s, kind="stable")[:3]))
            ranks.append(gold_ranks(s, g))
            if threshold is not None:
                preds.append([c for c in range(len(s)) if float(s[c]) >= threshold])
        else:
            cls, sc = topk[0][i], topk[1][i]
            listed = [(int(c), float(x)) for c, x in zip(cls, sc) if c >= 0]
            tops.append([c for c, _ in listed][:3])
            r = []
            for c in g:
                hit = [x for k, x in listed if k == c]
                r.append(1 + sum(1 for k, x in listed if k not in g and x >= hit[0]) if hit else 0)
            ranks.append(r)
            if threshold is not None:
                preds.append([c for c, x in listed if x >= threshold])
    ex_f1, p_at, mrr = ranking_metrics(tops, golds, ranks)
    rows = [("documents", len(ids)), ("matched", len(matched)), ("without_gold", sum(1 for g in golds if not g)),
            ("example_f1", ex_f1), ("p@1", p_at[0]), ("p@2", p_at[1]), ("p@3", p_at[2]), ("mrr", mrr)]
    if threshold is not None:
        rows += set_metrics(preds, golds, depth)
    return "".join(f"{k}\t{v if isinstance(v, int) else repr(float(v))}\n" for k, v in rows)


# ---------------------------------------------------------------- cases

def write_scores(path, ids, scores):
    with open(path, "w") as f:
        for d, s in zip(ids, scores):
            f.write(d + "\t" + " ".join("%.9g" % x for x in s) + "\n")


def write_gold(path, golds_by_id):
    with open(path, "w") as f:
        for d, g in golds_by_id.items():
            f.write(d + "\t" + ",".join(str(c) for c in g) + "\n")


def topk_of(scores, k):
    """What `tct-from-text topk K` writes: stable order, padded with -1 / -inf."""
    n, C = scores.shape
    cls = np.full((n, k), -1, dtype=np.int64)
    sc = np.full((n, k), -np.inf, dtype=np.float32)
    for i in range(n):
        order = np.argsort(-scores[i], kind="stable")[:k]
        cls[i, :len(order)] = order
        sc[i, :len(order)] = scores[i][order]
    return cls, sc


def random_gold(rng, ids, empty_every=17):
    C = len(LABELS)
    golds = {}
    for n, d in enumerate(ids):
        if n % empty_every == 5:
            golds[d] = []          # a document without gold classes
            continue
        leaves = [c for c in range(C) if not any(p == c for p, _ in EDGES)]
        picks = rng.choice(leaves, size=1 + (n % 4 == 0), replace=False)
        g = set()
        for c in picks:
            g |= {int(c)} | ancestors(int(c))
        golds[d] = sorted(g)
    return golds


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "labels.txt"), "w") as f:
        f.writelines(f"{i}\t{n}\n" for i, n in enumerate(LABELS))
    with open(os.path.join(OUT, "label_hierarchy.txt"), "w") as f:
        f.writelines(f"{p}\t{c}\n" for p, c in EDGES)
    rng = np.random.default_rng(20250403)
    C = len(LABELS)

    # random scores; 10 predicted documents have no gold line, 5 gold lines no prediction
    ids = [f"doc{i}" for i in range(160)]
    golds = random_gold(rng, ids[:150] + [f"extra{i}" for i in range(5)])
    write_gold(os.path.join(OUT, "gold.txt"), golds)
    scores = rng.random((len(ids), C), dtype=np.float32)
    write_scores(os.path.join(OUT, "random.txt"), ids, scores)
    cases = {
        "random": expected(golds, ids, scores=scores),
        "random_threshold": expected(golds, ids, scores=scores, threshold=0.5),
        "random_top5": expected(golds, ids, topk=topk_of(scores, 5)),
        "random_top5_threshold": expected(golds, ids, topk=topk_of(scores, 5), threshold=0.7),
        "random_top15": expected(golds, ids, topk=topk_of(scores, 15)),  # K beyond the 12 classes
    }
    # ties: scores on a coarse grid
    tied = (np.floor(rng.random((len(ids), C)) * 4) / 4).astype(np.float32)
    write_scores(os.path.join(OUT, "ties.txt"), ids, tied)
    cases["ties"] = expected(golds, ids, scores=tied)
    cases["ties_threshold"] = expected(golds, ids, scores=tied, threshold=0.5)
    cases["ties_top4"] = expected(golds, ids, topk=topk_of(tied, 4))

    # hand-made: values worked out by hand
    hand_gold = {"h1": [0, 3], "h2": [1, 5, 9], "h3": []}
    hand = np.zeros((3, C), dtype=np.float32)
    hand[0, [0, 3, 4]] = [0.9, 0.8, 0.85]   # top 0,4,3: P@1 1, P@2 1/2, P@3 2/3; ranks 1, 2
    hand[1, [9, 2, 1]] = [0.6, 0.7, 0.5]    # top 2,9,1: P@1 0, P@2 1/2, P@3 2/3; ranks of 1, 9: 2, 2
    hand[1, 5] = 0.1                        # class 5: non-gold classes >= 0.1: just 2 -> rank 2
    write_scores(os.path.join(OUT, "hand.txt"), list(hand_gold), hand)
    write_gold(os.path.join(OUT, "hand_gold.txt"), hand_gold)
    got = expected(hand_gold, list(hand_gold), scores=hand)
    want = {"p@1": 1 / 3, "p@2": (1 / 2 + 1 / 2 + 0) / 3, "p@3": (2 / 3 + 2 / 3 + 0) / 3,
            "example_f1": (2 * 2 / 5 + 2 * 2 / 6 + 0) / 3, "mrr": (1 + 1 / 2 + 1 / 2 + 1 / 2 + 1 / 2) / 5}
    for line in got.splitlines():
        k, v = line.split("\t")
        if k in want:
            assert abs(float(v) - want[k]) < 1e-12, (k, v, want[k])
    cases["hand"] = got

    for name, text in cases.items():
        with open(os.path.join(OUT, f"{name}.expected"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
