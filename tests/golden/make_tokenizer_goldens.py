#!/usr/bin/env python3
"""Golden files for tc-tokenize, made with Hugging Face tokenizers.

Writes, beside this script:
  cased_vocab.txt       a small cased WordPiece vocabulary, derived from the
                        uncased all-MiniLM-L6-v2 one (see make_cased_vocab)
  tokenizer_goldens.txt the token ids of every line of tokenizer_adversarial.txt
                        under five settings (uncased model, uncased vocabulary
                        without accent stripping, cased vocabulary plain, with
                        accent stripping, without CJK splitting)
  bert_normalizer_codepoints.txt.zst
                        for every code point c, the words tokenizers'
                        BertNormalizer + BertPreTokenizer make of "a" c "b" in
                        four modes, consecutive code points with the same
                        outcome merged into ranges

Run from the repository root with the Python whose tokenizers the project
matches (build/venv) once the default model is in models/:
    build/venv/bin/python3 tests/golden/make_tokenizer_goldens.py
"""
import os
import subprocess
import sys

import tokenizers
from tokenizers import Tokenizer, normalizers, pre_tokenizers
from tokenizers.implementations import BertWordPieceTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODEL = "models/all-MiniLM-L6-v2"
CASED = "tests/golden/cased_vocab.txt"
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def read_lines(path):
    """Lines as tc-tokenize reads them: split at \\n, one trailing \\r
    dropped, invalid UTF-8 replaced (tokenizers then removes the U+FFFD)."""
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [(l[:-1] if l.endswith(b"\r") else l).decode("utf-8", "replace") for l in lines]


def make_cased_vocab(uncased_path):
    """A cased vocabulary, reproducible from the uncased one: the special
    tokens, every single character of the uncased vocabulary with its upper
    case, the Latin-1 and Latin Extended-A letters, each also as a "##"
    piece, the short "##" pieces, and the first 2000 whole words with their
    capitalized form (the first 200 also in capitals)."""
    with open(uncased_path, encoding="utf-8") as f:
        uncased = [l.rstrip("\n") for l in f]
    out, seen = [], set()

    def add(token):
        if token and token not in seen and not any(c.isspace() for c in token):
            seen.add(token)
            out.append(token)

    for t in SPECIAL:
        add(t)
    chars = [t for t in uncased if len(t) == 1]
    letters = [chr(c) for c in range(0xC0, 0x180) if chr(c).isalpha()]
    for c in chars + letters:
        for form in (c, c.upper() if len(c.upper()) == 1 else c):
            add(form)
            add("##" + form)
    for t in uncased:
        if t.startswith("##") and 1 <= len(t) - 2 <= 3:
            add(t)
    words = [t for t in uncased if t.isalpha() and t.isascii() and len(t) > 1][:2000]
    for i, w in enumerate(words):
        add(w)
        add(w.capitalize())
        if i < 200:
            add(w.upper())
    with open(os.path.join(ROOT, CASED), "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in out))
    return len(out)


def settings():
    """(name, vocabulary, lowercase, strip_accents, chinese_chars, tokenizer)"""
    model_vocab = os.path.join(ROOT, MODEL, "vocab.txt")
    cased_vocab = os.path.join(ROOT, CASED)
    real = Tokenizer.from_file(os.path.join(ROOT, MODEL, "tokenizer.json"))
    real.no_truncation()
    real.no_padding()
    return [
        ("uncased", MODEL + "/vocab.txt", 1, 1, 1, real),
        ("uncased_keep_accents", MODEL + "/vocab.txt", 1, 0, 1,
         BertWordPieceTokenizer(model_vocab, lowercase=True, strip_accents=False)),
        ("cased", CASED, 0, 0, 1, BertWordPieceTokenizer(cased_vocab, lowercase=False)),
        ("cased_strip_accents", CASED, 0, 1, 1,
         BertWordPieceTokenizer(cased_vocab, lowercase=False, strip_accents=True)),
        ("cased_no_chinese", CASED, 0, 0, 0,
         BertWordPieceTokenizer(cased_vocab, lowercase=False, handle_chinese_chars=False)),
    ]


def write_goldens(lines):
    uncased_file = BertWordPieceTokenizer(os.path.join(ROOT, MODEL, "vocab.txt"), lowercase=True)
    out = ["# Made by tests/golden/make_tokenizer_goldens.py with tokenizers %s from the lines of\n"
           "# tokenizer_adversarial.txt (index from 0): ids with [CLS]/[SEP], no truncation. Do not edit.\n"
           % tokenizers.__version__]
    for name, vocab, lower, strip, chinese, tok in settings():
        out.append("config %s vocab=%s lowercase=%d strip_accents=%d chinese_chars=%d\n"
                   % (name, vocab, lower, strip, chinese))
        encodings = tok.encode_batch(lines)
        if name == "uncased":  # the model's tokenizer.json and its vocab.txt agree
            assert [e.ids for e in encodings] == [e.ids for e in uncased_file.encode_batch(lines)]
        for i, e in enumerate(encodings):
            out.append("%d\t%s\n" % (i, " ".join(map(str, e.ids))))
    with open(os.path.join(HERE, "tokenizer_goldens.txt"), "w") as f:
        f.write("".join(out))


def codepoint_field(cp, normalizer, pretok):
    words = [w for w, _ in pretok.pre_tokenize_str(normalizer.normalize_str("a" + chr(cp) + "b"))]
    return " ".join(".".join("=" if ord(x) == cp else "%x" % ord(x) for x in w) for w in words)


def write_codepoints():
    modes = [(True, None), (False, None), (True, False), (False, True)]  # (lowercase, strip_accents)
    norms = [normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=s, lowercase=l)
             for l, s in modes]
    pretok = pre_tokenizers.BertPreTokenizer()
    rows, prev = [], None
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        f = "\t".join(codepoint_field(cp, n, pretok) for n in norms)
        if prev and f == prev[2] and cp == prev[1] + 1:
            prev[1] = cp
            continue
        if prev:
            rows.append(prev)
        prev = [cp, cp, f]
    rows.append(prev)
    text = ("# tokenizers %s: FIRST LAST then, for lowercase+strip, cased, lowercase only, strip only,\n"
            "# the words made of 'a' c 'b' (code points in hex joined by '.', '=' for c itself)\n"
            % tokenizers.__version__)
    text += "".join("%x\t%x\t%s\n" % (a, b, f) for a, b, f in rows)
    path = os.path.join(HERE, "bert_normalizer_codepoints.txt.zst")
    subprocess.run(["zstd", "-19", "-q", "-f", "-o", path], input=text.encode(), check=True)


def main():
    os.chdir(ROOT)
    if not os.path.exists(os.path.join(MODEL, "tokenizer.json")):
        sys.exit("make_tokenizer_goldens.py: %s is missing (make model)" % MODEL)
    n = make_cased_vocab(os.path.join(MODEL, "vocab.txt"))
    lines = read_lines(os.path.join(HERE, "tokenizer_adversarial.txt"))
    write_goldens(lines)
    write_codepoints()
    print("cased vocabulary: %d tokens; %d adversarial lines; tokenizers %s" % (n, len(lines), tokenizers.__version__))


if __name__ == "__main__":
    main()
