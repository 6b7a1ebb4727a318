#!/usr/bin/env python3
"""The table and the ratio line of the CPU benchmarks (bench_encode.sh cpu,
bench_predict.sh cpu, bench_train.sh).

  bench_peers_table.py ROWS --tool NAME --unit UNIT [--count-of ITEMS.npy]
                       [--reference NAME] [--top1]

ROWS: one row a line, tab-separated: kind (tc or peer), the row's name, its
result file, and its outputs (.npy, or "-"). A result file holds either one
line "SKIP: why" or one JSON line with "seconds" (a list: each pass over the
items, as many as --count-of's rows; the rate is items / seconds) or "rates"
(a list of rates already), and an optional "note". Outputs are compared with the reference
row's, one row of outputs per item: the smallest cosine over the items (and
with --top1 the share of items whose largest output is at the same place).

The last line compares tc's best path (the fastest of its paths that keep the
minimum cosine >= 0.99, else its fastest) with the fastest peer of min
cosine >= 0.99 and the fastest peer at any accuracy, at median rates. Without
a reference (training) every peer counts as comparable.
"""
import argparse
import json
import statistics
import sys

import numpy as np

ACCURATE = 0.99


def read_rows(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        kind, name, result, outputs = line.rstrip("\n").split("\t")
        text = open(result, encoding="utf-8", errors="replace").read().strip()
        row = {"kind": kind, "name": name, "outputs": None if outputs == "-" else outputs}
        if text.startswith("SKIP:") or not text:
            row["skip"] = text[5:].strip() if text else "no result"
        else:
            row.update(json.loads(text.splitlines()[-1]))
        rows.append(row)
    return rows


def rates_of(row, count):
    if "rates" in row:
        return row["rates"]
    return [count / s for s in row["seconds"]]


def cosines(a, b):
    return (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-30)


def compare(rows, reference, top1):
    ref = next((r for r in rows if r["name"] == reference and "skip" not in r), None)
    if ref is None or not ref["outputs"]:
        return
    want = np.load(ref["outputs"]).astype(np.float64)
    for r in rows:
        if "skip" in r or not r["outputs"]:
            continue
        got = np.load(r["outputs"]).astype(np.float64)
        if got.shape != want.shape:
            r["note"] = ("%s; " % r["note"] if r.get("note") else "") + "outputs %s, reference %s" % (got.shape, want.shape)
            continue
        r["cosine"] = float(cosines(got, want).min())
        if top1:
            r["top1"] = float((got.argmax(1) == want.argmax(1)).mean())


def print_table(rows, unit, reference, top1):
    head = "%-44s %22s" % ("", "%s best / median" % unit)
    if reference:
        head += " %12s" % "min cosine"
        head += " %8s" % "top-1" if top1 else ""
    print(head)
    for r in rows:
        if "skip" in r:
            print("%-44s SKIP: %s" % (r["name"], r["skip"]))
            continue
        line = "%-44s %10.1f / %9.1f" % (r["name"], r["best"], r["median"])
        if reference:
            ref = r["name"] == reference
            line += " %12s" % ("reference" if ref else "%.6f" % r["cosine"] if "cosine" in r else "-")
            if top1:
                line += " %8s" % ("" if ref else "%.4f" % r["top1"] if "top1" in r else "-")
        print(line + ("   (%s)" % r["note"] if r.get("note") else ""))


def accurate(r, reference):
    return reference is None or r["name"] == reference or r.get("cosine", 0) >= ACCURATE


def ratio_line(rows, tool, unit, reference):
    ran = [r for r in rows if "skip" not in r]
    tc = [r for r in ran if r["kind"] == "tc"]
    peers = [r for r in ran if r["kind"] == "peer"]
    if not tc:
        return "%s: no path ran" % tool
    best = max([r for r in tc if accurate(r, reference)] or tc, key=lambda r: r["median"])

    def versus(group, which):
        """'R x the fastest peer WHICH (NAME)' against the fastest of group."""
        if not group:
            return "(no peer%s ran)" % which
        p = max(group, key=lambda r: r["median"])
        return "%.2fx the fastest peer%s (%s)" % (best["median"] / p["median"], which, p["name"])

    path = best["name"][len(tool) + 1:] if best["name"].startswith(tool + " ") else best["name"]
    line = "%s: best path %s at %.1f %s = " % (tool, path, best["median"], unit)
    if reference is None:
        return line + versus(peers, "")
    line += "%s, %s" % (versus([r for r in peers if accurate(r, reference)], " with min cosine >= %.2f" % ACCURATE),
                        versus(peers, " at any accuracy"))
    cos = "reference" if best["name"] == reference else "%.6f" % best["cosine"] if "cosine" in best else "-"
    return line + "; tc min cosine " + cos


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rows")
    ap.add_argument("--tool", required=True)
    ap.add_argument("--unit", required=True)
    ap.add_argument("--count-of", help="a .npy whose rows are the items of a pass (rate = items / seconds)")
    ap.add_argument("--reference", help="the row the others' outputs are compared with")
    ap.add_argument("--top1", action="store_true")
    args = ap.parse_args()
    rows = read_rows(args.rows)
    count = len(np.load(args.count_of)) if args.count_of else 1
    for r in rows:
        if "skip" not in r:
            rates = rates_of(r, count)
            r["best"], r["median"] = max(rates), statistics.median(rates)
    if args.reference:
        compare(rows, args.reference, args.top1)
    print_table(rows, args.unit, args.reference, args.top1)
    print(ratio_line(rows, args.tool, args.unit, args.reference))


if __name__ == "__main__":
    sys.exit(main())
