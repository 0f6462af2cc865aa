#!/usr/bin/env python3
"""Independent Qwen3 / Qwen3-MoE reference in PyTorch.

Written from the Hugging Face model definition (modeling_qwen3.py,
modeling_qwen3_moe.py), not from qwen3c's IR: it reads config.json and the
safetensors files itself and runs the whole sequence at once with a causal
mask (no KV cache), so it shares no code path with the compiler.

Takes the run flags of `qwen3c run-eager`: --tokens, -n (greedy), --dump-logits
(f32 rows: every position of prompt + generated tokens), --json.
"""
import argparse
import json
import math
import os
import re
import struct
import sys

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        raw = np.frombuffer(data, dtype=DTYPES[e["dtype"]], count=(end - b) // np.dtype(DTYPES[e["dtype"]]).itemsize,
                            offset=base + b)
        if e["dtype"] == "BF16":
            arr = (raw.astype(np.uint32) << 16).view(np.float32)
        else:
            arr = raw.astype(np.float32)
        out[name] = torch.from_numpy(arr.reshape(e["shape"]).copy())
    return out


def load(ckpt):
    with open(os.path.join(ckpt, "config.json")) as f:
        cfg = json.load(f)
    index = os.path.join(ckpt, "model.safetensors.index.json")
    weights = {}
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    for fn in files:
        weights.update(read_safetensors(os.path.join(ckpt, fn)))
    return cfg, weights


def product(x, weight, bf16_inputs):
    """x @ weight.T; with bf16_inputs, both operands rounded to bf16 (nearest
    even) first when the weight has whole blocks of 16 rows and an even number
    of columns: the products qwen3c's bf16 dot kernels compute."""
    if bf16_inputs and weight.shape[0] % 16 == 0 and weight.shape[1] % 2 == 0:
        x = x.to(torch.bfloat16).to(torch.float32)
        weight = weight.to(torch.bfloat16).to(torch.float32)
    return x @ weight.T


