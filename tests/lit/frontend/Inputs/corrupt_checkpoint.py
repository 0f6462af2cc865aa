#!/usr/bin/env python3
"""Copies a checkpoint folder and breaks it in one named way, for the
bad-checkpoint tests: corrupt_checkpoint.py SRC DST KIND."""
import json
import os
import shutil
import struct
import sys

src, dst, kind = sys.argv[1:4]
shutil.copytree(src, dst)
st = os.path.join(dst, "model.safetensors")
cfg_path = os.path.join(dst, "config.json")


def read():
    data = open(st, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def write(header, body):
    h = json.dumps(header).encode()
    open(st, "wb").write(struct.pack("<Q", len(h)) + h + body)


def edit_config(fn):
    cfg = json.load(open(cfg_path))
    fn(cfg)
    json.dump(cfg, open(cfg_path, "w"))


header, body = read()
if kind == "truncated":
    data = open(st, "rb").read()
    open(st, "wb").write(data[: len(data) - 1000])
elif kind == "header-past-end":
    data = open(st, "rb").read()
    open(st, "wb").write(struct.pack("<Q", len(data) * 2) + data[8:])
elif kind == "tiny-file":
    open(st, "wb").write(b"\x01\x02\x03")
elif kind == "offsets-out-of-range":
    e = header["model.norm.weight"]
    e["data_offsets"] = [len(body) + 16, len(body) + 16 + e["data_offsets"][1] - e["data_offsets"][0]]
    write(header, body)
elif kind == "overlap":
    a, b = header["model.layers.0.input_layernorm.weight"], header["model.layers.0.post_attention_layernorm.weight"]
    b["data_offsets"] = [a["data_offsets"][0] + 4, a["data_offsets"][1] + 4]
    write(header, body)
elif kind == "byte-count":
    header["model.norm.weight"]["shape"] = [63]
    write(header, body)
elif kind == "missing-tensor":
    del header["model.layers.1.self_attn.k_norm.weight"]
    write(header, body)
elif kind == "wrong-shape":
    e = header["model.layers.2.mlp.down_proj.weight"]
    e["shape"] = list(reversed(e["shape"]))
    write(header, body)
elif kind == "unexpected-tensor":
    header["model.layers.0.self_attn.q_proj.bias"] = {"dtype": "F32", "shape": [1], "data_offsets": [len(body), len(body) + 4]}
    write(header, body + b"\0\0\0\0")
elif kind == "unknown-dtype":
    header["model.norm.weight"]["dtype"] = "Q7"
    write(header, body)
elif kind == "header-not-json":
    h = b"{not json"
    open(st, "wb").write(struct.pack("<Q", len(h)) + h + body)
elif kind == "architecture":
    edit_config(lambda c: c.update(architectures=["LlamaForCausalLM"]))
elif kind == "rope-scaling":
    edit_config(lambda c: c.update(rope_scaling={"rope_type": "linear", "factor": 4.0}))
elif kind == "config-json":
    open(cfg_path, "w").write('{"hidden_size": 64,')
elif kind == "missing-key":
    edit_config(lambda c: c.pop("num_hidden_layers"))
elif kind == "bad-heads":
    edit_config(lambda c: c.update(num_key_value_heads=3))
elif kind == "bad-index":
    os.rename(st, os.path.join(dst, "model-00001-of-00001.safetensors"))
    wm = {k: "model-00001-of-00001.safetensors" for k in header if k != "__metadata__"}
    wm["model.layers.0.ghost.weight"] = "model-00002-of-00001.safetensors"
    json.dump({"weight_map": wm}, open(os.path.join(dst, "model.safetensors.index.json"), "w"))
else:
    sys.exit("unknown kind " + kind)
