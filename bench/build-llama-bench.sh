#!/usr/bin/env bash
# Opt-in: builds llama.cpp's llama-bench (CPU only) for `qwen3c bench`'s
# llama.cpp row, and llama-quantize beside it (Q8_0 / Q4_K_M files from the
# bf16 GGUF that `qwen3c export-gguf` writes, for the quantised comparisons). llama.cpp is not in Debian; the npm package
# node-llama-cpp@3.21.1 carries its source as a git bundle, which this script
# unpacks and builds into a cache folder (never into the tree, never in CI):
#   bench/build-llama-bench.sh            -> ~/.cache/qwen3c/llama.cpp/build/bin/llama-bench
# then: qwen3c bench CHECKPOINT --llama-bench ~/.cache/qwen3c/llama.cpp/build/bin/llama-bench
set -euo pipefail
CACHE="${QWEN3C_CACHE:-$HOME/.cache/qwen3c}"
DEST="$CACHE/llama.cpp"
BIN="$DEST/build/bin/llama-bench"
if [[ -x "$BIN" && -x "$DEST/build/bin/llama-quantize" ]]; then echo "$BIN"; exit 0; fi
if [[ -x "$BIN" ]]; then # built before llama-quantize was a target here
  cmake --build "$DEST/build" --target llama-quantize -j "$(nproc)" > /dev/null
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
cmake -S "$DEST" -B "$DEST/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
  -DGGML_OPENMP=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF > /dev/null
cmake --build "$DEST/build" --target llama-bench llama-quantize -j "$(nproc)"
echo "$BIN"
