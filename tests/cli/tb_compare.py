"""Compares a run's TensorBoard event files with its log.jsonl
(tests/cli/test_train_tensorboard.sh): the event records, in order, hold
the log lines' numbers (all but "step") tagged with their keys, at their
steps, as float32. Read with the tensorboard package's own event reader.

usage: python3 tb_compare.py EVENTS_DIR LOG.jsonl  -> prints "ok N" or the first difference
"""
import glob
import json
import math
import sys

from tensorboard.backend.event_processing.event_file_loader import EventFileLoader


def events(directory):
    files = sorted(glob.glob(directory + "/events.out.tfevents.*"))
    if len(files) != 1:
        sys.exit(f"expected one event file in {directory}, found {len(files)}")
    out = []
    for e in EventFileLoader(files[0]).Load():
        if e.file_version:
            continue
        values = {}
        for v in e.summary.value:
            values[v.tag] = v.tensor.float_val[0] if v.WhichOneof("value") == "tensor" else v.simple_value
        out.append((e.step, values))
    return out


def main():
    recorded = events(sys.argv[1])
    lines = [json.loads(line) for line in open(sys.argv[2])]
    if len(recorded) != len(lines):
        sys.exit(f"{len(recorded)} event records, {len(lines)} log lines")
    for (step, values), line in zip(recorded, lines):
        numbers = {k: v for k, v in line.items() if k != "step" and not isinstance(v, bool) and isinstance(v, (int, float))}
        if step != line["step"] or set(values) != set(numbers):
            sys.exit(f"step {step} {sorted(values)} vs log step {line['step']} {sorted(numbers)}")
        for k, v in numbers.items():
            if not math.isclose(values[k], v, rel_tol=1e-6, abs_tol=1e-30):
                sys.exit(f"step {step} {k}: {values[k]} vs {v}")
    print("ok", len(lines))


main()
