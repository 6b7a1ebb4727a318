#!/usr/bin/env python3
"""Writes common/text/bert_unicode_compat.h: the code points where Hugging Face
tokenizers' BERT normalizer and pre-tokenizer see a character differently from
what utf8proc's Unicode data says.

tokenizers decides "control/format/private use" (text cleaning), "punctuation"
(pre-tokenizer splits) and "nonspacing mark" (accent stripping) with the
unicode_categories crate, whose tables are older than the Unicode version of
utf8proc, and lowercases with Rust's char::to_lowercase, whose tables may be
newer. tc-tokenize asks utf8proc and then applies these overrides, so its
output equals tokenizers' on every code point.

The script probes the real library one code point at a time and compares with
utf8proc loaded through ctypes. Run it with the Python that has the
tokenizers version to match (the project tests against build/venv):

    build/venv/bin/python3 scripts/make_bert_unicode_compat.py > common/text/bert_unicode_compat.h

The per-code-point golden tests/golden/bert_normalizer_codepoints.txt.zst
checks the C result against the library on every code point.
"""
import ctypes
import ctypes.util
import sys

import tokenizers
from tokenizers import normalizers, pre_tokenizers

lib = ctypes.CDLL(ctypes.util.find_library("utf8proc") or "libutf8proc.so.2")
lib.utf8proc_category.restype = ctypes.c_int
lib.utf8proc_category.argtypes = [ctypes.c_int32]
lib.utf8proc_tolower.restype = ctypes.c_int32
lib.utf8proc_tolower.argtypes = [ctypes.c_int32]
lib.utf8proc_unicode_version.restype = ctypes.c_char_p
lib.utf8proc_version.restype = ctypes.c_char_p
lib.utf8proc_decompose_char.restype = ctypes.c_ssize_t
lib.utf8proc_decompose_char.argtypes = [ctypes.c_int32, ctypes.POINTER(ctypes.c_int32), ctypes.c_ssize_t,
                                        ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
UTF8PROC_DECOMPOSE = 1 << 4
CAT_MN, CAT_PC, CAT_PO, CAT_ZS, CAT_ZP, CAT_CC, CAT_CF, CAT_CS, CAT_CO = 6, 12, 18, 23, 25, 26, 27, 28, 29

ASCII_PUNCT = set(range(33, 48)) | set(range(58, 65)) | set(range(91, 97)) | set(range(123, 127))


def category(cp):
    return lib.utf8proc_category(cp)


def base_other(cp):
    return category(cp) in (CAT_CC, CAT_CF, CAT_CS, CAT_CO)


def base_punct(cp):
    return cp in ASCII_PUNCT or CAT_PC <= category(cp) <= CAT_PO


def base_mn(cp):
    return category(cp) == CAT_MN


def is_space(cp):  # Rust char::is_whitespace: White_Space = Zs, Zl, Zp, U+0009..U+000D, U+0085
    return CAT_ZS <= category(cp) <= CAT_ZP or 9 <= cp <= 13 or cp == 0x85


def nfd(cp):
    buf = (ctypes.c_int32 * 32)()
    bound = ctypes.c_int(0)
    n = lib.utf8proc_decompose_char(cp, buf, 32, UTF8PROC_DECOMPOSE, ctypes.byref(bound))
    return [buf[i] for i in range(n)]


def unpad(s):
    # a CJK ideograph comes back with a space on each side
    return s[1:-1] if len(s) == 3 and s[0] == " " and s[2] == " " else s


def main():
    cased = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    lower = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=True)
    strip = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=True, lowercase=False)
    pretok = pre_tokenizers.BertPreTokenizer()
    overrides = []   # (cp, property, value)
    lowercase = []   # (cp, [code points])
    decompose = []   # (cp, [code points]) where NFD + mark removal differs
    hf_mn = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        split = pretok.pre_tokenize_str("a" + c + "b")
        punct = len(split) == 3 and split[1][0] == c
        if punct != base_punct(cp):
            overrides.append((cp, "PUNCT", punct))
        if cp in (0, 0xFFFD) or is_space(cp) or cp in (9, 10, 13):
            continue
        other = cased.normalize_str(c) == ""
        if other != base_other(cp):
            overrides.append((cp, "OTHER", other))
        if other:
            continue
        if nfd(cp) == [cp]:
            mn = strip.normalize_str("a" + c) == "a"
            hf_mn[cp] = mn
            if mn != base_mn(cp):
                overrides.append((cp, "MARK", mn))
        low = [ord(x) for x in unpad(lower.normalize_str(c))]
        if low != [lib.utf8proc_tolower(cp)]:
            lowercase.append((cp, low))
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF or cp in (0, 0xFFFD) or is_space(cp):
            continue
        c = chr(cp)
        if cased.normalize_str(c) == "":
            continue
        got = [ord(x) for x in unpad(strip.normalize_str(c))]
        mine = [d for d in nfd(cp) if not hf_mn.get(d, base_mn(d))]
        if got != mine:
            decompose.append((cp, got))
    write_header(overrides, lowercase, decompose)


