#!/usr/bin/env bash
# On the device machine: bench/cuda/run.sh DIR OUT, DIR made by prepare.sh.
# Correctness first (logits against the reference within the CPU tests'
# bounds, greedy tokens as the CPU build's), then the 0.6B shape's decode
# and prefill tokens/s (random weights), fusion all and none. Writes
# OUT/results.txt; every line is also printed.
set -uo pipefail
DIR="$1" OUT="$2"
cd "$DIR"
. ./prompt.env
log() { echo "$@" | tee -a "$OUT/results.txt"; }
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv,noheader | tee -a "$OUT/results.txt"
check() { # name reference.bin rtol cpu-run.json run-args... (the exe is ./name)
  local name=$1 ref=$2 rtol=$3 cpu=$4; shift 4
  if ./"$name" "$@" --json > "$name.json" 2> "$name.err"; then
    log "$name: $(python3 compare_logits.py "$name.bin" "$ref" --vocab 512 --rtol "$rtol" --tokens "$name.json" "$cpu" 2>&1 | tail -1)"
  else
    log "$name: FAILED to run: $(tail -3 "$name.err")"
  fi
}
for exe in dense32-all dense32-none; do
  check "$exe" ref-dense32.bin 1e-4 cpu-dense32.json --tokens "$PROMPT" --temp 0 --ignore-eos -n 24 --dump-logits "$exe.bin"
done
check moe32-all ref-moe32.bin 1e-4 cpu-moe32.json --tokens "$PROMPT" --temp 0 --ignore-eos -n 24 --dump-logits moe32-all.bin
check dense16-all ref-dense16.bin 2e-4 cpu-dense16.json --tokens "$PROMPT" --temp 0 --ignore-eos -n 24 --dump-logits dense16-all.bin
check long32 ref-long32.bin 1e-4 cpu-long32.json --tokens-file long.prompt --temp 0 --ignore-eos -n 8 --dump-last-logits long32.bin
# Timing: the 0.6B shape, random weights: 128 tokens after a short prompt
# (decode as a CUDA graph, and without), and a 512-token prompt.
cut -d, -f1-512 long.prompt > p512.prompt
for exe in q06-all q06-none; do
  for label in short short-nograph pp512; do
    graph=1 args="--tokens $PROMPT -n 128"
    [ "$label" = short-nograph ] && graph=0
    [ "$label" = pp512 ] && args="--tokens-file p512.prompt -n 1"
    out=$(QWEN3C_RANDOM_WEIGHTS=1 QWEN3C_CUDA_GRAPH=$graph ./"$exe" $args --temp 0 --ignore-eos --json 2> "$exe.$label.err") || { log "$exe $label: FAILED: $(tail -3 "$exe.$label.err")"; continue; }
    log "$exe $label: $(echo "$out" | python3 -c "import json,sys; t=json.load(sys.stdin)['timings']; print(f\"prompt {t['prompt_tokens_per_s']:.1f} tokens/s, generation {t['generation_tokens_per_s']:.1f} tokens/s\")")"
  done
done
log "done"