class Qwen3:
    def __init__(self, cfg, w):
        self.cfg, self.w = cfg, w
        self.H = cfg["hidden_size"]
        self.nh = cfg["num_attention_heads"]
        self.nkv = cfg.get("num_key_value_heads", self.nh)
        self.hd = cfg.get("head_dim") or self.H // self.nh
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.theta = cfg.get("rope_theta", 10000.0)
        self.moe = cfg["architectures"][0] == "Qwen3MoeForCausalLM"
        self.head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
        self.bf16_inputs = False
        self.kv_dtype = "f32"
        self.bf16_attention = False
        self.int8_inputs = set()  # id() of the weights whose products quantise their input rows
        self.int8_experts = False  # the experts' products too
        self.bf16_expert_inputs = False  # the experts' products rounded as mm's bf16_inputs

    def mm(self, x, weight):
        """x @ weight.T; with bf16_inputs, both operands rounded to bf16 first
        (to nearest even) when the weight has whole blocks of 16 rows and an
        even number of columns: the products qwen3c's bf16 dot kernels
        compute (--prefill-dot bf16 or bf16-emulated, prompt chunks), the
        others staying f32. The weight's rounding is the identity on a bf16
        checkpoint; on --quantize-int8 / --quantize-int4's dequantised weights it is the AMX
        family's widening of q * d to bf16 tiles. The experts' products are
        rounded only with bf16_expert_inputs (see moe_block)."""
        if id(weight) in self.int8_inputs:
            x = quantise_rows_int8(x)
        return product(x, weight, self.bf16_inputs)

    def sparse(self, layer):
        c = self.cfg
        if not self.moe or layer in c.get("mlp_only_layers", []):
            return False
        return c.get("num_experts", 0) > 0 and (layer + 1) % c.get("decoder_sparse_step", 1) == 0

    def rmsnorm(self, x, weight):
        var = x.pow(2).mean(-1, keepdim=True)
        return weight * (x * torch.rsqrt(var + self.eps))

    def rope(self, n):
        # Qwen3RotaryEmbedding: f32 inverse frequencies and angles.
        inv = 1.0 / (self.theta ** (torch.arange(0, self.hd, 2, dtype=torch.int64).float() / self.hd))
        scaling = 1.0
        if self.cfg.get("rope_scaling"):
            inv, scaling = self.yarn(self.cfg["rope_scaling"])
        freqs = torch.arange(n, dtype=torch.float32)[:, None] * inv[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos() * scaling, emb.sin() * scaling

    def yarn(self, rs):
        """YaRN as transformers' _compute_yarn_parameters publishes it (the
        paper's NTK-by-parts interpolation plus the attention factor)."""
        kind = rs.get("rope_type", rs.get("type"))
        if kind != "yarn":
            raise SystemExit(f"reference: rope_scaling type {kind!r} is not modelled")
        base, dim, factor = self.theta, self.hd, rs["factor"]
        original = rs.get("original_max_position_embeddings") or self.cfg["max_position_embeddings"]
        attention_factor = rs.get("attention_factor")
        if attention_factor is None:
            attention_factor = 1.0 if factor <= 1 else 0.1 * math.log(factor) + 1.0
        beta_fast, beta_slow = rs.get("beta_fast") or 32, rs.get("beta_slow") or 1

        def correction_dim(rotations):
            return (dim * math.log(original / (rotations * 2 * math.pi))) / (2 * math.log(base))

        low = max(math.floor(correction_dim(beta_fast)), 0)
        high = min(math.ceil(correction_dim(beta_slow)), dim - 1)
        if low == high:
            high += 0.001
        pos_freqs = base ** (torch.arange(0, dim, 2).float() / dim)
        extrapolation, interpolation = 1.0 / pos_freqs, 1.0 / (factor * pos_freqs)
        ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float32) - low) / (high - low), 0, 1)
        extrapolation_factor = 1 - ramp
        inv = interpolation * (1 - extrapolation_factor) + extrapolation * extrapolation_factor
        return inv, attention_factor

    @staticmethod
    def int8_rows(x):
        """What an int8 KV cache holds of each row (one head at one position,
        head_dim values): the int8 dot's rule (quantise_groups_int8) with the
        whole row as one group."""
        return quantise_groups_int8(x, x.shape[-1])

    @staticmethod
    def rotate_half(x):
        x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
        return torch.cat((-x2, x1), dim=-1)

    def attention(self, x, p, cos, sin):
        n = x.shape[0]
        q = self.mm(x, self.w[p + "self_attn.q_proj.weight"]).view(n, self.nh, self.hd)
        k = self.mm(x, self.w[p + "self_attn.k_proj.weight"]).view(n, self.nkv, self.hd)
        v = self.mm(x, self.w[p + "self_attn.v_proj.weight"]).view(n, self.nkv, self.hd)
        q = self.rmsnorm(q, self.w[p + "self_attn.q_norm.weight"]).transpose(0, 1)
        k = self.rmsnorm(k, self.w[p + "self_attn.k_norm.weight"]).transpose(0, 1)
        v = v.transpose(0, 1)
        q = q * cos + self.rotate_half(q) * sin
        k = k * cos + self.rotate_half(k) * sin
        if self.kv_dtype == "bf16":
            # What a bf16 KV cache holds: keys after RoPE and values, each
            # element rounded to bf16 (nearest even); attention reads them back.
            k = k.to(torch.bfloat16).to(torch.float32)
            v = v.to(torch.bfloat16).to(torch.float32)
        elif self.kv_dtype == "int8":
            k, v = self.int8_rows(k), self.int8_rows(v)
        group = self.nh // self.nkv
        k = k.repeat_interleave(group, dim=0)
        v = v.repeat_interleave(group, dim=0)
        mask = torch.triu(torch.full((n, n), float("-inf")), diagonal=1)
        if self.bf16_attention:
            # qwen3c's AMX attention (prompt chunks): queries rounded to bf16
            # for the scores, the softmax weights exp(s - max) rounded to
            # bf16 for the weighted values, the sum of the weights in f32.
            # (Its online softmax rounds exp(s - running max), which the
            # final rescale does not undo exactly: the same rounding noise
            # at other points, not the same bits.)
            scores = (q.to(torch.bfloat16).to(torch.float32) @ k.transpose(1, 2)) * (self.hd ** -0.5) + mask
            e = torch.exp(scores - scores.amax(-1, keepdim=True))
            probs = e.to(torch.bfloat16).to(torch.float32) / e.sum(-1, keepdim=True)
        else:
            scores = (q @ k.transpose(1, 2)) * (self.hd ** -0.5)
            probs = torch.softmax(scores + mask, dim=-1, dtype=torch.float32)
        out = (probs @ v).transpose(0, 1).reshape(n, self.nh * self.hd)
        return self.mm(out, self.w[p + "self_attn.o_proj.weight"])

    def mlp(self, x, p):
        g = self.mm(x, self.w[p + "mlp.gate_proj.weight"])
        u = self.mm(x, self.w[p + "mlp.up_proj.weight"])
        return self.mm(torch.nn.functional.silu(g) * u, self.w[p + "mlp.down_proj.weight"])

    def moe_block(self, x, p):
        c = self.cfg
        logits = self.mm(x, self.w[p + "mlp.gate.weight"])
        probs = torch.softmax(logits, dim=1, dtype=torch.float32)
        weights, experts = torch.topk(probs, c["num_experts_per_tok"], dim=-1)
        if c.get("norm_topk_prob", False):
            weights = weights / weights.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(x)
        rounds = self.bf16_expert_inputs  # qwen3c's vdpbf16ps family on a prompt chunk's experts
        for t in range(x.shape[0]):
            for j in range(experts.shape[1]):
                e = int(experts[t, j])
                q = p + f"mlp.experts.{e}."
                xt = x[t:t + 1]
                if self.int8_experts:
                    xt = quantise_rows_int8(xt)
                h = torch.nn.functional.silu(product(xt, self.w[q + "gate_proj.weight"], rounds)) * product(xt, self.w[q + "up_proj.weight"], rounds)
                if self.int8_experts:
                    h = quantise_rows_int8(h)
                out[t] += weights[t, j] * product(h, self.w[q + "down_proj.weight"], rounds)[0]
        return out

    @torch.no_grad()
    def logits(self, tokens, last_only=False, first_row=0):
        n = len(tokens)
        h = self.w["model.embed_tokens.weight"][torch.tensor(tokens, dtype=torch.long)]
        cos, sin = self.rope(n)
        for layer in range(self.cfg["num_hidden_layers"]):
            p = f"model.layers.{layer}."
            h = h + self.attention(self.rmsnorm(h, self.w[p + "input_layernorm.weight"]), p, cos, sin)
            x = self.rmsnorm(h, self.w[p + "post_attention_layernorm.weight"])
            h = h + (self.moe_block(x, p) if self.sparse(layer) else self.mlp(x, p))
        h = h[-1:] if last_only else h[first_row:]
        return self.mm(self.rmsnorm(h, self.w["model.norm.weight"]), self.head)


