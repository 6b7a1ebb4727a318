#!/usr/bin/env python3
"""The sentence-transformers side of tests/bench/bench_encode.sh.

  prepare: tokenizes the first N documents of a corpus (id<TAB>text) with the
           model's own tokenizer (truncation at --max-len) and writes a tokens
           file for tc-encode (via the golden-pack helper) plus the texts.
  time CMD...: wall and CPU seconds of a command (tc-encode), as JSON.
  run:     times SentenceTransformer on the same documents, same batch size
           and max length: `encode` (texts in, embeddings out: tokenization
           included, as users call it) and `forward` (the model alone on
           pre-tokenized, length-sorted batches, the closest peer of
           tc-encode). Prints one JSON line per mode and writes the encode
           embeddings as a tensor file for the parity check.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
from golden_pack import pack  # noqa: E402

MADE_BY = ["made_by=tests/bench/bench_encode_st.py"]


def read_texts(path, n):
    ids, texts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if len(texts) == n:
                break
            doc_id, text = line.rstrip("\n").split("\t", 1)
            ids.append(doc_id)
            texts.append(text)
    return ids, texts


def load_model(args):
    device = "cuda" if args.device == "cuda" else "cpu"
    model = SentenceTransformer(args.model, device=device)
    if args.fp16:
        model.half()
    elif args.bf16:
        model.bfloat16()
    model.max_seq_length = args.max_len
    model.eval()
    return model


def prepare(args):
    model = load_model(args)
    doc_ids, texts = read_texts(args.corpus, args.n)
    features = model.tokenize(texts)
    ids = features["input_ids"].numpy().astype(np.int32)
    lengths = features["attention_mask"].sum(dim=1).numpy().astype(np.int32)
    pack(args.pack, args.out, {"input_ids": ids, "lengths": lengths}, {"doc_ids": doc_ids},
         ["input_ids:vocab_size=%d" % model.tokenizer.vocab_size, "input_ids:max_len=%d" % ids.shape[1]], MADE_BY)
    with open(args.out + ".txt", "w", encoding="utf-8") as f:
        f.write("".join("%s\t%s\n" % (i, t) for i, t in zip(doc_ids, texts)))
    print(json.dumps({"docs": len(texts), "tokens": int(lengths.sum())}))


def sync(args):
    if args.device == "cuda":
        torch.cuda.synchronize()


def run(args):
    torch.set_num_threads(args.threads)
    model = load_model(args)
    doc_ids, texts = read_texts(args.corpus, args.n)
    features = model.tokenize(texts)
    tokens = int(features["attention_mask"].sum())
    model.encode(texts[: args.batch_size], batch_size=args.batch_size)  # warm up
    sync(args)
    t, c = time.perf_counter(), time.process_time()
    emb = model.encode(texts, batch_size=args.batch_size, convert_to_numpy=True)
    sync(args)
    encode_s, encode_cpu = time.perf_counter() - t, time.process_time() - c
    print(json.dumps({"mode": "encode", "seconds": encode_s, "cpu": encode_cpu, "docs": len(texts), "tokens": tokens}))
    # the model alone: batches of similar length, as encode() makes them
    order = np.argsort(-features["attention_mask"].sum(dim=1).numpy(), kind="stable")
    batches = []
    for s in range(0, len(order), args.batch_size):
        idx = torch.from_numpy(order[s : s + args.batch_size])
        width = int(features["attention_mask"][idx].sum(dim=1).max())
        batch = {k: v[idx][:, :width].to(model.device) for k, v in features.items() if torch.is_tensor(v)}
        batches.append(batch)
    with torch.inference_mode():
        model(batches[0])
        sync(args)
        t, c = time.perf_counter(), time.process_time()
        for batch in batches:
            model(batch)["sentence_embedding"].float().cpu()
        sync(args)
    forward_s, forward_cpu = time.perf_counter() - t, time.process_time() - c
    print(json.dumps({"mode": "forward", "seconds": forward_s, "cpu": forward_cpu, "docs": len(texts), "tokens": tokens}))
    if args.emb_out:
        pack(args.pack, args.emb_out, {"embeddings": emb.astype(np.float32)}, {"doc_ids": doc_ids}, meta=MADE_BY)


def time_command(args):
    """Wall and CPU seconds (user + system, all threads) of a command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(args.command, check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    print(json.dumps({"seconds": wall, "cpu": cpu}))


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "time":
        return time_command(argparse.Namespace(command=sys.argv[2:]))
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["prepare", "run"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--fp16", action="store_true")
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--pack", required=True, help="the golden-pack helper")
    ap.add_argument("--out", help="prepare: the tokens file to write")
    ap.add_argument("--emb-out", help="run: write encode()'s embeddings here")
    args = ap.parse_args()
    prepare(args) if args.what == "prepare" else run(args)


if __name__ == "__main__":
    sys.exit(main())
