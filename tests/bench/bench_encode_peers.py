#!/usr/bin/env python3
"""The CPU peers of tests/bench/bench_encode.sh and bench_predict.sh.

One peer per process, so that no library's idle threads (PyTorch's OpenMP
threads spin a while after each parallel region) run beside another's:

  bench_encode_peers.py run PEER --model DIR --ids ids.npy --lengths lengths.npy
        --batch-size B --threads T --repeat R --cache DIR --out emb.npy
        [--head CHECKPOINT]

PEER is one of torch-fp32, torch-bf16 (autocast), ort-fp32, ort-int8
(quantize_dynamic, per-tensor), ort-int8-channel (per-channel), openvino
(the CPU plugin's default inference precision). Every peer runs the same
module: the encoder, the pooling and normalization tc-encode applies by
default (from the model's 1_Pooling/config.json and modules.json), and with
--head the classifier's scores (doc . W . E^T, pooling and normalization from
classifier.json), as tc-predict computes them. The batches are the same for
all: documents sorted by length, longest first, cut into batches of B,
padded to the batch's longest. The time is the model loop alone, after a
warm-up pass over every batch (each batch width is a new shape, for which
the runtimes compile or pick kernels on first sight); R passes. Prints one
JSON line (seconds of each pass, and a note such as OpenVINO's chosen
precision) and writes the outputs in the input's order (.npy). A peer that cannot run here (a package missing, the
CPU lacking bf16 units) prints one line "SKIP: why" and exits 3.

Exported models (ONNX, int8 ONNX, OpenVINO IR) are cached in --cache, under
a folder named for the model path, so a second run skips the export; a
checkpoint's (--head, often in a temporary folder) under one named for its
contents, and only the newest checkpoint's are kept.
"""
import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import time

import numpy as np

PEERS = ("torch-fp32", "torch-bf16", "ort-fp32", "ort-int8", "ort-int8-channel", "openvino")
DEPS_HINT = "make deps PEERS=1"
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


class Skip(Exception):
    pass


def need(module):
    """Imports a peer package, or skips the peer naming it."""
    try:
        return __import__(module)
    except ImportError:
        raise Skip("needs the Python package %s (%s)" % (module, DEPS_HINT))


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def pooling_of(model_dir, head_dir):
    """The pooling and normalization tc-encode (or tc-predict) applies."""
    if head_dir:
        cfg = json.load(open(os.path.join(head_dir, "classifier.json")))
        return cfg["pooling"], bool(cfg["normalize"])
    pooling, normalize = "mean", False
    path = os.path.join(model_dir, "1_Pooling", "config.json")
    if os.path.exists(path):
        cfg = json.load(open(path))
        pooling = "cls" if cfg.get("pooling_mode_cls_token") else "mean"
    path = os.path.join(model_dir, "modules.json")
    if os.path.exists(path):
        normalize = any(m.get("type", "").endswith("Normalize") for m in json.load(open(path)))
    return pooling, normalize


def build_module(args, attention=None):
    torch = need("torch")
    need("transformers")
    from transformers import AutoModel

    model_dir = args.head or args.model
    pooling, normalize = pooling_of(args.model, args.head)
    encoder = AutoModel.from_pretrained(model_dir, attn_implementation=attention).eval()
    W = E = None
    if args.head:
        from safetensors.numpy import load_file
        head = load_file(os.path.join(args.head, "head.safetensors"))
        W = torch.from_numpy(head["interaction.weight"])
        E = torch.from_numpy(head["label_embedding_weights"])

    class Peer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = encoder
            if W is not None:
                self.W = torch.nn.Parameter(W, requires_grad=False)
                self.E = torch.nn.Parameter(E, requires_grad=False)

        def forward(self, input_ids, attention_mask):
            out = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
            h = out[0]
            if pooling == "mean":
                m = attention_mask.unsqueeze(-1).to(h.dtype)
                doc = (h * m).sum(1) / m.sum(1)
            elif pooling == "cls":
                doc = h[:, 0]
            else:
                doc = out[1]
            if normalize:
                doc = torch.nn.functional.normalize(doc, dim=1)
            if W is not None:
                doc = doc @ self.W @ self.E.T
            return doc.float()

    return Peer().eval()


def batches_of(ids, lengths, batch_size):
    order = np.argsort(-lengths, kind="stable")
    out = []
    for s in range(0, len(order), batch_size):
        idx = order[s : s + batch_size]
        width = int(lengths[idx].max())
        mask = (np.arange(width)[None, :] < lengths[idx, None]).astype(np.int64)
        out.append((idx, np.ascontiguousarray(ids[idx, :width], dtype=np.int64), mask))
    return out


