#!/usr/bin/env python3
"""What quantising the weights costs in quality, in numbers a user can read:
for each format, the mean KL divergence of its next-token distributions from
the bf16 build's, KL(bf16 || format), and how often the two agree on the most
likely token, over every position of one fixed token stream (the analogue of
llama.cpp's `llama-perplexity --kl-divergence`).

  bench/quant_quality.py CHECKPOINT [--formats int8,int4,int4+int8-head]
                         [--positions 512] [--qwen3c build/bin/qwen3c] [--work DIR]

Each format is a `qwen3c build --weights-dtype ...` of the checkpoint (f32
KV cache and f32 prompt products, so the weights are the only difference);
`int4+int8-head` is int4 layers with an int8 LM head. The stream is random
token ids (seed 0) over the vocabulary: on a random-weight checkpoint the
figures measure the kernels' and the formats' error, not a real model's
quality, which a real checkpoint's run gives the same way.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

FORMATS = {
    "int8": ["--weights-dtype", "int8"],
    "int8+int8-head": ["--weights-dtype", "int8", "--lm-head-dtype", "int8"],
    "int4": ["--weights-dtype", "int4"],
    "int4+int8-head": ["--weights-dtype", "int4", "--lm-head-dtype", "int8"],
    "int4+int4-head": ["--weights-dtype", "int4", "--lm-head-dtype", "int4"],
}


def log_softmax(x):
    x = x.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--formats", default="int8,int4,int4+int8-head")
    ap.add_argument("--positions", type=int, default=512)
    ap.add_argument("--qwen3c", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "bin", "qwen3c"))
    ap.add_argument("--work", default="quant-quality")
    a = ap.parse_args()
    formats = [f for f in a.formats.split(",") if f]
    for f in formats:
        if f not in FORMATS:
            sys.exit(f"quant_quality: unknown format '{f}' ({', '.join(FORMATS)})")
    os.makedirs(a.work, exist_ok=True)
    vocab = json.load(open(os.path.join(a.checkpoint, "config.json")))["vocab_size"]
    tokens = np.random.default_rng(0).integers(0, vocab, a.positions)
    stream = os.path.join(a.work, "tokens.txt")
    with open(stream, "w") as f:
        f.write(",".join(map(str, tokens)))

    def logits(name, flags):
        exe, dump = os.path.join(a.work, name), os.path.join(a.work, name + ".bin")
        # One chunk covers the stream: --dump-logits gives the first chunk's every row.
        subprocess.run([a.qwen3c, "build", a.checkpoint, "-o", exe, "--kv-dtype", "f32", "--prefill-dot", "fma",
                        "--chunk", str(a.positions), "--max-context", str(a.positions)] + flags,
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run([exe, "--tokens-file", stream, "-n", "0", "--dump-logits", dump], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        x = np.fromfile(dump, dtype="<f4").reshape(-1, vocab)
        os.remove(dump)
        info = json.loads(subprocess.run([exe, "--info"], check=True, capture_output=True, text=True).stdout)
        os.remove(exe)
        return x, info["decode_weight_bytes"]

    base, base_bytes = logits("bf16", [])
    lp = log_softmax(base)
    p = np.exp(lp)
    top = base.argmax(axis=-1)
    print(f"| format | decode bytes | mean KL(bf16 || format) | max KL | top-1 agreement |")
    print(f"|---|---:|---:|---:|---:|")
    print(f"| bf16 | {base_bytes / 1e6:.0f} MB | 0 | 0 | 100% |")
    for f in formats:
        x, nbytes = logits(f, FORMATS[f])
        kl = (p * (lp - log_softmax(x))).sum(axis=-1)
        agree = (x.argmax(axis=-1) == top).mean()
        print(f"| {f} | {nbytes / 1e6:.0f} MB | {kl.mean():.3g} | {kl.max():.3g} | {100 * agree:.1f}% |")
    print(f"\n{a.positions} positions of random token ids (seed 0); {a.checkpoint}")


if __name__ == "__main__":
    main()
