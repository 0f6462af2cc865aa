#!/usr/bin/env python3
"""Checks qwen3c's GGUF reading against llama.cpp's own gguf-py (numpy).

  gguf_py_check.py blocks OUT.gguf
      writes, with gguf-py's writer, a GGUF of random tensors in every type
      qwen3c reads (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K; the quantised
      ones random blocks with finite scales, so every bit pattern of the
      values occurs).
  gguf_py_check.py dequantise FILE.gguf QWEN3C
      dequantises every tensor with gguf-py and with `QWEN3C inspect FILE
      --dequantise NAME`; prints the count of values that agree bit for bit
      and fails on the first that does not.
  gguf_py_check.py quantise IN.gguf OUT.gguf q8_0|q4_0
      copies IN's metadata and tensors, quantising every matrix but the MoE
      router with gguf-py's Q8_0 / Q4_0 (which follow ggml's reference code
      bit for bit), as llama-quantize --pure would.

  gguf_py_check.py to-folder FILE.gguf CONFIG_FOLDER OUT
      OUT: a Hugging Face folder of FILE's tensors dequantised by gguf-py (f32
      safetensors under Hugging Face names) with CONFIG_FOLDER's config,
      tokenizer and template: what the Python reference runs.
  gguf_py_check.py edit IN.gguf OUT.gguf EDIT...
      a copy with each EDIT applied (bad files for the error tests):
      drop-key=KEY, drop-tensor=NAME, set-string=KEY=VALUE,
      retype=NAME=TYPE (random blocks of ggml TYPE, same shape, scales
      small enough for a model that still computes); other tensors as they are.

PYTHONPATH must hold gguf-py's `gguf` package (setup.sh fetches it).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader, GGUFValueType, GGUFWriter, quants
from gguf.constants import GGML_QUANT_SIZES

TYPES = [T.F32, T.F16, T.BF16, T.Q8_0, T.Q4_0, T.Q4_K, T.Q6_K]


def f16_bytes(values):
    return np.asarray(values, dtype=np.float16).view(np.uint8)


def finish(w):
    """Writes a GGUFWriter's header, metadata and tensors, and closes it."""
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def random_blocks(qtype, rows, cols, rng, scale=2.0):
    """Random bytes in qtype's block layout with finite f16 scales in +-scale."""
    block, size = GGML_QUANT_SIZES[qtype]
    nblocks = rows * cols // block
    raw = rng.integers(0, 256, size=(nblocks, size), dtype=np.uint8)
    scales = lambda n: f16_bytes(rng.uniform(-scale, scale, size=n)).reshape(-1, 2)
    if qtype in (T.Q8_0, T.Q4_0):
        raw[:, 0:2] = scales(nblocks)
    elif qtype == T.Q4_K:  # d, dmin first
        raw[:, 0:2] = scales(nblocks)
        raw[:, 2:4] = scales(nblocks)
    elif qtype == T.Q6_K:  # d last
        raw[:, size - 2:size] = scales(nblocks)
    return raw.reshape(rows, cols // block * size)


def blocks(out):
    rng = np.random.default_rng(7)
    w = GGUFWriter(out, "qwen3c-test")
    rows, cols = 4, 512
    for qtype in TYPES:
        name = "t." + qtype.name
        if qtype == T.F32:
            w.add_tensor(name, rng.standard_normal((rows, cols)).astype(np.float32))
        elif qtype == T.F16:
            w.add_tensor(name, rng.standard_normal((rows, cols)).astype(np.float16))
        elif qtype == T.BF16:
            bits = (rng.standard_normal((rows, cols)).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
            w.add_tensor(name, bits.view(np.uint8).reshape(rows, cols * 2), raw_dtype=T.BF16)
        else:
            w.add_tensor(name, random_blocks(qtype, rows, cols, rng), raw_dtype=qtype)
    finish(w)
    print(f"wrote {out}: {len(TYPES)} tensors")


def dequantise(path, qwen3c):
    reader = GGUFReader(path)
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for t in reader.tensors:
            expected = quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1)
            out = os.path.join(tmp, "t.bin")
            subprocess.run([qwen3c, "inspect", path, "--dequantise", t.name, "-o", out], check=True)
            got = np.fromfile(out, dtype=np.float32)
            if got.shape != expected.shape:
                sys.exit(f"FAIL: {t.name}: {got.size} values from qwen3c, {expected.size} from gguf-py")
            differ = np.flatnonzero(got.view(np.uint32) != expected.view(np.uint32))
            if differ.size:
                i = differ[0]
                sys.exit(f"FAIL: {t.name} ({t.tensor_type.name}): value {i} is {got[i]!r} from qwen3c, "
                         f"{expected[i]!r} from gguf-py ({differ.size} differ)")
            total += got.size
    print(f"PASS: {len(reader.tensors)} tensors, {total} values equal to gguf-py's bit for bit")


def copy_field(w, field):
    main = field.types[0]
    if main == GGUFValueType.ARRAY:
        w.add_key_value(field.name, field.contents(), main, sub_type=field.types[-1])
    else:
        w.add_key_value(field.name, field.contents(), main)


def edit(src, out, edits):
    ops = [e.split("=", 1) for e in edits]
    drop_keys = {v for k, v in ops if k == "drop-key"}
    drop_tensors = {v for k, v in ops if k == "drop-tensor"}
    strings = dict(v.split("=", 1) for k, v in ops if k == "set-string")
    retype = dict(v.split("=", 1) for k, v in ops if k == "retype")
    reader = GGUFReader(src)
    arch = strings.get("general.architecture", reader.fields["general.architecture"].contents())
    w = GGUFWriter(out, arch)
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture" or name in drop_keys:
            continue
        if name in strings:
            w.add_string(name, strings.pop(name))
        else:
            copy_field(w, field)
    for key, value in strings.items():
        if key != "general.architecture":
            w.add_string(key, value)
    rng = np.random.default_rng(3)
    for t in reader.tensors:
        if t.name in drop_tensors:
            continue
        shape = [int(d) for d in reversed(t.shape)]
        if t.name in retype:
            qtype = T[retype[t.name]]
            rows = int(np.prod(shape[:-1]))
            w.add_tensor(t.name, random_blocks(qtype, rows, shape[-1], rng, scale=2e-4), raw_dtype=qtype)
        elif t.tensor_type in (T.F32, T.F16):
            w.add_tensor(t.name, np.array(t.data).reshape(shape))
        else:
            w.add_tensor(t.name, np.array(t.data), raw_dtype=t.tensor_type)
    finish(w)


BLOCK_NAMES = {
    "attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj", "attn_q_norm": "self_attn.q_norm",
    "attn_k_norm": "self_attn.k_norm", "ffn_norm": "post_attention_layernorm", "ffn_gate_inp": "mlp.gate",
    "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
}
TOP_NAMES = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}


