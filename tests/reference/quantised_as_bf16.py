#!/usr/bin/env python3
"""Writes the bf16 checkpoint that the AMX family computes an int8 (or, with
--int4, an int4) build's prompt chunks with: each layer projection as `qwen3c
build --weights-dtype int8|int4` stores it (Q8_0 / Q4_0, see
qwen3_reference.quantise_int8 / quantise_int4), dequantised and rounded to
bf16 (nearest even) as the kernel widens it into tiles; every other tensor as
it is (a bf16 checkpoint's values are exact). Dense models only: quantised
MoE experts run on exact f32 q * d, which bf16 cannot hold.

A bf16 build of the output and a quantised build of the input then multiply
the same bf16 operands in the same loops, so their prefill logits are equal
bit for bit (tests/lit/e2e/quantised-amx.test).

usage: quantised_as_bf16.py [--int4] CHECKPOINT OUT_DIR
"""
import json
import os
import shutil
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qwen3_reference import load, quantise_int4, quantise_int8  # noqa: E402


def bf16_bits(t):
    """f32 -> bf16 bits, nearest even (torch's conversion)."""
    return t.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)


def main():
    args = sys.argv[1:]
    int4 = args[:1] == ["--int4"]
    if int4:
        args = args[1:]
    if len(args) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    src, out = args
    cfg, w = load(src)
    (quantise_int4 if int4 else quantise_int8)(w)
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(src):
        if not name.endswith(".safetensors") and name != "model.safetensors.index.json":
            shutil.copy(os.path.join(src, name), os.path.join(out, name))
    header, blobs, offset = {}, [], 0
    for name in sorted(w):
        data = bf16_bits(w[name].contiguous()).tobytes()
        header[name] = {"dtype": "BF16", "shape": list(w[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(os.path.join(out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head)
        for data in blobs:
            f.write(data)


if __name__ == "__main__":
    main()
