#!/usr/bin/env python3
"""The corpus-based enrichment scoring of TELEClass's taxonomy_enrichment.py
(github yzhan238/TELEClass, function local_caseolap and its main loop),
re-stated on a small generated corpus with given embeddings, to check
`tc-taxo enrich`. Writes tests/golden/enrich/.

    python3 enrich_reference.py

The corpus is lower-case words separated by spaces, so that splitting on
spaces (TELEClass) and tc-taxo's word rule agree. Per sibling set (the
top-level classes; the children of each class):
  docs(s)   documents whose classes (with ancestors) include s; siblings
            without documents are left out
  tf, df    per sibling; dl = all tokens of its documents; maxdf over all words
  candidates: tf >= MIN_FREQ in some sibling, not a stop word
  bm25      = tf (k+1) / (tf + k (1 - b + b dl/avgdl)) * log2(1+df)/log2(1+maxdf), k=1.2, b=0.5
  dist      = exp(bm25_s) / (1 + sum_siblings exp(bm25))
  score     = log2(1+df)^0.2 * dist^0.8 * max(0, cos(term, class name))
  top k per sibling by score (ties: term order); a term in several siblings'
  top k stays with the highest score. tc-taxo also leaves out terms scoring 0
  (TELEClass could keep them when fewer than k terms score above 0).
A class in several sets keeps the intersection of what they give it.
"""
import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "enrich")
MIN_FREQ, TOP_K, DIM = 2, 3, 8
STOP = {"the", "and", "of", "a", "is"}  # all on tc-taxo's built-in list

CLASSES = ["animals", "plants", "cats", "dogs", "birds", "trees", "flowers", "pets"]
EDGES = [(0, 2), (0, 3), (0, 4), (1, 5), (1, 6), (0, 7), (1, 7)]  # pets under animals and plants
TOPICS = {
    2: "cat kitten meow purr whisker feline",
    3: "dog puppy bark leash canine fetch",
    4: "bird wing feather nest beak song",
    5: "tree oak bark leaf trunk root",
    6: "flower petal bloom rose tulip song",
    7: "pet leash food vet kitten puppy",
}
FILLER = "the and of a is big small day".split()


def ancestors(c):
    out, todo = set(), [c]
    while todo:
        v = todo.pop()
        for p, k in EDGES:
            if k == v and p not in out:
                out.add(p)
                todo.append(p)
    return out


def make_corpus(rng):
    docs, labels = [], []
    for i in range(60):
        c = [2, 3, 4, 5, 6, 7][i % 6]
        words = TOPICS[c].split()
        n = int(rng.integers(6, 14))
        text = [str(rng.choice(words)) if rng.random() < 0.6 else str(rng.choice(FILLER)) for _ in range(n)]
        if rng.random() < 0.3:  # some words of another topic
            text += [str(rng.choice(TOPICS[[2, 3, 4, 5, 6, 7][(i + 1) % 6]].split()))]
        docs.append(" ".join(text))
        labels.append(c)
    return docs, labels


def sibling_sets():
    roots = [c for c in range(len(CLASSES)) if not any(k == c for _, k in EDGES)]
    sets = [roots]
    for p in range(len(CLASSES)):
        kids = [k for q, k in EDGES if q == p]
        if kids and not any(sorted(kids) == sorted(s) for s in sets):
            sets.append(kids)
    return sets


def local_scores(members, docs_of, emb, names):
    n = len(members)
    tf = [dict() for _ in range(n)]
    df = [dict() for _ in range(n)]
    for i, s in enumerate(members):
        for d in docs_of[s]:
            words = d.split()
            for w in words:
                tf[i][w] = tf[i].get(w, 0) + 1
            for w in set(words):
                df[i][w] = df[i].get(w, 0) + 1
    cand = sorted({w for i in range(n) for w, t in tf[i].items() if t >= MIN_FREQ and w not in STOP})
    maxdf = [max(df[i].values()) for i in range(n)]
    dl = [sum(tf[i].values()) for i in range(n)]
    avgdl = sum(dl) / n

    def bm25(i, w):
        t, f = tf[i].get(w, 0), df[i].get(w, 0)
        score = t * 2.2 / (t + 1.2 * (1 - 0.5 + 0.5 * dl[i] / avgdl))
        return score * math.log(1 + f, 2) / math.log(1 + maxdf[i], 2)

    top, scores = {}, {}
    for i, s in enumerate(members):
        sc = {}
        for w in cand:
            ex = [math.exp(bm25(r, w)) for r in range(n)]
            dist = ex[i] / (1 + sum(ex))
            pop = math.log(1 + df[i].get(w, 0), 2)
            a, b = emb[w], emb[names[s]]
            cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
            sc[w] = pop ** 0.2 * dist ** 0.8 * max(cos, 0.0)
        ranked = sorted((w for w in cand if sc[w] > 0), key=lambda w: (-sc[w], w))
        top[s] = ranked[:TOP_K]
        scores[s] = sc
    kept = {}
    for i, s in enumerate(members):
        kept[s] = [w for w in top[s]
                   if all(not (w in top[r] and (scores[s][w] < scores[r][w] or (scores[s][w] == scores[r][w] and j < i)))
                          for j, r in enumerate(members) if r != s)]
    return kept, scores


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(7)
    docs, labels = make_corpus(rng)
    with open(os.path.join(OUT, "labels.txt"), "w") as f:
        f.writelines(f"{i}\t{n}\n" for i, n in enumerate(CLASSES))
    with open(os.path.join(OUT, "label_hierarchy.txt"), "w") as f:
        f.writelines(f"{p}\t{c}\n" for p, c in EDGES)
    with open(os.path.join(OUT, "corpus.txt"), "w") as f:
        f.writelines(f"{i}\t{d}\n" for i, d in enumerate(docs))
    with open(os.path.join(OUT, "doc2labels.txt"), "w") as f:
        f.writelines(f"{i}\t{c}\n" for i, c in enumerate(labels))
    vocab = sorted({w for d in docs for w in d.split()} | set(CLASSES))
    emb = {w: rng.standard_normal(DIM).astype(np.float32) for w in vocab}
    # class names close to their topic words, so that scores are mostly positive
    for c, words in TOPICS.items():
        for w in words.split():
            emb[w] = (emb[w] + 2 * emb[CLASSES[c]]).astype(np.float32)
    with open(os.path.join(OUT, "embeddings.txt"), "w") as f:
        for w in vocab:
            f.write(w + "\t" + " ".join("%.9g" % x for x in emb[w]) + "\n")
    emb = {w: v.astype(np.float64) for w, v in emb.items()}

    with_anc = [{c} | ancestors(c) for c in labels]
    docs_of = {s: [d for d, cs in zip(docs, with_anc) if s in cs] for s in range(len(CLASSES))}
    result = {}
    for members in sibling_sets():
        members = [s for s in members if docs_of[s]]
        if not members:
            continue
        kept, scores = local_scores(members, docs_of, emb, CLASSES)
        for s in members:
            terms = [(w, scores[s][w]) for w in kept[s]]
            if s not in result:
                result[s] = terms
            else:
                keep = {w for w, _ in terms}
                result[s] = [(w, x) for w, x in result[s] if w in keep]
    with open(os.path.join(OUT, "expected.txt"), "w") as f:
        for s in sorted(result):
            terms = sorted(result[s], key=lambda t: (-t[1], t[0]))
            f.write(CLASSES[s] + ":" + ",".join(w for w, _ in terms) + "\n")


if __name__ == "__main__":
    main()