LAYER_PROJECTION = re.compile(r"model\.layers\.\d+\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)\.weight$")
EXPERT = re.compile(r"model\.layers\.\d+\.mlp\.experts\.\d+\.(gate|up|down)_proj\.weight$")


def quantisable(name, t, head):
    """The weights `qwen3c build --weights-dtype int8|int4` quantises: each
    layer projection with whole 16-row blocks and k a multiple of 32 (the
    rule for a weight the compiler packs k16; the router, the embedding and
    the LM head stay), each expert weight with k a multiple of 32 when its
    gate, up and down all have whole 16-row blocks (hidden and
    moe_intermediate sizes multiples of 16: the compiler packs the experts
    k16 only then), and `head` (--lm-head-dtype) when given."""
    if t.dim() != 2 or t.shape[1] % 32 != 0:
        return False
    if EXPERT.search(name):
        return t.shape[0] % 16 == 0 and t.shape[1] % 16 == 0  # [I, H] or [H, I]: both sizes whole blocks
    return (LAYER_PROJECTION.search(name) or name == head) and t.shape[0] % 16 == 0


def quantise_int4(w, head=None):
    """What `qwen3c build --weights-dtype int4` stores, dequantised: per
    output row and group of 32 k, llama.cpp's Q4_0 (quantize_row_q4_0): max
    the signed value of largest magnitude (the first of equals), d = max / -8
    in f32, q = min(15, trunc(f32(f32(w * (1 / d)) + 8.5))), w' = (q - 8) *
    f16(d), bit for bit as the packer does it. `head` as in quantise_int8."""
    for name, t in w.items():
        if not quantisable(name, t, head):
            continue
        g = t.reshape(t.shape[0], t.shape[1] // 32, 32)
        first = g.abs().argmax(-1, keepdim=True)  # torch returns the first maximal index
        mx = torch.gather(g, -1, first)
        d = mx / torch.tensor(-8.0, dtype=torch.float32)
        inv = torch.where(d != 0, torch.tensor(1.0, dtype=torch.float32) / d, torch.zeros_like(d))
        x = (g * inv) + torch.tensor(8.5, dtype=torch.float32)  # two f32 roundings, as the packer's two statements
        q = torch.trunc(x).clamp(max=15)
        w[name] = ((q - 8) * d.to(torch.float16).float()).reshape(t.shape)


def quantise_rows_int8(x):
    """What qwen3c's int8 dot (--int8-dot i8 or i8-emulated) makes of a
    product's input rows, dequantised: quantise_groups_int8 per row and group
    of 32 k."""
    return quantise_groups_int8(x, 32)


def quantise_groups_int8(x, group):
    """Each `group` consecutive values of x's last dimension, dequantised:
    d = amax / 127, q = x * (127 / amax) rounded to nearest even (0 for an
    all-zero group), x' = q * d, all in f32."""
    g = x.reshape(*x.shape[:-1], x.shape[-1] // group, group)
    amax = g.abs().amax(-1, keepdim=True)
    inv = torch.where(amax > 0, torch.tensor(127.0, dtype=torch.float32) / amax, torch.zeros_like(amax))
    q = torch.round(g * inv)  # torch.round: half to even
    return (q * (amax / torch.tensor(127.0, dtype=torch.float32))).reshape(x.shape)


def quantise_int8(w, head=None):
    """What `qwen3c build --weights-dtype int8` stores, dequantised: each
    layer projection with whole 16-row blocks and k a multiple of 32 (the
    rule for a weight the compiler packs k16, experts too: see quantisable),
    per output row and group of 32 k:
    d = amax / 127 in f32, q = roundf(w * (1 / d)) (half away from zero),
    w' = q * f16(d): llama.cpp's Q8_0, bit for bit as the packer does it.
    With `head` (--lm-head-dtype int8) that weight too: lm_head.weight, or
    the tied embedding (the embedding's rows then come from it as well)."""
    for name, t in w.items():
        if not quantisable(name, t, head):
            continue
        g = t.reshape(t.shape[0], t.shape[1] // 32, 32)
        d = g.abs().amax(-1, keepdim=True) / torch.tensor(127.0, dtype=torch.float32)
        inv = torch.where(d != 0, torch.tensor(1.0, dtype=torch.float32) / d, torch.zeros_like(d))
        x = (g * inv).double()  # exact: floor(|x| + 0.5) in f64 is roundf's half away from zero
        q = (torch.sign(x) * torch.floor(x.abs() + 0.5)).clamp(-127, 127).float()
        w[name] = (q * d.to(torch.float16).float()).reshape(t.shape)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("checkpoint")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--tokens", help="prompt ids, comma-separated")
    src.add_argument("--tokens-file", help="prompt ids from a file, commas or white space between them")
    src.add_argument("--tokens-of-run", metavar="JSON",
                     help="the prompt and generated tokens of a --json run: logits of exactly that sequence")
    ap.add_argument("-n", type=int, default=0)
    ap.add_argument("--dump-logits")
    ap.add_argument("--dump-from", type=int, default=0, metavar="ROW",
                    help="dump the rows from this position on (long sequences: the last rows only)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--bf16-product-inputs", action="store_true",
                    help="round the inputs of the products qwen3c's bf16 dot kernels compute to bf16 (see Qwen3.mm)")
    ap.add_argument("--bf16-expert-inputs", action="store_true",
                    help="round the MoE experts' product inputs to bf16 too, as qwen3c's vdpbf16ps family does on "
                         "prompt chunks (the AMX families leave the experts f32)")
    ap.add_argument("--bf16-attention", action="store_true",
                    help="round the queries and the softmax weights to bf16, as qwen3c's AMX attention does (prompt chunks)")
    ap.add_argument("--quantize-int8", action="store_true",
                    help="run on the layer projections as qwen3c build --weights-dtype int8 stores them (see quantise_int8)")
    ap.add_argument("--kv-dtype", choices=["f32", "bf16", "int8"], default="f32",
                    help="the KV cache's element type: bf16 rounds the keys (after RoPE) and values attention reads, "
                         "int8 quantises each of their rows (see Qwen3.int8_rows)")
    ap.add_argument("--quantize-int4", action="store_true",
                    help="run on the layer projections as qwen3c build --weights-dtype int4 stores them (see quantise_int4)")
    ap.add_argument("--quantize-lm-head", nargs="?", const="same", metavar="int8|int4",
                    help="with --quantize-int8 / --quantize-int4: the LM head too, in that format (or the given one)")
    ap.add_argument("--int8-activations", action="store_true",
                    help="with int8 / int4 weights: the input rows of every product on a quantised weight "
                         "(layer projections, experts, and the LM head when quantised) quantised as qwen3c's "
                         "int8 dot does (quantise_rows_int8)")
    ap.add_argument("--bf16-experts", action="store_true",
                    help="with --quantize-int8 / --quantize-int4: leave the MoE experts unquantised")
    a = ap.parse_args()
    torch.set_num_threads(1)
    cfg, w = load(a.checkpoint)
    if a.quantize_int8 and a.quantize_int4:
        ap.error("--quantize-int8 and --quantize-int4 are one format each")
    layers = "int8" if a.quantize_int8 else "int4" if a.quantize_int4 else None
    quantise = {"int8": quantise_int8, "int4": quantise_int4}
    if layers:
        kept = {n: t for n, t in w.items() if EXPERT.search(n)} if a.bf16_experts else {}
        quantise[layers](w)
        w.update(kept)
    if a.quantize_lm_head:
        head = "model.embed_tokens.weight" if cfg.get("tie_word_embeddings") else "lm_head.weight"
        head_format = layers if a.quantize_lm_head == "same" else a.quantize_lm_head
        if head_format not in quantise:
            ap.error("--quantize-lm-head needs a format, or --quantize-int8 / --quantize-int4")
        part = {head: w[head]}
        quantise[head_format](part, head)
        w[head] = part[head]
    int8_names, int8_experts = [], False
    if a.int8_activations:
        if layers in ("int8", "int4"):
            int8_names += [n for n, t in w.items() if quantisable(n, t, None) and not EXPERT.search(n)]
            int8_experts = not a.bf16_experts and any(EXPERT.search(n) and quantisable(n, t, None) for n, t in w.items())
        if a.quantize_lm_head:
            int8_names.append(head)
        if not int8_names:
            ap.error("--int8-activations needs quantised weights (--quantize-int8 / --quantize-int4)")
    model = Qwen3(cfg, w)
    model.int8_inputs = {id(w[n]) for n in int8_names}
    model.int8_experts = int8_experts
    model.bf16_inputs = a.bf16_product_inputs
    model.bf16_expert_inputs = a.bf16_expert_inputs
    model.kv_dtype = a.kv_dtype
    model.bf16_attention = a.bf16_attention
    if a.tokens_of_run:
        run = json.load(open(a.tokens_of_run))
        seq = run["prompt_tokens"] + run["generated_tokens"]
    else:
        text = a.tokens if a.tokens else open(a.tokens_file).read()
        seq = [int(t) for t in re.split(r"[,\s]+", text.strip())]
    prompt = list(seq)
    for _ in range(a.n):
        seq.append(int(torch.argmax(model.logits(seq, last_only=True)[-1])))
    if a.dump_logits:
        model.logits(seq, first_row=a.dump_from).numpy().astype("<f4").tofile(a.dump_logits)
    out = {"engine": "pytorch-reference", "prompt_tokens": prompt, "generated_tokens": seq[len(prompt):]}
    print(json.dumps(out) if a.json else ",".join(map(str, out["generated_tokens"])))


if __name__ == "__main__":
    sys.exit(main())
