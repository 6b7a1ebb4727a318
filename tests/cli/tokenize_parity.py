#!/usr/bin/env python3
"""Compares tc-tokenize output with Hugging Face tokenizers, document by document.

usage: tokenize_parity.py MANIFEST

Each line of MANIFEST: NAME CORPUS IDS_MODE SETTING MAX_LEN PREFIX, where
IDS_MODE is "ids" (id<TAB>text lines) or "no-ids", SETTING is
"model:DIR" (the model's tokenizer.json) or "cased:VOCAB" (a cased
vocabulary, lowercase off), and PREFIX names the .npy exports of tc-tokenize's
doc_ids, input_ids and lengths (PREFIX.doc_ids.npy, ...). Prints one line per
entry, "NAME: N documents compared, M mismatches", the first mismatches, and
exits 1 if any.

tokenizers encodes each corpus once per setting, truncating at the largest
MAX_LEN the manifest asks of it (encode_batch_fast: the same ids as
encode_batch without the offsets, three times faster). For a large corpus
(over 5000 documents), a smaller MAX_LEN of the same setting is cut from that
encoding the way tokenizers truncates a single sequence: the first MAX_LEN-2
tokens between [CLS] and [SEP], then padding (those lines say "cut from L");
small corpora are encoded again with tokenizers' own truncation.

With TC_PARITY_CACHE set to a directory, tokenizers' encodings are kept
there, named by a hash of the corpus bytes, the setting (its vocabulary's
bytes) and the tokenizers version, then MAX_LEN, so a second run (the
sanitizer pass of `make test`) does not encode again what tokenizers already
encoded. A large corpus asked at a MAX_LEN that is not kept is cut from the
shortest longer encoding kept (the sanitizer pass asks 128 of the corpora the
plain pass encoded at 512); its lines say "cut from L" too.
"""
import glob
import hashlib
import os
import sys

import numpy as np
import tokenizers
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors


def read_corpus(path, with_ids):
    """Documents as tc-tokenize reads them: lines split at \\n, one trailing
    \\r dropped, the id before the first tab; text decoded with U+FFFD for
    invalid UTF-8 (which BERT's cleaning then removes)."""
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    ids, texts = [], []
    for i, line in enumerate(lines):
        if line.endswith(b"\r"):
            line = line[:-1]
        if with_ids:
            doc_id, text = line.split(b"\t", 1)
            ids.append(doc_id.decode("utf-8"))
        else:
            ids.append(str(i))
            text = line
        texts.append(text.decode("utf-8", "replace"))
    return ids, texts