def ranges(items):
    out = []
    for cp, value in sorted(items):
        if out and out[-1][2] == value and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp, value])
    return out


def write_header(overrides, lowercase, decompose):
    w = sys.stdout.write
    version = lib.utf8proc_unicode_version().decode()
    w("// Generated by scripts/make_bert_unicode_compat.py with tokenizers %s and\n" % tokenizers.__version__)
    w("// utf8proc %s (Unicode %s). Do not edit: rerun the script.\n" % (lib.utf8proc_version().decode(), version))
    w("//\n// Code points where tokenizers' BERT normalizer and pre-tokenizer see a\n")
    w("// character differently from utf8proc (their Unicode tables are of another\n")
    w("// version), with the value tokenizers uses.\n")
    w("#ifndef TC_BERT_UNICODE_COMPAT_H\n#define TC_BERT_UNICODE_COMPAT_H\n\n#include <stdint.h>\n\n")
    w('#define TC_BERT_COMPAT_UNICODE "%s"\n\n' % version)
    w("typedef struct {\n    uint32_t first, last;\n    uint8_t value;\n} tc_bert_override;\n\n")
    w("typedef struct {\n    uint32_t cp;\n    uint8_t n;\n    uint32_t to[3];\n} tc_bert_mapping;\n\n")
    for prop, name, what in (("OTHER", "tc_bert_other_overrides", "removed by text cleaning (control, format, private use)"),
                             ("PUNCT", "tc_bert_punct_overrides", "punctuation"),
                             ("MARK", "tc_bert_mark_overrides", "nonspacing mark")):
        rs = ranges([(cp, v) for cp, p, v in overrides if p == prop])
        w("// %s: sorted, disjoint ranges.\n" % what)
        w("static const tc_bert_override %s[] = {\n" % name)
        for first, last, value in rs:
            w("    {0x%04X, 0x%04X, %d},\n" % (first, last, int(value)))
        if not rs:
            w("    {0x110000, 0x110000, 0},  // none (a sentinel no code point reaches)\n")
        w("};\n\n")
    for name, table, what in (("tc_bert_lowercase_map", lowercase, "char::to_lowercase where utf8proc_tolower differs"),
                              ("tc_bert_decomposition", decompose, "NFD without nonspacing marks where utf8proc differs")):
        w("// %s, sorted by code point.\n" % what)
        w("static const tc_bert_mapping %s[] = {\n" % name)
        for cp, to in table:
            assert 0 <= len(to) <= 3
            w("    {0x%04X, %d, {%s}},\n" % (cp, len(to), ", ".join("0x%04X" % t for t in to) or "0"))
        if not table:
            w("    {0x110000, 0, {0}},  // none (a sentinel no code point reaches)\n")
        w("};\n\n")
    w("#endif\n")


if __name__ == "__main__":
    main()
