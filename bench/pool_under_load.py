#!/usr/bin/env python3
"""Decode tokens/s of a compiled model at -t 1 and -t 2 while 0, 1 and 2
other processes spin on the CPU (a busy machine: a compile, a browser).

  bench/pool_under_load.py EXE [--tokens N] [--reps R] [--loops 0,1,2] [--threads 1,2]

Prints a markdown table: the median of R runs per cell (runs alternate
between thread counts so drift hits both), and -t 2 over -t 1 per load,
measured in the same run. The aim (issue 13): -t 2 never below 0.8x -t 1
under load, and no loss unloaded. A benchmark, not a test.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

p = argparse.ArgumentParser()
p.add_argument("exe")
p.add_argument("--tokens", type=int, default=64)
p.add_argument("--reps", type=int, default=5)
p.add_argument("--loops", default="0,1,2")
p.add_argument("--threads", default="1,2")
a = p.parse_args()
loads = [int(x) for x in a.loops.split(",")]
threads = [int(x) for x in a.threads.split(",")]
prompt = "151644,872,198,9707,11,1879,0,151645"
info = json.loads(subprocess.check_output([a.exe, "--info"]))
vocab = info["vocab"]
prompt = ",".join(str(int(t) % vocab) for t in prompt.split(","))


def decode_rate(t):
    out = subprocess.check_output([a.exe, "--tokens", prompt, "-n", str(a.tokens), "--ignore-eos", "--temp", "0",
                                   "-t", str(t), "--json"], stderr=subprocess.DEVNULL)
    return json.loads(out)["timings"]["generation_tokens_per_s"]


rows = []
for n in loads:
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        rates = {t: [] for t in threads}
        for _ in range(a.reps):
            for t in threads:
                rates[t].append(decode_rate(t))
    finally:
        for s in spinners:
            s.kill()
            s.wait()
    rows.append((n, {t: statistics.median(r) for t, r in rates.items()}))
    print(f"busy loops {n}: " + ", ".join(f"-t {t} {m:.1f}" for t, m in rows[-1][1].items()), file=sys.stderr)

print(f"Decode tokens/s of {os.path.basename(a.exe)} ({a.tokens} tokens, median of {a.reps}) on {os.cpu_count()} CPUs\n")
head = "| busy loops | " + " | ".join(f"-t {t}" for t in threads) + " | " + " | ".join(
    f"-t {t} / -t {threads[0]}" for t in threads[1:]) + " |"
print(head)
print("|" + "---|" * (1 + 2 * len(threads) - 1))
for n, m in rows:
    base = m[threads[0]]
    print(f"| {n} | " + " | ".join(f"{m[t]:.1f}" for t in threads) + " | " + " | ".join(
        f"{m[t] / base:.2f}x" for t in threads[1:]) + " |")