def to_folder(path, config_dir, out):
    import json
    import shutil
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(config_dir):
        if not f.endswith(".safetensors") and not f.endswith(".index.json"):
            shutil.copy(os.path.join(config_dir, f), out)
    tensors = {}
    for t in GGUFReader(path).tensors:
        shape = [int(d) for d in reversed(t.shape)]
        values = quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape(shape)
        base = t.name[: -len(".weight")]
        if base in TOP_NAMES:
            tensors[TOP_NAMES[base] + ".weight"] = values
            continue
        _, layer, kind = base.split(".", 2)
        prefix = f"model.layers.{layer}."
        if kind.endswith("_exps"):  # [E, N, K]: one tensor per expert
            proj = kind[len("ffn_"): -len("_exps")]
            for e in range(shape[0]):
                tensors[f"{prefix}mlp.experts.{e}.{proj}_proj.weight"] = values[e]
        else:
            tensors[prefix + BLOCK_NAMES[kind] + ".weight"] = values
    header, offset = {}, 0
    for name, v in tensors.items():
        header[name] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [offset, offset + v.nbytes]}
        offset += v.nbytes
    text = json.dumps(header).encode()
    with open(os.path.join(out, "model.safetensors"), "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for v in tensors.values():
            f.write(np.ascontiguousarray(v).tobytes())
    print(f"wrote {out}: {len(tensors)} tensors")


def quantise(src, out, kind):
    qtype = {"q8_0": T.Q8_0, "q4_0": T.Q4_0}[kind]
    reader = GGUFReader(src)
    arch = reader.fields["general.architecture"].contents()
    w = GGUFWriter(out, arch)
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        copy_field(w, field)
    for t in reader.tensors:
        shape = [int(d) for d in reversed(t.shape)]  # numpy order: outermost first
        values = quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape(shape)
        if len(shape) >= 2 and "ffn_gate_inp" not in t.name:
            w.add_tensor(t.name, quants.quantize(values, qtype), raw_dtype=qtype)
        else:
            w.add_tensor(t.name, values)
    finish(w)
    print(f"wrote {out}: {len(reader.tensors)} tensors, matrices {qtype.name}")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "blocks":
        return blocks(sys.argv[2])
    if len(sys.argv) == 4 and sys.argv[1] == "dequantise":
        return dequantise(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 5 and sys.argv[1] == "quantise":
        return quantise(sys.argv[2], sys.argv[3], sys.argv[4])
    if len(sys.argv) == 5 and sys.argv[1] == "to-folder":
        return to_folder(sys.argv[2], sys.argv[3], sys.argv[4])
    if len(sys.argv) >= 4 and sys.argv[1] == "edit":
        return edit(sys.argv[2], sys.argv[3], sys.argv[4:])
    sys.exit(__doc__)


if __name__ == "__main__":
    main()
