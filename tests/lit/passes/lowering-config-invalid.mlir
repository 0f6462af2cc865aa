// A pinned q3.lowering_config the kernel cannot build is refused by name,
// and so is a k16 product without one: the lowering never chooses.
// RUN: not qwen3c-opt %s --q3-choose-weight-layouts --q3-plan-weights --q3-lower-to-loops -o /dev/null 2>&1 | FileCheck %s

module attributes {q3.num_layers = 1 : i64} {
  func.func @illegal(%x: tensor<1x64xf32>) -> tensor<1x128xf32> {
    %w = q3.weight "w" : tensor<128x64xf32>
    %y = q3.linear %x, %w {q3.lowering_config = #q3.lowering_config<tile_rows = 1, tile_blocks = 3, vector_width = 16, prefetch = 0, stage_norm = false, split_blocks = false>} : tensor<1x64xf32>, tensor<128x64xf32>
    return %y : tensor<1x128xf32>
  }
}
// CHECK: error: 'q3.linear' op q3.lowering_config: tile_blocks = 3 does not divide every output part into whole 16-row blocks

// A tile with more accumulators than registers.
// RUN: sed -e 's/tile_rows = 1, tile_blocks = 3, vector_width = 16/tile_rows = 4, tile_blocks = 4, vector_width = 8/' %s > %t.mlir
// RUN: not qwen3c-opt %t.mlir --q3-choose-weight-layouts --q3-plan-weights --q3-lower-to-loops -o /dev/null 2>&1 | FileCheck %s --check-prefix=REGS
// REGS: error: 'q3.linear' op q3.lowering_config: a 4 x 4 tile of 8-lane vectors needs more than 28 accumulator registers

// The attribute's own verifier: fields out of range.
// RUN: sed -e 's/vector_width = 16/vector_width = 12/' %s > %t2.mlir
// RUN: not qwen3c-opt %t2.mlir -o /dev/null 2>&1 | FileCheck %s --check-prefix=WIDTH
// WIDTH: error: vector_width must be 4, 8 or 16 f32 lanes (a divisor of the 16-row block), got 12
// RUN: sed -e 's/prefetch = 0/prefetch = -1/' %s > %t3.mlir
// RUN: not qwen3c-opt %t3.mlir -o /dev/null 2>&1 | FileCheck %s --check-prefix=PREFETCH
// PREFETCH: error: prefetch must be 0 (off) or more k steps, got -1
// A dictionary where the typed attribute belongs.
// RUN: sed -e 's/#q3.lowering_config<tile_rows = 1, tile_blocks = 3, vector_width = 16, prefetch = 0, stage_norm = false, split_blocks = false>/{tile_rows = 1 : i64}/' %s > %t4.mlir
// RUN: not qwen3c-opt %t4.mlir --q3-choose-weight-layouts --q3-plan-weights --q3-lower-to-loops -o /dev/null 2>&1 | FileCheck %s --check-prefix=DICT
// DICT: error: 'q3.linear' op q3.lowering_config must be a #q3.lowering_config<...>
// No config at all on a k16 product.
// RUN: sed -e 's/ {q3.lowering_config = #q3.lowering_config<tile_rows = 1, tile_blocks = 3, vector_width = 16, prefetch = 0, stage_norm = false, split_blocks = false>}//' %s > %t5.mlir
// RUN: not qwen3c-opt %t5.mlir --q3-choose-weight-layouts --q3-plan-weights --q3-lower-to-loops -o /dev/null 2>&1 | FileCheck %s --check-prefix=NONE
// NONE: error: 'q3.linear' op has no q3.lowering_config (run q3-choose-lowering-config: the lowering does not choose)
// The strategy without a target.
// RUN: not qwen3c-opt %t5.mlir --q3-choose-weight-layouts --q3-choose-lowering-config -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOTARGET
// NOTARGET: error: the strategy needs the target: no q3.target on the module (run q3-set-target first)
// The target attribute's verifier.
// RUN: sed -e 's/q3.num_layers = 1 : i64}/q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x", vector_bits = 384, vector_registers = 16, l2_bytes = 0, features = "">}/' %s > %t6.mlir
// RUN: not qwen3c-opt %t6.mlir -o /dev/null 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: error: vector_bits must be 128, 256 or 512, got 384
// An unknown CPU for q3-set-target.
// RUN: not qwen3c-opt %t5.mlir --q3-set-target=cpu=pentium9 -o /dev/null 2>&1 | FileCheck %s --check-prefix=CPU
// CPU: error: --target-cpu: 'pentium9' is not an x86-64 CPU LLVM knows

// Attention: a head block that does not divide the group, none at all, a
// query block that does not divide the rows or has no key-blocked cache, and
// a score block other than the key block.
// RUN: not qwen3c-opt %S/Inputs/attention-config.mlir --split-input-file --q3-plan-weights --q3-lower-to-loops -o /dev/null 2>&1 | FileCheck %s --check-prefix=HEADS
// HEADS: error: 'q3.attention' op q3.attention_config: head_block = 3 does not divide the 2 query heads of a KV head
// HEADS: error: 'q3.attention' op has no q3.attention_config (run q3-choose-lowering-config: the lowering does not choose)
// HEADS: error: 'q3.attention' op q3.attention_config: query_block = 2 does not divide the 1 query rows
// HEADS: error: 'q3.attention' op query_block = 2 needs the key-blocked cache (q3.key_cache_block)
// HEADS: error: 'q3.attention' op score_block = 8 over a key-blocked cache: a score vector is one block of 16 keys
// The fma kernel over a key-blocked cache sums values in value_block passes:
// one is needed and it divides the head dim; query_tiles register tiles
// divide the rows; row keys have neither.
// HEADS: error: 'q3.attention' op the fma kernel over a key-blocked cache needs a value_block in its q3.attention_config
// HEADS: error: 'q3.attention' op q3.attention_config: value_block = 24 does not divide the head dim 32
// HEADS: error: 'q3.attention' op q3.attention_config: query_block * query_tiles = 8 does not divide the 4 query rows
// HEADS: error: 'q3.attention' op value_block = 16 is for the key-blocked cache (q3.key_cache_block)
// The attribute's verifier: at most 8 tile rows.
// RUN: sed -e 's/head_block = 3, score_block = 16/head_block = 2, score_block = 16, query_block = 8/' %S/Inputs/attention-config.mlir > %t8.mlir
// RUN: not qwen3c-opt %t8.mlir -o /dev/null 2>&1 | FileCheck %s --check-prefix=TILE
// TILE: error: head_block * query_block must be at most 8 query rows, got 16
// RUN: sed -e 's/score_block = 16/score_block = 5/' %S/Inputs/attention-config.mlir > %t7.mlir
// RUN: not qwen3c-opt %t7.mlir -o /dev/null 2>&1 | FileCheck %s --check-prefix=SCORES
// SCORES: error: score_block must be 4, 8 or 16 positions, got 5
// kv_split: only one query row (decode), on the fma kernel without a query
// block, over a key-blocked cache.
// RUN: sed -e 's/head_block = 3, score_block = 16/head_block = 2, score_block = 16, kv_split = 2/; s/query_block = 2>} : tensor<2x4x32xf32>/kv_split = 2>} : tensor<2x4x32xf32>/' %S/Inputs/attention-config.mlir > %t12.mlir
// RUN: not qwen3c-opt %t12.mlir --split-input-file --q3-plan-weights --q3-lower-to-loops -o /dev/null 2>&1 | FileCheck %s --check-prefix=SPLIT
// SPLIT: error: 'q3.attention' op kv_split = 2 needs the key-blocked cache (q3.key_cache_block)
// SPLIT: error: 'q3.attention' op q3.attention_config: kv_split = 2 is for one query row (decode), got 2
// RUN: sed -e 's/head_block = 3, score_block = 16/head_block = 2, score_block = 16, query_block = 2, kv_split = 2/' %S/Inputs/attention-config.mlir > %t13.mlir
// RUN: not qwen3c-opt %t13.mlir -o /dev/null 2>&1 | FileCheck %s --check-prefix=SPLITQ
// SPLITQ: error: kv_split = 2 is for one query row on the fma kernel (query_block 1, dot fma)
// The attribute's verifier: query_tiles only on the fma and bf16 kernels
// over a prompt and at most 16; value_block only on those kernels.
// RUN: sed -e 's/head_block = 3, score_block = 16/head_block = 2, score_block = 16, kv_split = 2, query_tiles = 2/' %S/Inputs/attention-config.mlir > %t14.mlir
// RUN: not qwen3c-opt %t14.mlir -o /dev/null 2>&1 | FileCheck %s --check-prefix=TILESPLIT
// TILESPLIT: error: query_tiles = 2 is for the fma and bf16 kernels over a prompt (dot fma, bf16 or bf16_emulated; kv_split 1)
// RUN: sed -e 's/head_block = 3, score_block = 16/head_block = 2, score_block = 16, query_tiles = 17/' %S/Inputs/attention-config.mlir > %t15.mlir
// RUN: not qwen3c-opt %t15.mlir -o /dev/null 2>&1 | FileCheck %s --check-prefix=TILEMAX
// TILEMAX: error: query_tiles must be 1..16, got 17
// RUN: sed -e 's/head_block = 3, score_block = 16/head_block = 2, score_block = 16, query_block = 16, dot = amx, value_block = 16/' %S/Inputs/attention-config.mlir > %t16.mlir
// RUN: not qwen3c-opt %t16.mlir -o /dev/null 2>&1 | FileCheck %s --check-prefix=VALUEAMX
// VALUEAMX: error: value_block is for the fma and bf16 kernels, not dot = amx
// The int8 dot and its layout go together: dot = i8 on k16_q8 weights, any
// other dot but AMX on quads weights, and i8 in 8-lane vectors are refused.
// RUN: sed -e 's/q3.weight "w" : tensor<128x64xf32>/q3.weight "w" {q3.layout = #q3.layout<k16_q8>} : tensor<128x64xf32>/; s/tile_blocks = 3, vector_width = 16, prefetch = 0, stage_norm = false, split_blocks = false/tile_blocks = 1, vector_width = 16, prefetch = 0, stage_norm = false, split_blocks = false, dot = i8/' %s > %t9.mlir
// RUN: not qwen3c-opt %t9.mlir --q3-plan-weights --q3-lower-to-loops -o /dev/null 2>&1 | FileCheck %s --check-prefix=I8
// I8: error: 'q3.linear' op q3.lowering_config: dot = i8 needs quads weights (k16_q8_quads, k16_q4_quads)
// RUN: sed -e 's/q3.weight "w" : tensor<128x64xf32>/q3.weight "w" {q3.layout = #q3.layout<k16_q8_quads>} : tensor<128x64xf32>/; s/tile_blocks = 3/tile_blocks = 1/' %s > %t10.mlir
// RUN: not qwen3c-opt %t10.mlir --q3-plan-weights --q3-lower-to-loops -o /dev/null 2>&1 | FileCheck %s --check-prefix=QUADS
// QUADS: error: 'q3.linear' op q3.lowering_config: quads weights (k16_q8_quads, k16_q4_quads) need dot = i8, i8_emulated, amx or amx_emulated
// RUN: sed -e 's/vector_width = 16, prefetch = 0, stage_norm = false, split_blocks = false, dot = i8/vector_width = 8, prefetch = 0, stage_norm = false, split_blocks = false, dot = i8/; s/k16_q8>/k16_q8_quads>/' %t9.mlir > %t11.mlir
// RUN: not qwen3c-opt %t11.mlir --q3-plan-weights --q3-lower-to-loops -o /dev/null 2>&1 | FileCheck %s --check-prefix=I8WIDTH
// I8WIDTH: error: 'q3.linear' op q3.lowering_config: dot = i8 needs vector_width = 16 (a block's 16 lanes)
