#!/usr/bin/env python3
"""PyTorch eager baseline for `qwen3c bench`: Qwen3 / Qwen3-MoE as a user would
write it in PyTorch (nn.functional.linear on the checkpoint's dtype, a
preallocated KV cache, no Python-level tricks), timed on the same checkpoint.

  pytorch_bench.py CHECKPOINT --dtype bf16|f32 --threads N --pp 64,512 --tg 128
                   --reps 3 [--max-seconds S]

Prints one JSON object: {"engine", "threads", "dtype", "torch", "samples":
{"pp64": [tokens/s, ...], "tg128": [...]}}. Each measurement gets one
untimed warm-up run first; prefill is one forward over the whole prompt,
decode is greedy over one prompt token, as llama-bench's pp/tg tests.
"""
import argparse
import json
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F

TORCH_DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}
ITEM_BYTES = {"F32": 4, "BF16": 2, "F16": 2}


def read_safetensors(path, dtype):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        t = torch.frombuffer(data, dtype=TORCH_DTYPES[e["dtype"]], count=(end - b) // ITEM_BYTES[e["dtype"]],
                             offset=base + b)
        out[name] = t.reshape(e["shape"]).to(dtype).clone()
    return out


def load(ckpt, dtype):
    with open(os.path.join(ckpt, "config.json")) as f:
        cfg = json.load(f)
    index = os.path.join(ckpt, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    w = {}
    for fn in files:
        w.update(read_safetensors(os.path.join(ckpt, fn), dtype))
    return cfg, w


class Qwen3:
    def __init__(self, cfg, w, context, dtype):
        self.cfg, self.w = cfg, w
        self.nh = cfg["num_attention_heads"]
        self.nkv = cfg.get("num_key_value_heads", self.nh)
        self.hd = cfg.get("head_dim") or cfg["hidden_size"] // self.nh
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.L = cfg["num_hidden_layers"]
        self.moe = cfg["architectures"][0] == "Qwen3MoeForCausalLM"
        self.head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
        theta = cfg.get("rope_theta", 10000.0)
        inv = 1.0 / (theta ** (torch.arange(0, self.hd, 2).float() / self.hd))
        freqs = torch.arange(context).float()[:, None] * inv[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        self.cos, self.sin = emb.cos().to(dtype), emb.sin().to(dtype)
        self.k = torch.zeros(self.L, self.nkv, context, self.hd, dtype=dtype)
        self.v = torch.zeros(self.L, self.nkv, context, self.hd, dtype=dtype)

    def sparse(self, layer):
        c = self.cfg
        if not self.moe or layer in c.get("mlp_only_layers", []):
            return False
        return c.get("num_experts", 0) > 0 and (layer + 1) % c.get("decoder_sparse_step", 1) == 0

    def norm(self, x, weight):
        x32 = x.float()
        return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype) * weight

    @staticmethod
    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    def attention(self, x, layer, pos):
        p, n, w = f"model.layers.{layer}.self_attn.", x.shape[0], self.w
        q = F.linear(x, w[p + "q_proj.weight"]).view(n, self.nh, self.hd)
        k = F.linear(x, w[p + "k_proj.weight"]).view(n, self.nkv, self.hd)
        v = F.linear(x, w[p + "v_proj.weight"]).view(n, self.nkv, self.hd)
        q = self.norm(q, w[p + "q_norm.weight"]).transpose(0, 1)
        k = self.norm(k, w[p + "k_norm.weight"]).transpose(0, 1)
        cos, sin = self.cos[pos:pos + n], self.sin[pos:pos + n]
        q = q * cos + self.rotate_half(q) * sin
        k = k * cos + self.rotate_half(k) * sin
        self.k[layer, :, pos:pos + n] = k
        self.v[layer, :, pos:pos + n] = v.transpose(0, 1)
        end, group = pos + n, self.nh // self.nkv
        keys = self.k[layer, :, :end].repeat_interleave(group, dim=0)
        values = self.v[layer, :, :end].repeat_interleave(group, dim=0)
        scores = (q @ keys.transpose(1, 2)).float() * (self.hd ** -0.5)
        if n > 1:
            mask = torch.full((n, end), float("-inf")).triu(diagonal=pos + 1)
            scores = scores + mask
        probs = torch.softmax(scores, dim=-1).to(x.dtype)
        out = (probs @ values).transpose(0, 1).reshape(n, self.nh * self.hd)
        return F.linear(out, w[p + "o_proj.weight"])

    def mlp(self, x, p):
        w = self.w
        return F.linear(F.silu(F.linear(x, w[p + "gate_proj.weight"])) * F.linear(x, w[p + "up_proj.weight"]),
                        w[p + "down_proj.weight"])

    def moe_block(self, x, p):
        c = self.cfg
        probs = torch.softmax(F.linear(x, self.w[p + "gate.weight"]).float(), dim=-1)
        weights, experts = torch.topk(probs, c["num_experts_per_tok"], dim=-1)
        if c.get("norm_topk_prob", False):
            weights = weights / weights.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(x)
        for e in experts.unique().tolist():  # each selected expert once, over its tokens
            rows, slot = (experts == e).nonzero(as_tuple=True)
            y = self.mlp(x[rows], p + f"experts.{e}.")
            out.index_add_(0, rows, (y.float() * weights[rows, slot, None]).to(x.dtype))
        return out

    @torch.inference_mode()
    def forward(self, tokens, pos):
        h = self.w["model.embed_tokens.weight"][tokens]
        for layer in range(self.L):
            p = f"model.layers.{layer}."
            h = h + self.attention(self.norm(h, self.w[p + "input_layernorm.weight"]), layer, pos)
            x = self.norm(h, self.w[p + "post_attention_layernorm.weight"])
            h = h + (self.moe_block(x, p + "mlp.") if self.sparse(layer) else self.mlp(x, p + "mlp."))
        return F.linear(self.norm(h[-1:], self.w["model.norm.weight"]), self.head)


def prefill(model, n, gen):
    tokens = torch.randint(0, model.cfg["vocab_size"], (n,), generator=gen)
    t0 = time.perf_counter()
    model.forward(tokens, 0)
    return n / (time.perf_counter() - t0)


def decode(model, n, gen):
    logits = model.forward(torch.randint(0, model.cfg["vocab_size"], (1,), generator=gen), 0)
    t0 = time.perf_counter()
    for pos in range(1, n + 1):
        logits = model.forward(logits.argmax(-1).view(1), pos)
    return n / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--dtype", choices=["bf16", "f32"], default="bf16")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--pp", default="64,512")
    ap.add_argument("--tg", default="128")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--max-seconds", type=float, default=60.0, help="stop repeating a measurement after this long")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float32
    cfg, w = load(a.checkpoint, dtype)
    pps = [int(x) for x in a.pp.split(",") if x]
    tgs = [int(x) for x in a.tg.split(",") if x]
    model = Qwen3(cfg, w, max(pps + [t + 1 for t in tgs] + [16]), dtype)
    gen = torch.Generator().manual_seed(1)
    samples = {}
    for kind, sizes, fn in (("pp", pps, prefill), ("tg", tgs, decode)):
        for n in sizes:
            fn(model, min(n, 16), gen)  # warm-up
            runs, start = [], time.perf_counter()
            while len(runs) < a.reps and (not runs or time.perf_counter() - start < a.max_seconds):
                runs.append(fn(model, n, gen))
            samples[f"{kind}{n}"] = runs
    print(json.dumps({"engine": "pytorch", "threads": a.threads, "dtype": a.dtype, "torch": torch.__version__,
                      "samples": samples}))


if __name__ == "__main__":
    sys.exit(main())
