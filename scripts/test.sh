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
