#!/usr/bin/env python3
"""Reads a GGUF v3 file (written from the spec, independently of qwen3c's
writer) and checks it against the checkpoint it came from: llama.cpp's
hyper-parameter keys, the vocabulary, and every tensor's shape and values
(bf16 tensors within bf16 rounding of the checkpoint's).

  check_gguf.py FILE.gguf CHECKPOINT      prints a summary, exits 1 on a mismatch
"""
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from qwen3_reference import load  # noqa: E402

SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class Reader:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, fmt):
        (v,) = struct.unpack_from(fmt, self.d, self.p)
        self.p += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.d[self.p:self.p + n].decode("utf-8")
        self.p += n
        return s

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.take("<I"), self.take("<Q")
            return [self.value(et) for _ in range(n)]
        return self.take(SCALARS[t])


def read_gguf(path):
    data = open(path, "rb").read()
    r = Reader(data)
    assert data[:4] == b"GGUF", "bad magic"
    r.p = 4
    version, nt, nkv = r.take("<I"), r.take("<Q"), r.take("<Q")
    assert version == 3, version
    kv = {}
    for _ in range(nkv):
        k = r.string()
        kv[k] = r.value(r.take("<I"))
    infos = []
    for _ in range(nt):
        name = r.string()
        nd = r.take("<I")
        ne = [r.take("<Q") for _ in range(nd)]
        infos.append((name, ne, r.take("<I"), r.take("<Q")))
    align = kv.get("general.alignment", 32)
    base = (r.p + align - 1) // align * align
    tensors = {}
    for name, ne, t, off in infos:
        n = int(np.prod(ne))
        assert off % align == 0, name
        if t == 0:
            a = np.frombuffer(data, np.float32, n, base + off)
        elif t == 30:
            a = (np.frombuffer(data, np.uint16, n, base + off).astype(np.uint32) << 16).view(np.float32)
        else:
            raise SystemExit(f"{name}: unexpected ggml type {t}")
        tensors[name] = (a.reshape(list(reversed(ne))), t)
    return kv, tensors


def main():
    kv, tensors = read_gguf(sys.argv[1])
    cfg, w = load(sys.argv[2])
    arch = kv["general.architecture"]
    moe = cfg["architectures"][0] == "Qwen3MoeForCausalLM"
    assert arch == ("qwen3moe" if moe else "qwen3"), arch
    expect = {"block_count": cfg["num_hidden_layers"], "embedding_length": cfg["hidden_size"],
              "attention.head_count": cfg["num_attention_heads"],
              "attention.head_count_kv": cfg["num_key_value_heads"], "attention.key_length": cfg["head_dim"]}
    for k, v in expect.items():
        assert kv[f"{arch}.{k}"] == v, (k, kv[f"{arch}.{k}"], v)
    assert len(kv["tokenizer.ggml.tokens"]) == cfg["vocab_size"]
    assert len(kv["tokenizer.ggml.token_type"]) == cfg["vocab_size"]
    names = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
             "output.weight": "lm_head.weight"}
    per_layer = {"attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
                 "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj", "attn_q_norm": "self_attn.q_norm",
                 "attn_k_norm": "self_attn.k_norm", "ffn_norm": "post_attention_layernorm", "ffn_gate": "mlp.gate_proj",
                 "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj", "ffn_gate_inp": "mlp.gate"}
    checked = 0
    for name, (a, t) in tensors.items():
        if name in names:
            ref = w[names[name]].numpy()
        else:
            _, layer, part, _ = name.split(".")
            p = f"model.layers.{layer}."
            if part.endswith("_exps"):
                proj = part[len("ffn_"):-len("_exps")]
                ref = np.stack([w[f"{p}mlp.experts.{e}.{proj}_proj.weight"].numpy() for e in range(cfg["num_experts"])])
            else:
                ref = w[p + per_layer[part] + ".weight"].numpy()
        assert a.shape == ref.shape, (name, a.shape, ref.shape)
        tol = 0 if t == 0 else 2.0 ** -8
        err = float(np.max(np.abs(a - ref) / np.maximum(np.abs(ref), 1e-30))) if a.size else 0
        assert err <= tol, (name, err)
        checked += 1
    expected_count = len(w) - (1 if cfg.get("tie_word_embeddings") and "lm_head.weight" in w else 0)
    if moe:  # E experts x 3 projections become 3 stacked tensors per sparse layer
        sparse = sum(1 for n in tensors if n.endswith("ffn_gate_exps.weight"))
        expected_count -= sparse * (3 * cfg["num_experts"] - 3)
    assert checked == expected_count, (checked, expected_count)
    print(f"gguf ok: {arch}, {checked} tensors, {len(kv)} keys, {len(kv['tokenizer.ggml.merges'])} merges")


if __name__ == "__main__":
    main()
