#!/usr/bin/env bash
# Decode tokens/s of the compiled Qwen3-0.6B-shaped model (bf16 weights)
# against the memory-bandwidth roofline, both measured in this run:
#   roofline = read bandwidth (1 thread) / weight bytes read per decoded token.
# Usage: bench/decode-roofline.sh [GENERATED_TOKENS]   (default 128)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
N="${1:-128}"
MODEL="$BUILD_DIR/models/qwen3-0.6b-random"
EXE="$BUILD_DIR/models/qwen3-0.6b-bf16"
[[ -f "$MODEL/config.json" ]] || "$BUILD_DIR/bin/qwen3c" make-checkpoint --preset qwen3-0.6b --dtype bf16 --seed 1 -o "$MODEL"
start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$BUILD_DIR/models/build-rss.txt" "$BUILD_DIR/bin/qwen3c" build "$MODEL" -o "$EXE"
build_s=$(echo "$(date +%s.%N) - $start" | bc)
bw=$("$BUILD_DIR/bin/qwen3c-membw")
bytes=$("$EXE" --info | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['decode_weight_bytes'])")
run=$("$EXE" --tokens 151644,872,198,9707,11,1879,0,151645 -n "$N" -t 1 --json 2>/dev/null)
/usr/bin/python3 - "$bw" "$bytes" "$run" "$build_s" "$(cat "$BUILD_DIR/models/build-rss.txt")" "$(du -sb "$MODEL" | cut -f1)" <<'PY'
import json, sys
bw, nbytes, run, build_s, rss_kb, ck_bytes = float(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
roof = bw * 1e9 / nbytes
tps = run["timings"]["generation_tokens_per_s"]
print("| measure | value |\n|---|---|")
print(f"| read bandwidth, 1 thread | {bw:.1f} GB/s |")
print(f"| weight bytes per decoded token | {nbytes / 1e9:.3f} GB |")
print(f"| roofline | {roof:.1f} tokens/s |")
print(f"| decode, 1 thread ({len(run['generated_tokens'])} tokens) | {tps:.1f} tokens/s ({100 * tps / roof:.0f}% of roofline) |")
print(f"| prefill ({len(run['prompt_tokens'])} tokens, one chunk) | {run['timings']['prompt_tokens_per_s']:.1f} tokens/s |")
print(f"| qwen3c build | {build_s:.1f} s, peak RSS {rss_kb / 2**20:.2f} GiB ({rss_kb * 1024 / ck_bytes:.2f}x the checkpoint) |")
PY
