#!/usr/bin/env python3
"""Compares two logit dumps (f32 rows of vocab_size) within a tolerance
relative to the largest reference logit; optionally two --json outputs'
generated tokens. Prints one line; exits 1 on mismatch."""
import argparse
import json
import sys

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("actual")
ap.add_argument("reference")
ap.add_argument("--vocab", type=int, required=True)
ap.add_argument("--rtol", type=float, default=1e-4, help="max |a-r| / max |r|")
ap.add_argument("--rows", type=int, help="expected number of rows")
ap.add_argument("--tokens", nargs=2, metavar=("ACTUAL_JSON", "REFERENCE_JSON"))
ap.add_argument("--greedy-of", metavar="ACTUAL_JSON",
                help="a --temp 0 run whose whole sequence the reference evaluated (--tokens-of-run): each "
                     "generated token must be the argmax of the reference's row before it (the dumps being "
                     "the sequence's last rows)")
ap.add_argument("--reference-from", type=int, default=0,
                help="compare with the reference's rows from this one on (an actual --dump-last-logits dump)")
a = ap.parse_args()

x = np.fromfile(a.actual, dtype="<f4")
r = np.fromfile(a.reference, dtype="<f4")[a.reference_from * a.vocab:]
if x.size != r.size or x.size % a.vocab:
    sys.exit(f"FAIL: sizes differ: {x.size} vs {r.size} floats (vocab {a.vocab})")
rows = x.size // a.vocab
if a.rows is not None and rows != a.rows:
    sys.exit(f"FAIL: {rows} rows, expected {a.rows}")
if not np.all(np.isfinite(x)):
    sys.exit("FAIL: non-finite logits")
scale = float(np.abs(r).max())
err = float(np.abs(x - r).max())
ok = err <= a.rtol * scale
msg = f"rows {rows} max|diff| {err:.3g} max|ref| {scale:.3g} ratio {err / scale:.3g} (tol {a.rtol:g})"
if a.tokens:
    ta, tr = (json.load(open(p))["generated_tokens"] for p in a.tokens)
    same = ta == tr
    ok = ok and same
    msg += f"; tokens {'identical' if same else 'DIFFER'} ({len(ta)})"
if a.greedy_of:
    run = json.load(open(a.greedy_of))
    p, gen = len(run["prompt_tokens"]), run["generated_tokens"]
    # The rows are the sequence's last ones (all of them, or a
    # --dump-last-logits dump: the prompt's last row on).
    first = p + len(gen) - rows
    if first < 0 or first > p - 1:
        sys.exit(f"FAIL: {rows} rows do not end a run of {p} prompt and {len(gen)} generated tokens")
    best = [int(np.argmax(r.reshape(rows, a.vocab)[p - 1 + i - first])) for i in range(len(gen))]
    same = best == gen
    ok = ok and same
    msg += f"; greedy tokens {'identical' if same else 'DIFFER'} ({len(gen)})"
print(("PASS: " if ok else "FAIL: ") + msg)
sys.exit(0 if ok else 1)
