"""Writes numpy arrays and lists of strings into one tensor file through the
golden-pack helper (tests/helpers/golden-pack.c, built by `make tests`): the
scripts that make goldens and the benchmark peers share it."""
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np


def find_helper(root, who):
    """The golden-pack helper of whichever build under root/build has it."""
    found = sorted(glob.glob(os.path.join(root, "build", "*", "tests", "helpers", "golden-pack")))
    if not found:
        sys.exit("%s: golden-pack not built (run `make tests`) and --pack not given" % who)
    return found[0]


def pack(helper, out, arrays, strings, attrs=(), meta=()):
    """strings: name -> list of str; arrays: name -> numpy array (written in
    that order, strings first); attrs: "tensor:key=value"; meta: "key=value"."""
    with tempfile.TemporaryDirectory() as tmp:
        items = []
        for name, values in strings.items():
            p = os.path.join(tmp, name + ".txt")
            with open(p, "w", encoding="utf-8") as f:
                f.write("".join(v + "\n" for v in values))
            items.append("%s=%s" % (name, p))
        for name, arr in arrays.items():
            p = os.path.join(tmp, name + ".npy")
            np.save(p, arr)
            items.append("%s=%s" % (name, p))
        cmd = [helper, out]
        for m in meta:
            cmd += ["--meta", m]
        for a in attrs:
            cmd += ["--attr", a]
        subprocess.run(cmd + items, check=True)
