#!/usr/bin/env bash
# README command (a): set up, build, make the default model and generate with it.
# No weights can be downloaded where qwen3c is developed, so the default model
# is a random-weight checkpoint with Qwen3-0.6B's exact shapes (bf16); point
# MODEL at a real downloaded Qwen3 checkpoint folder to use that instead.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh"
QWEN3C="$BUILD_DIR/bin/qwen3c"
MODEL="${MODEL:-$BUILD_DIR/models/qwen3-0.6b-random}"
if [[ ! -f "$MODEL/config.json" ]]; then
  "$QWEN3C" make-checkpoint --preset qwen3-0.6b --dtype bf16 --seed 1 -o "$MODEL"
fi
"$QWEN3C" inspect "$MODEL"
EXE="$BUILD_DIR/models/$(basename "$MODEL").exe"
echo
echo "== qwen3c build $MODEL -o $EXE"
"$QWEN3C" build "$MODEL" -o "$EXE" -v
echo
echo "== $EXE -p \"Why is the sky blue?\" -n 48   (random weights: expect word salad)"
"$EXE" -p "Why is the sky blue?" -n 48 --seed 1
