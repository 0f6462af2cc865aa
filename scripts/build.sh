#!/usr/bin/env bash
# Configures (once) and builds qwen3c into ${BUILD_DIR:-build} with Ninja,
# clang-22 and ccache.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
CACHE_DIR="${QWEN3C_CACHE:-$HOME/.cache/qwen3c}"
# ccache hits across clones in other folders (CI builds a fresh clone).
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  cmake -G Ninja -S "$ROOT" -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DQWEN3C_TOKENIZER_DIR="$CACHE_DIR/tokenizer-qwen3-3.7.2" -DQWEN3C_OPENAI_DIR="$CACHE_DIR/openai-5.23.2"
fi
cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}"
