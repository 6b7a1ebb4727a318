#!/usr/bin/env python3
"""Prepares the public 20 Newsgroups "bydate" archive for teleclass-c.

    scripts/prepare_20ng.py 20news-bydate.tar.gz OUTDIR

Writes the TELEClass layout that `make demo` reads:
  OUTDIR/labels.txt             id<TAB>class name (27 classes, readable names)
  OUTDIR/label_hierarchy.txt    parent<TAB>child (3 levels)
  OUTDIR/{train,test}/corpus.txt      id<TAB>text, one post a line
  OUTDIR/{train,test}/doc2labels.txt  id<TAB>the classes on the post's path
  OUTDIR/{train,test}/sources.txt     id<TAB>newsgroup/file in the archive

A post's text is its subject (leading "Re:" removed) followed by " . " and the
body; headers are dropped and whitespace runs become one space; files are
decoded as latin-1. Posts are shuffled with a fixed seed, so any prefix of a
split is a fair sample. Standard library only.
"""
import os
import random
import re
import sys
import tarfile

# The 20 newsgroups grouped into the six subject partitions of the corpus'
# own documentation, with a third level where the group names have one.
CLASSES = [
    "computers", "computer_graphics", "windows_operating_system", "computer_hardware",
    "ibm_pc_hardware", "mac_hardware", "x_window_system", "recreation", "autos", "motorcycles",
    "sports", "baseball", "hockey", "science", "cryptography", "electronics", "medicine", "space",
    "for_sale", "politics", "guns", "middle_east", "politics_discussion", "religion", "atheism",
    "christianity", "religion_discussion",
]
EDGES = [(0, 1), (0, 2), (0, 3), (3, 4), (3, 5), (0, 6), (7, 8), (7, 9), (7, 10), (10, 11),
         (10, 12), (13, 14), (13, 15), (13, 16), (13, 17), (19, 20), (19, 21), (19, 22),
         (23, 24), (23, 25), (23, 26)]
GROUP_PATH = {
    "comp.graphics": [0, 1], "comp.os.ms-windows.misc": [0, 2],
    "comp.sys.ibm.pc.hardware": [0, 3, 4], "comp.sys.mac.hardware": [0, 3, 5],
    "comp.windows.x": [0, 6], "misc.forsale": [18], "rec.autos": [7, 8],
    "rec.motorcycles": [7, 9], "rec.sport.baseball": [7, 10, 11],
    "rec.sport.hockey": [7, 10, 12], "sci.crypt": [13, 14], "sci.electronics": [13, 15],
    "sci.med": [13, 16], "sci.space": [13, 17], "talk.politics.guns": [19, 20],
    "talk.politics.mideast": [19, 21], "talk.politics.misc": [19, 22],
    "alt.atheism": [23, 24], "soc.religion.christian": [23, 25], "talk.religion.misc": [23, 26],
}
SEED = 20


def post_text(raw):
    head, _, body = raw.partition("\n\n")
    subject = ""
    for line in head.split("\n"):
        if line.startswith("Subject:"):
            subject = line[len("Subject:"):].strip()
    while re.match(r"(?i)re:\s*", subject):
        subject = re.sub(r"(?i)^re:\s*", "", subject)
    return " ".join((subject + " . " + body).split())


def read_archive(path):
    posts = {"train": [], "test": []}
    with tarfile.open(path, "r:*") as tar:
        for member in tar:
            parts = member.name.split("/")
            if not member.isfile() or len(parts) != 3 or not parts[0].startswith("20news-bydate-"):
                continue
            split, group, name = parts[0][len("20news-bydate-"):], parts[1], parts[2]
            if split not in posts or group not in GROUP_PATH:
                raise SystemExit(f"prepare_20ng: {path}: unexpected entry {member.name}")
            raw = tar.extractfile(member).read().decode("latin-1")
            posts[split].append((f"{group}/{name}", post_text(raw), GROUP_PATH[group]))
    return posts


def write_split(outdir, split, posts):
    posts.sort(key=lambda p: (p[0].split("/")[0], int(p[0].split("/")[1])))
    random.Random(SEED).shuffle(posts)
    os.makedirs(os.path.join(outdir, split), exist_ok=True)
    with open(os.path.join(outdir, split, "corpus.txt"), "w", encoding="utf-8") as corpus, \
            open(os.path.join(outdir, split, "doc2labels.txt"), "w") as labels, \
            open(os.path.join(outdir, split, "sources.txt"), "w") as sources:
        for i, (source, text, path) in enumerate(posts):
            corpus.write(f"{i}\t{text}\n")
            labels.write(f"{i}\t{','.join(map(str, path))}\n")
            sources.write(f"{i}\t{source}\n")


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: prepare_20ng.py 20news-bydate.tar.gz OUTDIR")
    archive, outdir = sys.argv[1:]
    try:
        posts = read_archive(archive)
    except (OSError, tarfile.TarError, EOFError) as e:
        raise SystemExit(f"prepare_20ng: {archive}: not a readable tar archive ({str(e).splitlines()[0]})")
    if not posts["train"] or not posts["test"]:
        raise SystemExit(f"prepare_20ng: {archive}: no 20news-bydate-train/test posts found")
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "labels.txt"), "w") as f:
        f.writelines(f"{i}\t{name}\n" for i, name in enumerate(CLASSES))
    with open(os.path.join(outdir, "label_hierarchy.txt"), "w") as f:
        f.writelines(f"{p}\t{c}\n" for p, c in EDGES)
    for split in ("train", "test"):
        write_split(outdir, split, posts[split])
    print(f"prepare_20ng: {len(posts['train'])} train and {len(posts['test'])} test posts in {outdir}")


if __name__ == "__main__":
    main()
