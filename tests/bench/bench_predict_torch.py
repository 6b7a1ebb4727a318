#!/usr/bin/env python3
"""The PyTorch/transformers side of tests/bench/bench_predict.sh.

  prepare: tokenizes, with the model's own tokenizer (truncation at --max-len),
           the first N documents of a corpus (id<TAB>text) as the benchmark's
           input, the first --train documents of a training corpus and the
           class names of a labels.txt (for tc-train to make the checkpoint),
           and writes them as tokens files (via the golden-pack helper) with
           the vocabulary's fingerprint, as tc-tokenize would.
  run:     loads the checkpoint tc-train wrote with transformers (BertModel:
           config.json + model.safetensors) and its head (head.safetensors),
           and times the classifier's scores on the same tokens, the same
           batch size, batches of similar length (as tc-predict makes them):
           encoder, pooling and normalization as classifier.json says, then
           doc . interaction.weight . label_embedding_weights^T. The time
           starts after loading and a warm-up batch. Prints one JSON line and
           writes the scores (.npy) for the parity check.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from safetensors.numpy import load_file
from transformers import AutoTokenizer, BertModel


def fnv1a64(path):
    h = 0xCBF29CE484222325
    for b in open(path, "rb").read():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def read_texts(path, n):
    ids, texts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if len(texts) == n:
                break
            doc_id, _, text = line.rstrip("\n").partition("\t")
            ids.append(doc_id)
            texts.append(text)
    return ids, texts


def write_tokens(args, tokenizer, out, ids, texts):
    enc = tokenizer(texts, truncation=True, max_length=args.max_len, padding="longest", return_tensors="np")
    input_ids = enc["input_ids"].astype(np.int32)
    lengths = enc["attention_mask"].sum(axis=1).astype(np.int32)
    fp = fnv1a64(os.path.join(args.model, "vocab.txt"))
    with tempfile.TemporaryDirectory() as tmp:
        np.save(tmp + "/input_ids.npy", input_ids)
        np.save(tmp + "/lengths.npy", lengths)
        with open(tmp + "/doc_ids.txt", "w", encoding="utf-8") as f:
            f.write("".join(i + "\n" for i in ids))
        subprocess.run([args.pack, out, "--meta", "made_by=tests/bench/bench_predict_torch.py",
                        "--attr", "input_ids:vocab_fingerprint=" + fp,
                        "--attr", "input_ids:vocab_size=%d" % tokenizer.vocab_size,
                        "doc_ids=" + tmp + "/doc_ids.txt", "input_ids=" + tmp + "/input_ids.npy",
                        "lengths=" + tmp + "/lengths.npy"], check=True)
    return int(lengths.sum())


def prepare(args):
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    ids, texts = read_texts(args.corpus, args.n)
    tokens = write_tokens(args, tokenizer, os.path.join(args.out, "tokens.tct"), ids, texts)
    tids, ttexts = read_texts(args.train_corpus, args.train)
    write_tokens(args, tokenizer, os.path.join(args.out, "train_tokens.tct"), tids, ttexts)
    cids, names = read_texts(args.labels, 1 << 30)
    write_tokens(args, tokenizer, os.path.join(args.out, "class_tokens.tct"), cids, [n.replace("_", " ") for n in names])
    print(json.dumps({"docs": len(texts), "tokens": tokens}))


def load_tokens(path, helper_dump):
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("input_ids", "lengths"):
            subprocess.run([helper_dump, "--npy", name, path, "-o", "%s/%s.npy" % (tmp, name)], check=True)
        return np.load(tmp + "/input_ids.npy"), np.load(tmp + "/lengths.npy")


def run(args):
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if args.device == "cuda" else "cpu")
    cfg = json.load(open(os.path.join(args.checkpoint, "classifier.json")))
    head = load_file(os.path.join(args.checkpoint, "head.safetensors"))
    model = BertModel.from_pretrained(args.checkpoint).eval().to(device)
    W = torch.from_numpy(head["interaction.weight"]).to(device)
    E = torch.from_numpy(head["label_embedding_weights"]).to(device)
    if args.fp16:
        model, W, E = model.half(), W.half(), E.half()
    ids, lengths = load_tokens(args.tokens, args.dump)
    order = np.argsort(-lengths, kind="stable")
    batches = []
    for s in range(0, len(order), args.batch_size):
        idx = order[s : s + args.batch_size]
        width = int(lengths[idx].max())
        mask = (np.arange(width)[None, :] < lengths[idx, None]).astype(np.int64)
        batches.append((idx, torch.from_numpy(ids[idx, :width].astype(np.int64)).to(device),
                        torch.from_numpy(mask).to(device)))

    def scores_of(batch_ids, mask):
        out = model(input_ids=batch_ids, attention_mask=mask)
        h = out.last_hidden_state
        if cfg["pooling"] == "mean":
            m = mask[:, :, None].to(h.dtype)
            doc = (h * m).sum(1) / m.sum(1)
        elif cfg["pooling"] == "cls":
            doc = h[:, 0]
        else:
            doc = out.pooler_output
        if cfg["normalize"]:
            doc = torch.nn.functional.normalize(doc, dim=1)
        return (doc @ W @ E.T).float().cpu()

    scores = np.zeros((len(lengths), E.shape[0]), np.float32)
    with torch.inference_mode():
        scores_of(batches[0][1], batches[0][2])
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        for idx, b, m in batches:
            scores[idx] = scores_of(b, m).numpy()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t
    np.save(args.scores_out, scores)
    print(json.dumps({"seconds": seconds, "docs": len(lengths), "tokens": int(lengths.sum()),
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["prepare", "run"])
    ap.add_argument("--model", help="prepare: the model directory (tokenizer, vocab.txt)")
    ap.add_argument("--corpus")
    ap.add_argument("--train-corpus")
    ap.add_argument("--labels")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--train", type=int, default=64)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--pack", help="the golden-pack helper")
    ap.add_argument("--out", help="prepare: directory for the tokens files")
    ap.add_argument("--checkpoint", help="run: the checkpoint directory")
    ap.add_argument("--tokens", help="run: the tokens file")
    ap.add_argument("--dump", help="run: tc-dump")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--fp16", action="store_true")
    ap.add_argument("--scores-out", help="run: where the scores go (.npy)")
    args = ap.parse_args()
    prepare(args) if args.what == "prepare" else run(args)


if __name__ == "__main__":
    sys.exit(main())
