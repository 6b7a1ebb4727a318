#!/usr/bin/env python3
"""A stand-in for an OpenAI-compatible chat-completions server, on loopback.

The tests start it, point tc-refine / tc-augment / the client test at it, and
read its request log. Answers are deterministic functions of the request:

  annotation requests (a system message listing "categories: a, b, c."):
      the user message may carry a directive "[[reply:TEXT]]" -> TEXT;
      otherwise the first two listed categories, comma-separated.
  generation requests ("generate N ..."): a JSON array of N {"doc": text}
      objects, each about 120 words, distinct per request and per variant.
  anything else: "ok".

--faults F1,F2,...  the first requests (in arrival order) get these instead:
  429       HTTP 429 (no Retry-After)       429ra  HTTP 429, Retry-After: 0
  500 / 503 server errors                   400    a client error (not retried)
  timeout   sleep --sleep seconds, then answer normally
  malformed HTTP 200 whose body is not JSON
  nochoice  HTTP 200 JSON without "choices"
  badjson   (generation) content that is not a JSON array
  fenced    (generation) the array inside ```json fences with prose around
  short     (generation) documents of five words
  mention   (generation) documents that name the path's classes
  dups      (generation) the same document N times
  ok        the normal answer
Every request is appended to --log as one JSON line (its path with the query
string, as sent).
"""
import argparse
import hashlib
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november "
         "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu").split()


def generated_docs(prompt, n, seed, fault):
    docs = []
    path = re.search(r"taxonomy path: ([^\n]*?)(?:, but|\n|$)", prompt)
    names = path.group(1) if path else "thing"
    for i in range(n):
        h = hashlib.sha256(f"{seed}/{i}".encode()).digest()
        words = [WORDS[b % len(WORDS)] for b in h] * 4
        text = f"Document {i} {seed[:8]} says " + " ".join(words[:120]) + "."
        if fault == "short":
            text = "far too short a text"
        elif fault == "mention":
            text = f"This is about {names.split(' > ')[-1]} and " + text
        elif fault == "dups":
            text = "The same text every time " + " ".join(WORDS * 5)
        docs.append({"doc": text})
    return docs


def answer(body, fault, variant_seed):
    messages = body.get("messages", [])
    system = " ".join(m.get("content", "") for m in messages if m.get("role") == "system")
    user = " ".join(m.get("content", "") for m in messages if m.get("role") == "user")
    everything = system + "\n" + user
    m = re.search(r"generate (\d+) ", everything)
    if m:
        n = int(m.group(1))
        docs = generated_docs(everything, n, variant_seed, fault)
        text = json.dumps(docs)
        if fault == "badjson":
            return "Sure! Here are your documents: doc one, doc two."
        if fault == "fenced":
            return "Here you go:\n```json\n" + json.dumps(docs, indent=1) + "\n```\nEnjoy."
        return text
    directive = re.search(r"\[\[reply:(.*?)\]\]", user)
    if directive:
        return directive.group(1)
    cats = re.search(r"categories: (.*?)\.(?: |$)", system)
    if cats:
        return ", ".join(cats.group(1).split(", ")[:2])
    return "ok"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, payload, headers=()):
        data = payload.encode() if isinstance(payload, str) else payload
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length)
        server = self.server
        with server.lock:
            server.count += 1
            n = server.count
            fault = server.faults[n - 1] if n - 1 < len(server.faults) else "ok"
            with open(server.log, "a") as f:
                f.write(json.dumps({"n": n, "path": self.path, "fault": fault,
                                    "auth": self.headers.get("Authorization", ""),
                                    "body": raw.decode("utf-8", "replace")}) + "\n")
        if urlsplit(self.path).path != "/v1/chat/completions":  # a query string may follow
            return self.send(404, json.dumps({"error": {"message": "no such route " + self.path}}))
        try:
            body = json.loads(raw)
        except ValueError:
            return self.send(400, json.dumps({"error": {"message": "request is not JSON"}}))
        if fault in ("429", "429ra"):
            return self.send(429, json.dumps({"error": {"message": "rate limited"}}),
                             [("Retry-After", "0")] if fault == "429ra" else [])
        if fault in ("500", "503"):
            return self.send(int(fault), json.dumps({"error": {"message": "server trouble"}}))
        if fault == "400":
            return self.send(400, json.dumps({"error": {"message": "bad request, says the stub"}}))
        if fault == "timeout":
            time.sleep(server.sleep)
        if fault == "malformed":
            return self.send(200, "<html>this is not json</html>")
        if fault == "nochoice":
            return self.send(200, json.dumps({"id": "x", "object": "chat.completion"}))
        seed = hashlib.sha256(raw + str(n).encode()).hexdigest()
        content = answer(body, fault, seed)
        reply = {"id": f"stub-{n}", "object": "chat.completion", "model": body.get("model", ""),
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": content}}]}
        self.send(200, json.dumps(reply))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--faults", default="")
    ap.add_argument("--sleep", type=float, default=2.0)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.lock = threading.Lock()
    server.count = 0
    server.faults = [f for f in args.faults.split(",") if f]
    server.sleep = args.sleep
    server.log = args.log
    open(args.log, "w").close()
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