def tokenizer(setting, max_len):
    kind, path = setting.split(":", 1)
    if kind == "model":
        tok = Tokenizer.from_file(path + "/tokenizer.json")
    else:  # what BertTokenizerFast(vocab, do_lower_case=False) builds
        tok = Tokenizer(models.WordPiece.from_file(path, unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=False)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
        tok.post_processor = processors.BertProcessing(("[SEP]", tok.token_to_id("[SEP]")),
                                                       ("[CLS]", tok.token_to_id("[CLS]")))
    # the model's own padding token (MPNet's <pad>, BERT's [PAD])
    padding = tok.padding or {"pad_id": tok.token_to_id("[PAD]"), "pad_token": "[PAD]"}
    tok.enable_truncation(max_length=max_len)
    tok.enable_padding(length=max_len, pad_id=padding["pad_id"], pad_token=padding["pad_token"])
    return tok


def sep_and_pad(tok):
    """The ids closing a sequence and padding it: the post-processor's
    (BERT's [SEP], MPNet's </s>) and the padding's."""
    empty = tok.encode("")
    return empty.ids[sum(empty.attention_mask) - 1], tok.padding["pad_id"]


# a corpus this large is compared at a shorter MAX_LEN by cutting a longer
# encoding rather than encoding it again
LARGE = 5000


def cache_stem(setting, corpus):
    """The cache's name for a corpus and setting, before "-MAX_LEN.npz"."""
    directory = os.environ.get("TC_PARITY_CACHE")
    if not directory:
        return None
    kind, path = setting.split(":", 1)
    h = hashlib.sha256()
    for name in (corpus, path + "/tokenizer.json" if kind == "model" else path):
        with open(name, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    h.update(("%s %s" % (kind, tokenizers.__version__)).encode())
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, h.hexdigest()[:32])


def cached_lengths(stem):
    """The MAX_LENs kept for a cache stem."""
    found = []
    for name in glob.glob(glob.escape(stem) + "-*.npz"):
        tail = name[len(stem) + 1:-len(".npz")]
        if tail.isdigit():
            found.append(int(tail))
    return sorted(found)


def encode(setting, texts, max_len, corpus):
    """ids [N, max_len], lengths [N], the closing and padding ids, and the
    MAX_LEN the ids were cut from (max_len when encoded at it)."""
    tok = tokenizer(setting, max_len)
    sep, pad = sep_and_pad(tok)
    stem = cache_stem(setting, corpus)
    if stem:
        kept = cached_lengths(stem)
        longer = [n for n in kept if n > max_len]
        if max_len in kept or (len(texts) > LARGE and longer):
            source = max_len if max_len in kept else longer[0]
            with np.load("%s-%d.npz" % (stem, source)) as z:
                ids, lengths = z["ids"], z["lengths"]
            if source != max_len:
                ids, lengths = cut((ids, lengths, sep, pad, source), max_len)
            return ids, lengths, sep, pad, source
    encodings = tok.encode_batch_fast(texts)
    ids = np.array([e.ids for e in encodings], dtype=np.int32).reshape(len(texts), max_len)
    lengths = np.array([sum(e.attention_mask) for e in encodings], dtype=np.int32)
    if stem:
        cached = "%s-%d.npz" % (stem, max_len)
        np.savez(cached + ".tmp.npz", ids=ids, lengths=lengths)
        os.replace(cached + ".tmp.npz", cached)
    return ids, lengths, sep, pad, max_len


def cut(encoded, max_len):
    """tokenizers' truncation of a single sequence, applied to a longer encoding."""
    ids, lengths, sep, pad, _ = encoded
    out = ids[:, :max_len].copy()
    long_rows = lengths > max_len
    out[long_rows, max_len - 1] = sep
    return out, np.minimum(lengths, max_len)


def compare(name, corpus, ids_mode, setting, max_len, prefix, encoded, longest):
    doc_ids, texts = read_corpus(corpus, ids_mode == "ids")
    got_ids = np.load(prefix + ".doc_ids.npy")
    got = np.load(prefix + ".input_ids.npy")
    got_len = np.load(prefix + ".lengths.npy")
    key = (setting, corpus)
    if key not in encoded:
        encoded.clear()  # one corpus at a time in memory
        encoded[key] = encode(setting, texts, longest[key], corpus)
    if len(texts) <= LARGE and max_len != longest[key]:
        want, want_len = encode(setting, texts, max_len, corpus)[:2]
        how = ""
    elif max_len == longest[key]:
        want, want_len, source = encoded[key][0], encoded[key][1], encoded[key][4]
        how = " (cut from %d)" % source if source != max_len else ""
    else:
        want, want_len = cut(encoded[key], max_len)
        how = " (cut from %d)" % encoded[key][4]
    if got.shape != want.shape or got_len.shape != want_len.shape or len(got_ids) != len(doc_ids):
        print("%s: shapes differ: tc-tokenize %s, tokenizers %s" % (name, got.shape, want.shape))
        return len(texts), len(texts)
    rows = np.nonzero((got != want).any(axis=1) | (got_len != want_len) |
                      np.array([a != b for a, b in zip(got_ids.tolist(), doc_ids)]))[0]
    for r in rows[:5]:
        cols = np.nonzero(got[r] != want[r])[0]
        at = int(cols[0]) if len(cols) else 0
        print("  %s: document %d (id %s): first difference at token %d: tc-tokenize %s, tokenizers %s"
              % (name, r, doc_ids[r], at, got[r][at:at + 6].tolist(), want[r][at:at + 6].tolist()))
    bad = len(rows)
    print("%s: %d documents compared, %d mismatches%s" % (name, len(texts), bad, how))
    return len(texts), bad


def main():
    with open(sys.argv[1]) as f:
        entries = [line.split() for line in f if line.strip()]
    longest = {}
    for name, corpus, ids_mode, setting, max_len, prefix in entries:
        longest[(setting, corpus)] = max(longest.get((setting, corpus), 0), int(max_len))
    # entries of one corpus and setting together, so each is encoded once
    entries.sort(key=lambda e: (e[3], e[1], -int(e[4])))
    total = mismatches = 0
    encoded = {}
    for name, corpus, ids_mode, setting, max_len, prefix in entries:
        n, bad = compare(name, corpus, ids_mode, setting, int(max_len), prefix, encoded, longest)
        total += n
        mismatches += bad
    print("total: %d documents compared, %d mismatches" % (total, mismatches))
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
