#!/usr/bin/env python3
"""Golden embeddings for tc-encode's parity test (tests/unit/test_encode_parity.c).

Runs sentence-transformers' SentenceTransformer.encode with the default model
(models/all-MiniLM-L6-v2, mean pooling + Normalize) on CPU PyTorch, in f32,
over:
  * the first 500 documents of 20 Newsgroups test/corpus.txt, tokenized with
    truncation at 128 tokens (tc-tokenize's default --max-len),
  * adversarial lines (empty, whitespace, accents, CJK, emoji, control and
    zero-width characters, combining marks, very long words, RTL and Indic
    scripts, URLs, numbers), truncated at 256 (the model's max_seq_length),
  * 4 long documents truncated at 512, every position of the model.
Token ids come from the model's own tokenizer (SentenceTransformer.tokenize),
so the test does not depend on tc-tokenize. The result is one tensor stream
that is also a valid tokens file: doc_ids str[N], input_ids i32[N,512]
(padded with the tokenizer's padding id), lengths i32[N], plus embeddings
f32[N,D], stored exactly (f32, no rounding), zstd level 19.

The MPNet golden (tests/golden/encode_mpnet.tct, read by the same test) is
  python3 tests/golden/make_encode_goldens.py --model models/all-mpnet-base-v2 \
      --docs 32 --long 1 --out tests/golden/encode_mpnet.tct
with one more adversarial line holding MPNet's own special tokens (a <pad>
inside a text takes the padding position).

usage: python3 tests/golden/make_encode_goldens.py [--model DIR] [--data DIR]
                                                    [--docs N] [--long N]
                                                    [--pack PATH] [--out FILE]
--pack is the golden-pack helper (built by `make tests`; found under build/
when not given).
"""
import argparse
import os

import numpy as np
import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

from golden_pack import find_helper, pack

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ADVERSARIAL = [
    "",
    "a",
    "   \t   ",
    "!!!???...,,,;;;:::",
    "Café naïve résumé Über façade coöperate",
    "日本語のテキストと中文混合的句子",
    "I love 🍕 and 🚀🚀🚀 😀 👍🏽",
    "tab\there\x01\x02 bell\x07 and del\x7f",
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom",
    "e\u0301 a\u0308 n\u0303 combining marks o\u0302\u0323",
    "a" * 300,
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "مرحبا بالعالم، هذه جملة عربية",
    "नमस्ते दुनिया यह हिंदी वाक्य है",
    "สวัสดีชาวโลก นี่คือประโยคภาษาไทย",
    "Hello мир 世界 κόσμος عالم",
    "https://example.com/path/to/page?q=1&r=two#fragment",
    "3.14159 1,000,000 -42 1e10 $99.99 50% 12:30pm 2024-01-31",
    "user.name+tag@example.org wrote:",
    " ".join(["the"] * 400),
    "int main(void) { return printf(\"%d\\n\", 0); }",
    "THIS IS ALL CAPS AND SHOUTING",
    "\u2603 \u2764 \U0001F600 \u00a9 \u2122 \u00b0C",
    "안녕하세요 세계, 한국어 문장입니다",
    "Γειά σου Κόσμε, ελληνικά",
    "-" * 400,
    "[CLS] [SEP] [MASK] [PAD] [UNK] special tokens in text",
    "state-of-the-art, well-known, re-entrant",
    "\u00a0non\u00a0breaking\u2003em\u2009thin spaces",
    "Ünïcödé ÀÉÎÕÜ ßẞ ﬁ ligature",
]

# Special tokens of a RoBERTa-style vocabulary (MPNet), written in a text.
ADVERSARIAL_ROBERTA = ["<s> </s> <pad> <unk> <mask> special tokens <pad> in text"]


def vocab_fingerprint(path):
    """FNV-1a 64 over the file's bytes, as common/fingerprint.h computes it."""
    h = 0xCBF29CE484222325
    with open(path, "rb") as f:
        for byte in f.read():
            h ^= byte
            h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def read_corpus(path):
    docs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            doc_id, text = line.rstrip("\n").split("\t", 1)
            docs.append((doc_id, text))
    return docs


def encode_group(model, texts, max_len):
    """Token ids (list of lists) and embeddings (n, D) with truncation at max_len."""
    model.max_seq_length = max_len
    features = model.tokenize(texts)
    ids = [row[mask.bool()].tolist() for row, mask in zip(features["input_ids"], features["attention_mask"])]
    emb = model.encode(texts, batch_size=32, convert_to_numpy=True, show_progress_bar=False)
    return ids, emb.astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "all-MiniLM-L6-v2"))
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--docs", type=int, default=500, help="20NG test documents at 128 tokens")
    ap.add_argument("--long", type=int, default=4, help="long 20NG documents at 512 tokens")
    ap.add_argument("--pack", default=None)
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "golden", "encode_minilm.tct"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    model = SentenceTransformer(args.model, device="cpu")
    model.eval()
    corpus = read_corpus(os.path.join(args.data, "20ng", "test", "corpus.txt"))
    head = corpus[:args.docs]
    long_docs = [d for d in corpus[500:] if len(model.tokenizer(d[1])["input_ids"]) > 600][:args.long]
    adversarial = ADVERSARIAL + (ADVERSARIAL_ROBERTA if model.tokenizer.pad_token == "<pad>" else [])
    groups = [
        (["20ng-test:" + i for i, _ in head], [t for _, t in head], 128),
        (["adversarial:%d" % k for k in range(len(adversarial))], adversarial, 256),
        (["20ng-test:" + i for i, _ in long_docs], [t for _, t in long_docs], 512),
    ]
    doc_ids, ids, embs = [], [], []
    for names, texts, max_len in groups:
        group_ids, group_emb = encode_group(model, texts, max_len)
        doc_ids += names
        ids += group_ids
        embs.append(group_emb)
    width = 512
    pad_id = model.tokenizer.pad_token_id
    input_ids = np.full((len(ids), width), pad_id, dtype=np.int32)
    lengths = np.array([len(r) for r in ids], dtype=np.int32)
    for k, row in enumerate(ids):
        input_ids[k, : len(row)] = row
    embeddings = np.concatenate(embs).astype(np.float32)
    vocab = os.path.join(args.model, "vocab.txt")
    pack(args.pack or find_helper(ROOT, "make_encode_goldens.py"), args.out,
         {"input_ids": input_ids, "lengths": lengths, "embeddings": embeddings}, {"doc_ids": doc_ids},
         ["input_ids:vocab_fingerprint=%s" % vocab_fingerprint(vocab),
          "input_ids:vocab_size=%d" % model.tokenizer.vocab_size,
          "input_ids:max_len=%d" % width,
          "input_ids:pad_id=%d" % pad_id,
          "embeddings:pooling=mean",
          "embeddings:normalized=true"],
         ["made_by=tests/golden/make_encode_goldens.py",
          "model=%s" % os.path.basename(os.path.normpath(args.model)),
          "sentence_transformers=%s" % sentence_transformers.__version__,
          "torch=%s" % torch.__version__])
    print("%s: %d documents (%d tokens), %d bytes" % (args.out, len(ids), int(lengths.sum()),
                                                       os.path.getsize(args.out)))


if __name__ == "__main__":
    main()
