#!/usr/bin/env python3
"""Throughput and time to first token of a compiled model's --server.

Starts `EXE --server --parallel P` for each P given, and for each runs:
  - one stream alone: decode tokens/s (first token to last) and TTFT;
  - C concurrent streams: aggregate decode tokens/s (all tokens over the
    wall time from the first request to the last token) and each TTFT;
all with the same short prompt, `ignore_eos` and `max_tokens` fixed so
every run generates the same number of tokens. Ratios are against the
single stream of the same server, measured in the same run.

  /usr/bin/python3 bench/server_bench.py ./qwen3-0.6b --parallel 1,4 --clients 4 --tokens 64
"""
import argparse
import http.client
import json
import re
import statistics
import subprocess
import sys
import threading
import time


def start(exe, parallel, threads):
    proc = subprocess.Popen([exe, "--server", "--port", "0", "--parallel", str(parallel), "-t", str(threads)],
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
            return proc, int(m.group(1))
    raise SystemExit(f"{exe} exited before listening")


def stream(port, prompt, tokens, seed):
    """One streamed chat completion: (ttft_s, total_s, completion_tokens)."""
    body = json.dumps({"messages": [{"role": "user", "content": prompt}], "max_tokens": tokens, "seed": seed,
                       "stream": True, "stream_options": {"include_usage": True}, "ignore_eos": True})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t0 = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    ttft, count = None, 0
    for raw in resp:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        if chunk.get("usage"):
            count = chunk["usage"]["completion_tokens"]
        if ttft is None and any(c.get("delta", {}).get("content") for c in chunk.get("choices", [])):
            ttft = time.perf_counter() - t0
    total = time.perf_counter() - t0
    conn.close()
    return ttft, total, count


def concurrent(port, clients, prompt, tokens):
    results = [None] * clients
    def run(i):
        results[i] = stream(port, prompt, tokens, 100 + i)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("exe")
    ap.add_argument("--parallel", default="1,4")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt", default="Write a short story about a lighthouse keeper.")
    a = ap.parse_args()
    print(f"| server | streams | decode tok/s (aggregate) | vs one stream | TTFT median | TTFT max |")
    print(f"|---|---:|---:|---:|---:|---:|")
    for p in [int(x) for x in a.parallel.split(",")]:
        proc, port = start(a.exe, p, a.threads)
        try:
            stream(port, a.prompt, 8, 1)  # warm up: pages of weights and caches
            ttft, total, n = stream(port, a.prompt, a.tokens, 1)
            single = (n - 1) / (total - ttft)
            print(f"| --parallel {p} | 1 | {single:.2f} | 1.00x | {ttft * 1e3:.0f} ms | {ttft * 1e3:.0f} ms |")
            wall, res = concurrent(port, a.clients, a.prompt, a.tokens)
            ttfts = [r[0] for r in res]
            total_tokens = sum(r[2] for r in res)
            agg = total_tokens / wall
            print(f"| --parallel {p} | {a.clients} | {agg:.2f} | {agg / single:.2f}x | "
                  f"{statistics.median(ttfts) * 1e3:.0f} ms | {max(ttfts) * 1e3:.0f} ms |")
            sys.stdout.flush()
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
