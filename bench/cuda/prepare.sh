#!/usr/bin/env bash
# Prepares the CUDA device check in DIR (default .device-check, which
# .git/info/exclude should ignore): the device machine has the CUDA driver
# but no LLVM/MLIR, so everything it runs is built here and carried there
# (at most 64 MiB with the working tree).
#   - tiny-dense / tiny-moe CUDA builds (vocabulary 512 to stay small) and
#     the PyTorch reference's logits for the same runs: correctness;
#   - the 0.6B shape as a sidecar build (no weights inside) that runs with
#     QWEN3C_RANDOM_WEIGHTS (timing only): decode and prefill tokens/s.
# Then, on the device: bench/cuda/run.sh DIR $OUT (see the run tool's README).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="${1:-$ROOT/.device-check}"
Q="$ROOT/build/bin/qwen3c"
REF="/usr/bin/python3 $ROOT/tests/reference/qwen3_reference.py"
rm -rf "$DIR" && mkdir -p "$DIR"
cd "$DIR"
PROMPT=151,87,198,97,11,187,0
# No tokenizer (ids in and out): 6 MB less in every executable.
notokenizer() { rm -f "$1"/tokenizer.json "$1"/tokenizer_config.json "$1"/vocab.json "$1"/merges.txt; }
small() { "$Q" make-checkpoint --preset "$1" --dtype "$2" --seed "$3" --set vocab_size=512 -o "ck-$4" > /dev/null; notokenizer "ck-$4"; }
small tiny-dense f32 21 dense32
small tiny-dense bf16 22 dense16
small tiny-moe f32 23 moe32
"$Q" build ck-dense32 -o dense32-all --target cuda --dtype f32 --chunk 4 --max-context 128 --kv-dtype f32
"$Q" build ck-dense32 -o dense32-none --target cuda --fusion none --dtype f32 --chunk 4 --max-context 128 --kv-dtype f32
"$Q" build ck-moe32 -o moe32-all --target cuda --dtype f32 --chunk 4 --max-context 128 --kv-dtype f32
"$Q" build ck-dense16 -o dense16-all --target cuda --chunk 4 --max-context 128
"$Q" build ck-dense32 -o long32 --target cuda --dtype f32 --max-context 2048 --kv-dtype f32
# CPU builds of the same: the greedy tokens a GPU run must reproduce.
"$Q" build ck-dense32 -o cpu-dense32 --dtype f32 --chunk 4 --max-context 128 --kv-dtype f32 --prefill-dot fma --decode-dot fma
"$Q" build ck-moe32 -o cpu-moe32 --dtype f32 --chunk 4 --max-context 128 --kv-dtype f32 --prefill-dot fma --decode-dot fma
./cpu-dense32 --tokens $PROMPT --temp 0 --ignore-eos -n 24 --json > cpu-dense32.json
./cpu-moe32 --tokens $PROMPT --temp 0 --ignore-eos -n 24 --json > cpu-moe32.json
# The reference evaluates the CPU run's whole sequence (prompt and generated
# tokens); a GPU run with the same tokens has the same rows.
$REF ck-dense32 --tokens-of-run cpu-dense32.json --dump-logits ref-dense32.bin
$REF ck-moe32 --tokens-of-run cpu-moe32.json --dump-logits ref-moe32.bin
/usr/bin/python3 -c "import random; random.seed(7); print(','.join(str(random.randrange(512)) for _ in range(2000)))" > long.prompt
"$Q" build ck-dense32 -o cpu-long32 --dtype f32 --max-context 2048 --kv-dtype f32 --prefill-dot fma --decode-dot fma
./cpu-long32 --tokens-file long.prompt --temp 0 --ignore-eos -n 8 --json > cpu-long32.json
$REF ck-dense32 --tokens-of-run cpu-long32.json --dump-from 1999 --dump-logits ref-long32.bin
"$Q" build ck-dense16 -o cpu-dense16 --chunk 4 --max-context 128 --prefill-dot fma --decode-dot fma
./cpu-dense16 --tokens $PROMPT --temp 0 --ignore-eos -n 24 --json > cpu-dense16.json
$REF ck-dense16 --tokens-of-run cpu-dense16.json --kv-dtype bf16 --dump-logits ref-dense16.bin
# The 0.6B shape, weights left out (QWEN3C_RANDOM_WEIGHTS on the device).
"$Q" make-checkpoint --preset qwen3-0.6b --dtype bf16 --seed 1 -o ck-06b > /dev/null
notokenizer ck-06b
"$Q" build ck-06b -o q06-all --target cuda --weights sidecar --max-context 4224
"$Q" build ck-06b -o q06-none --target cuda --fusion none --weights sidecar --max-context 4224
rm -rf ck-* cpu-dense32 cpu-moe32 cpu-long32 cpu-dense16 *.weights
cp "$ROOT/tests/reference/compare_logits.py" "$ROOT/bench/cuda/run.sh" .
echo "PROMPT=$PROMPT" > prompt.env
du -sh "$DIR"
