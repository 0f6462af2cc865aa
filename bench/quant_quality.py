#!/usr/bin/env python3
"""What quantising the weights costs in quality, in numbers a user can read:
for each format, the mean KL divergence of its next-token distributions from
the bf16 build's, KL(bf16 || format), and how often the two agree on the most
likely token, over every position of one fixed token stream (the analogue of
llama.cpp's `llama-perplexity --kl-divergence`).

  bench/quant_quality.py CHECKPOINT [--formats int8,int4,int4+int8-head]
                         [--positions 512] [--qwen3c build/bin/qwen3c] [--work DIR]
                         [--llama-bench ~/.cache/qwen3c/llama.cpp/build-portable/bin/llama-bench]

Each format is a `qwen3c build --weights-dtype ...` of the checkpoint (f32
KV cache and f32 prompt products, so the weights are the only difference);
`int4+int8-head` is int4 layers with an int8 LM head. The stream is random
token ids (seed 0) over the vocabulary: on a random-weight checkpoint the
figures measure the kernels' and the formats' error, not a real model's
quality, which a real checkpoint's run gives the same way.

With --llama-bench (the build of bench/build-llama-bench.sh: llama-quantize
and llama-perplexity beside it), llama.cpp's figures for Q8_0, Q4_0 and
Q4_K_M on the same checkpoint follow, from `llama-perplexity
--kl-divergence` against its bf16 GGUF. llama-perplexity reads text, not ids:
it gets random words (seed 0) in two chunks of `positions` tokens, and
scores each chunk's second half: `positions` positions in all.
"""
import random
import re
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
    ap.add_argument("--llama-bench", help="llama.cpp's llama-bench, with llama-quantize and llama-perplexity beside it")
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
    if a.llama_bench:
        llama_quality(a)


def llama_quality(a):
    tools = os.path.dirname(os.path.abspath(a.llama_bench))
    quantize, perplexity = os.path.join(tools, "llama-quantize"), os.path.join(tools, "llama-perplexity")
    for t in (quantize, perplexity):
        if not os.access(t, os.X_OK):
            sys.exit(f"quant_quality: no {t} (bench/build-llama-bench.sh builds it)")
    env = dict(os.environ, LD_LIBRARY_PATH=tools + ":" + os.environ.get("LD_LIBRARY_PATH", ""))
    bf16 = os.path.join(a.work, "model-bf16.gguf")
    subprocess.run([a.qwen3c, "export-gguf", a.checkpoint, "-o", bf16], check=True, stdout=subprocess.DEVNULL)
    rng = random.Random(0)
    words = "the of and to in is that it for on was with as his they at be this from have or by one had not but what all were when we there can an your which their said if do will each about how up out them then she many some so these would other into has more her two like him see time could no make than first been its who now people my made over did down only way find use may water long little very after words called just where most know get through back much go good new write our me man too any day same right look think also around another came come work three word must because does part even place well such here take why things help put years different away again off went old number great tell men say small every found still between name should home big give air line set own under read last never us left end along while might next sound below saw something thought both few those always looked show large often together asked house world going want school important until form food keep children feet land side without boy once animals life enough took sometimes four head above kind began almost live page got earth need far hand high year mother light parts country father let night following picture being study second eyes soon times story boys since white days ever paper hard near sentence better best across during today others however sure means knew try told young miles sun ways thing whole hear example heard several change answer room sea against top turned learn point city play toward five using himself usually".split()
    text = os.path.join(a.work, "words.txt")
    with open(text, "w") as f:
        f.write(" ".join(rng.choice(words) for _ in range(4 * a.positions)))
    ctx = str(a.positions)
    base = os.path.join(a.work, "kl-base.dat")

    def perplexity_run(model, extra):
        r = subprocess.run([perplexity, "-m", model, "-f", text, "-c", ctx, "--chunks", "2", "--kl-divergence-base", base] + extra,
                           env=env, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"quant_quality: llama-perplexity failed on {model}: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
        return r.stdout + r.stderr

    perplexity_run(bf16, [])
    print("\n| llama.cpp format | mean KL(bf16 || format) | max KL | top-1 agreement |")
    print("|---|---:|---:|---:|")
    for q in ("Q8_0", "Q4_0", "Q4_K_M"):
        model = os.path.join(a.work, f"model-{q}.gguf")
        subprocess.run([quantize, bf16, model, q], env=env, check=True, capture_output=True)
        out = perplexity_run(model, ["--kl-divergence"])
        mean = re.search(r"Mean\s+KLD:\s+([0-9.eE+-]+)", out)
        top = re.search(r"Same top p:\s+([0-9.]+)", out)
        mx = re.search(r"Maximum KLD:\s+([0-9.eE+-]+)", out)
        if not (mean and top and mx):
            sys.exit(f"quant_quality: no KL figures in llama-perplexity's output for {q}")
        print(f"| {q} | {float(mean.group(1)):.3g} | {float(mx.group(1)):.3g} | {float(top.group(1)):.1f}% |")
        os.remove(model)
    print(f"\nllama-perplexity --kl-divergence, 2 chunks of {ctx} tokens of random words (seed 0), second halves scored")


if __name__ == "__main__":
    main()