def cache_dir(args):
    """The folder of this model's exports: named for the model path; for a
    checkpoint (--head, often in a temporary folder), for its contents, and
    only the newest checkpoint's exports are kept."""
    if not args.head:
        key = os.path.realpath(args.model)
        name = os.path.basename(key)
    else:
        digest = hashlib.sha1()
        for f in ("classifier.json", "head.safetensors", "model.safetensors", "config.json"):
            with open(os.path.join(args.head, f), "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        key, name = digest.hexdigest(), "checkpoint"
    path = os.path.join(args.cache, "%s-%s" % (name, hashlib.sha1(key.encode()).hexdigest()[:12]))
    if args.head and not os.path.isdir(path) and os.path.isdir(args.cache):
        for old in os.listdir(args.cache):
            if old.startswith("checkpoint-"):
                shutil.rmtree(os.path.join(args.cache, old), ignore_errors=True)
    os.makedirs(path, exist_ok=True)
    return path


def example(torch):
    ids = torch.ones((2, 16), dtype=torch.long)
    return ids, torch.ones_like(ids)


def onnx_path(args):
    """The module exported to ONNX (dynamic batch and length), cached."""
    path = os.path.join(cache_dir(args), "model.onnx")
    if os.path.exists(path):
        return path
    torch = need("torch")
    need("onnx")
    module = build_module(args)
    tmp = path + ".tmp"
    # the TorchScript-based exporter needs no onnxscript; the dynamo one
    # (dynamo=True, dynamic_shapes) exports this module too
    with torch.no_grad():
        torch.onnx.export(module, example(torch), tmp, input_names=["input_ids", "attention_mask"],
                          output_names=["out"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "length"},
                                        "attention_mask": {0: "batch", 1: "length"}, "out": {0: "batch"}})
    os.replace(tmp, path)
    return path


def int8_path(args, per_channel):
    path = os.path.join(cache_dir(args), "model-int8%s.onnx" % ("-channel" if per_channel else ""))
    if os.path.exists(path):
        return path
    source = onnx_path(args)
    from onnxruntime.quantization import QuantType, quantize_dynamic
    tmp = path + ".tmp.onnx"
    quantize_dynamic(source, tmp, per_channel=per_channel, weight_type=QuantType.QInt8)
    os.replace(tmp, path)
    return path


def torch_runner(args, bf16):
    torch = need("torch")
    if bf16:
        if not any(f in cpu_flags() for f in BF16_FLAGS):
            raise Skip("this CPU lacks %s (no bf16 dot-product units)" % " and ".join(BF16_FLAGS))
    torch.set_num_threads(args.threads)
    module = build_module(args)

    def run(ids, mask):
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return module(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()

    return run, "torch %s" % torch.__version__


def ort_runner(args, quant):
    ort = need("onnxruntime")
    need("onnx")
    need("torch")
    path = onnx_path(args) if quant is None else int8_path(args, quant == "channel")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])

    def run(ids, mask):
        return session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    return run, "onnxruntime %s" % ort.__version__


def openvino_runner(args):
    ov = need("openvino")
    core = ov.Core()
    path = os.path.join(cache_dir(args), "openvino.xml")
    if not os.path.exists(path):
        torch = need("torch")
        module = build_module(args)
        with torch.no_grad():
            model = ov.convert_model(module, example_input=example(torch),
                                     input=[("input_ids", [-1, -1], ov.Type.i64),
                                            ("attention_mask", [-1, -1], ov.Type.i64)])
        ov.save_model(model, path)
    compiled = core.compile_model(core.read_model(path), "CPU", {"INFERENCE_NUM_THREADS": args.threads})
    default = core.get_property("CPU", "INFERENCE_PRECISION_HINT")
    chosen = compiled.get_property("INFERENCE_PRECISION_HINT")
    request = compiled.create_infer_request()

    def run(ids, mask):
        return request.infer({"input_ids": ids, "attention_mask": mask})[0].copy()

    return run, "openvino %s, inference precision %s (the CPU plugin's default: %s)" % (
        ov.__version__.split("-")[0], chosen.to_string(), default.to_string())


def runner(args):
    if args.peer.startswith("torch-"):
        return torch_runner(args, args.peer == "torch-bf16")
    if args.peer.startswith("ort-"):
        return ort_runner(args, {"ort-fp32": None, "ort-int8": "tensor", "ort-int8-channel": "channel"}[args.peer])
    return openvino_runner(args)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["run"])
    ap.add_argument("peer", choices=PEERS)
    ap.add_argument("--model", required=True, help="the model directory (transformers layout)")
    ap.add_argument("--head", help="a tc-train checkpoint: its encoder and classifier head")
    ap.add_argument("--ids", required=True)
    ap.add_argument("--lengths", required=True)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cache", required=True, help="where exported models are kept")
    ap.add_argument("--out", required=True, help="the outputs (.npy), in the input's order")
    args = ap.parse_args()
    try:
        run, note = runner(args)
    except Skip as e:
        print("SKIP: %s" % e)
        return 3
    ids, lengths = np.load(args.ids), np.load(args.lengths).astype(np.int64)
    batches = batches_of(ids, lengths, args.batch_size)
    for _, b, m in batches:  # warm-up: every shape seen once
        run(b, m)
    passes, out = [], None
    for _ in range(args.repeat):
        results = []
        t = time.perf_counter()
        for idx, b, m in batches:
            results.append(run(b, m))
        passes.append(time.perf_counter() - t)
    out = np.zeros((len(lengths), results[0].shape[1]), np.float32)
    for (idx, _, _), r in zip(batches, results):
        out[idx] = r
    np.save(args.out, out)
    print(json.dumps({"peer": args.peer, "seconds": passes, "median": statistics.median(passes),
                      "docs": len(lengths), "tokens": int(lengths.sum()), "note": note}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
