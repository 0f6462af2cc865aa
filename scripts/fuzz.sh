#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-22, -fsanitize=fuzzer,address,undefined)
# and runs each from its seed corpus in tests/fuzz/corpus:
#   scripts/fuzz.sh [SECONDS]     for SECONDS each (default 60), random seed: exploring
#   scripts/fuzz.sh --runs N      N inputs each with a fixed seed: reproducible (CI)
# A crash leaves its input in the printed folder: add it to the corpus and a
# regression test once fixed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [[ "${1:-}" == "--runs" ]]; then
  LIMIT=(-runs="${2:?--runs needs a number}" -seed=1)
  WHAT="${2} inputs"
else
  LIMIT=(-max_total_time="${1:-60}")
  WHAT="${1:-60}s"
fi
FUZZ_DIR="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1
if [[ ! -f "$FUZZ_DIR/build.ninja" ]]; then
  cmake -G Ninja -S "$ROOT" -B "$FUZZ_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQWEN3C_FUZZ=ON \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DQWEN3C_TOKENIZER_DIR="${QWEN3C_CACHE:-$HOME/.cache/qwen3c}/tokenizer-qwen3-3.7.2" -DQWEN3C_OPENAI_DIR="${QWEN3C_CACHE:-$HOME/.cache/qwen3c}/openai-5.23.2" > /dev/null
fi
targets=(SafeTensorsHeader Gguf Config ShardIndex Tokenizer TokenizerJson ChatTemplate JinjaTemplate RunFlags)
cmake --build "$FUZZ_DIR" -j "$(nproc)" --target "${targets[@]/#/fuzz-}"
passed=0 failed=0
for t in "${targets[@]}"; do
  work=$(mktemp -d)
  cp -r "$ROOT/tests/fuzz/corpus/$t/." "$work/"
  echo "== fuzz-$t, $WHAT"
  if (cd "$work" && "$FUZZ_DIR/bin/fuzz-$t" "${LIMIT[@]}" -max_len=4096 -rss_limit_mb=4096 "$work" > "$work/log" 2>&1); then
    tail -1 "$work/log"
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    tail -20 "$work/log"
    echo "fuzz-$t FAILED: crash input kept in $work"
  fi
done
echo "fuzz: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
