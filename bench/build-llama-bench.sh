#!/usr/bin/env bash
# Opt-in: builds llama.cpp's llama-bench (CPU only) for `qwen3c bench`'s
# llama.cpp row, and llama-quantize beside it (Q8_0 / Q4_K_M files from the
# bf16 GGUF that `qwen3c export-gguf` writes, for the quantised comparisons)
# and llama-perplexity (its --kl-divergence, beside bench/quant_quality.py). llama.cpp is not in Debian; the npm package
# node-llama-cpp@3.21.1 carries its source as a git bundle, which this script
# unpacks and builds into a cache folder (never into the tree, never in CI):
#   bench/build-llama-bench.sh            -> ~/.cache/qwen3c/llama.cpp/build/bin/llama-bench
# then: qwen3c bench CHECKPOINT --llama-bench ~/.cache/qwen3c/llama.cpp/build/bin/llama-bench
#   bench/build-llama-bench.sh --portable -> ~/.cache/qwen3c/llama.cpp/build-portable/bin/llama-bench
# --portable: AVX-512, VNNI and BF16 but no AMX and no -march=native. On an
# AMX host the native build dies with SIGILL (in its AMX tile code) on every
# quantised model; this copy runs them, as llama.cpp's users there must.
set -euo pipefail
CACHE="${QWEN3C_CACHE:-$HOME/.cache/qwen3c}"
DEST="$CACHE/llama.cpp"
OUT=build
FLAGS=(-DGGML_NATIVE=ON)
if [[ "${1:-}" == --portable ]]; then
  OUT=build-portable
  FLAGS=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=ON
         -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF)
fi
BIN="$DEST/$OUT/bin/llama-bench"
configure() {
  cmake -S "$DEST" -B "$DEST/$OUT" -G Ninja -DCMAKE_BUILD_TYPE=Release "${FLAGS[@]}" -DLLAMA_CURL=OFF \
    -DGGML_OPENMP=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF > /dev/null
}
if [[ -x "$BIN" && -x "$DEST/$OUT/bin/llama-quantize" && -x "$DEST/$OUT/bin/llama-perplexity" ]]; then echo "$BIN"; exit 0; fi
if [[ -d "$DEST/.git" ]]; then # the source is here: a target or a build folder missing
  [[ -f "$DEST/$OUT/build.ninja" ]] || configure
  cmake --build "$DEST/$OUT" --target llama-bench llama-quantize llama-perplexity -j "$(nproc)" > /dev/null
  echo "$BIN"
  exit 0
fi
mkdir -p "$CACHE"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent node-llama-cpp@3.21.1 > /dev/null && tar xzf node-llama-cpp-3.21.1.tgz)
bundle="$work/package/llama/gitRelease.bundle"
[[ -f "$bundle" ]] || { echo "build-llama-bench: no llama/gitRelease.bundle in node-llama-cpp@3.21.1" >&2; exit 1; }
rm -rf "$DEST"
git clone --quiet "$bundle" "$DEST"
configure
cmake --build "$DEST/$OUT" --target llama-bench llama-quantize llama-perplexity -j "$(nproc)"
echo "$BIN"
