#!/usr/bin/env bash
# README command (b): set up, build, run the whole test suite.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh"
echo "== lit =="
/usr/lib/llvm-22/bin/lit -v "$BUILD_DIR/tests/lit"
echo "== ctest =="
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)"
echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer =="
ASAN_DIR="${ASAN_BUILD_DIR:-$ROOT/build-asan}"
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1
if [[ ! -f "$ASAN_DIR/build.ninja" ]]; then
  cmake -G Ninja -S "$ROOT" -B "$ASAN_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DQWEN3C_TOKENIZER_DIR="${QWEN3C_CACHE:-$HOME/.cache/qwen3c}/tokenizer-qwen3-3.7.2" -DQWEN3C_OPENAI_DIR="${QWEN3C_CACHE:-$HOME/.cache/qwen3c}/openai-5.23.2" > /dev/null
fi
cmake --build "$ASAN_DIR" --target qwen3c-unit-tests -j "$(nproc)"
ASAN_OPTIONS=detect_leaks=1 "$ASAN_DIR/bin/qwen3c-unit-tests" --gtest_brief=1
echo "== fuzzers (fixed seed, bounded runs) =="
"$ROOT/scripts/fuzz.sh" --runs "${FUZZ_RUNS:-100000}"
