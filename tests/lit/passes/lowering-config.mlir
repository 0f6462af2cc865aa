// Strategy apart from mechanism: q3-choose-lowering-config reads the
// module's #q3.target and writes each k16 product's #q3.lowering_config;
// q3-lower-to-loops builds exactly that tile. The targets here are written by
// hand (AVX-512: 32 zmm; AVX2: 16 ymm), so the test does not depend on the
// machine it runs on. A hand-written q3.lowering_config pins a kernel.
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config | FileCheck %s --check-prefix=STRATEGY
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=LOWERED

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v4", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f">} {
  func.func @decode(%x: tensor<1x64xf32>) -> tensor<1x128xf32> {
    %w = q3.weight "w" : tensor<128x64xf32>
    %y = q3.linear %x, %w : tensor<1x64xf32>, tensor<128x64xf32>
    return %y : tensor<1x128xf32>
  }
}
// AVX-512 decode: one row, 4 blocks of one zmm each, prefetch 64 k steps ahead.
// STRATEGY: q3.weight "w" {q3.layout = #q3.layout<k16>}
// STRATEGY: q3.linear {{.*}} {q3.lowering_config = #q3.lowering_config<tile_rows = 1, tile_blocks = 4, vector_width = 16, prefetch = 64, stage_norm = false, split_blocks = false>}
// LOWERED-LABEL: func.func @decode
// LOWERED: scf.parallel
// LOWERED: memref.prefetch
// LOWERED-COUNT-4: vector.fma {{.*}} : vector<16xf32>
// LOWERED-NOT: vector.fma
// LOWERED: scf.yield

// -----

// The same decode for AMD Zen 4, whose hardware prefetchers stream faster
// alone (TargetInfo::prefetchesStreams): no software prefetch.
module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "znver4", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f">} {
  func.func @decode_zen4(%x: tensor<1x64xf32>) -> tensor<1x128xf32> {
    %w = q3.weight "w" : tensor<128x64xf32>
    %y = q3.linear %x, %w : tensor<1x64xf32>, tensor<128x64xf32>
    return %y : tensor<1x128xf32>
  }
}
// STRATEGY-LABEL: func.func @decode_zen4
// STRATEGY: q3.lowering_config = #q3.lowering_config<tile_rows = 1, tile_blocks = 4, vector_width = 16, prefetch = 0, stage_norm = false, split_blocks = false>
// LOWERED-LABEL: func.func @decode_zen4
// LOWERED-NOT: memref.prefetch
// LOWERED: scf.yield

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v4", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f">} {
  func.func @prefill(%x: tensor<8x64xf32>) -> tensor<8x128xf32> {
    %w = q3.weight "w" : tensor<128x64xf32>
    %y = q3.linear %x, %w : tensor<8x64xf32>, tensor<128x64xf32>
    return %y : tensor<8x128xf32>
  }
}
// AVX-512 prefill: 4 rows x 4 blocks, 16 zmm accumulators, no prefetch.
// STRATEGY: q3.lowering_config = #q3.lowering_config<tile_rows = 4, tile_blocks = 4, vector_width = 16, prefetch = 0, stage_norm = true, split_blocks = false>
// LOWERED-LABEL: func.func @prefill
// LOWERED-NOT: memref.prefetch
// LOWERED-COUNT-16: vector.fma {{.*}} : vector<16xf32>
// LOWERED-NOT: vector.fma
// LOWERED: scf.yield

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v3", vector_bits = 256, vector_registers = 16, l2_bytes = 0, features = "avx,avx2,fma">} {
  func.func @prefill_avx2(%x: tensor<8x64xf32>) -> tensor<8x128xf32> {
    %w = q3.weight "w" : tensor<128x64xf32>
    %y = q3.linear %x, %w : tensor<8x64xf32>, tensor<128x64xf32>
    return %y : tensor<8x128xf32>
  }
}
// AVX2 prefill: 8-lane vectors (a block is two ymm), 4 rows x 1 block: 8
// accumulators + 4 broadcasts + a weight vector of the 16 ymm registers.
// STRATEGY: q3.lowering_config = #q3.lowering_config<tile_rows = 4, tile_blocks = 1, vector_width = 8, prefetch = 0, stage_norm = true, split_blocks = false>
// LOWERED-LABEL: func.func @prefill_avx2
// LOWERED-COUNT-8: vector.fma {{.*}} : vector<8xf32>
// LOWERED-NOT: vector.fma
// LOWERED: scf.yield

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v3", vector_bits = 256, vector_registers = 16, l2_bytes = 0, features = "avx,avx2,fma">} {
  func.func @decode_avx2(%x: tensor<1x64xf32>) -> tensor<1x128xf32> {
    %w = q3.weight "w" : tensor<128x64xf32>
    %y = q3.linear %x, %w : tensor<1x64xf32>, tensor<128x64xf32>
    return %y : tensor<1x128xf32>
  }
}
// AVX2 decode: one row, 4 blocks of two ymm each.
// STRATEGY: q3.lowering_config = #q3.lowering_config<tile_rows = 1, tile_blocks = 4, vector_width = 8, prefetch = 64, stage_norm = false, split_blocks = false>
// LOWERED-LABEL: func.func @decode_avx2
// LOWERED-COUNT-8: vector.fma {{.*}} : vector<8xf32>
// LOWERED-NOT: vector.fma
// LOWERED: scf.yield

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v4", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f">} {
  func.func @pinned(%x: tensor<8x64xf32>) -> tensor<8x128xf32> {
    %w = q3.weight "w" : tensor<128x64xf32>
    %y = q3.linear %x, %w {q3.lowering_config = #q3.lowering_config<tile_rows = 2, tile_blocks = 2, vector_width = 8, prefetch = 16, stage_norm = false, split_blocks = false>} : tensor<8x64xf32>, tensor<128x64xf32>
    return %y : tensor<8x128xf32>
  }
}
// Pinned by hand: the strategy leaves it, the lowering builds a 2 x 2 tile
// of 8-lane vectors prefetching 16 steps ahead.
// STRATEGY: q3.lowering_config = #q3.lowering_config<tile_rows = 2, tile_blocks = 2, vector_width = 8, prefetch = 16, stage_norm = false, split_blocks = false>
// LOWERED-LABEL: func.func @pinned
// LOWERED: memref.prefetch
// LOWERED-COUNT-8: vector.fma {{.*}} : vector<8xf32>
// LOWERED-NOT: vector.fma
// LOWERED: scf.yield

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v3", vector_bits = 256, vector_registers = 16, l2_bytes = 0, features = "avx,avx2,fma">} {
  func.func @split(%x: tensor<8x64xf32>) -> tensor<8x128xf32> {
    %w = q3.weight "w" : tensor<128x64xf32>
    %y = q3.linear %x, %w {q3.lowering_config = #q3.lowering_config<tile_rows = 2, tile_blocks = 2, vector_width = 8, prefetch = 0, stage_norm = false, split_blocks = true>} : tensor<8x64xf32>, tensor<128x64xf32>
    return %y : tensor<8x128xf32>
  }
}
// Split passes: each 16-output block's two 8-lane vectors in separate k
// loops, 2 rows x 2 blocks = 4 accumulators each.
// STRATEGY: split_blocks = true>
// LOWERED-LABEL: func.func @split
// LOWERED-COUNT-4: vector.fma {{.*}} : vector<8xf32>
// LOWERED: scf.yield
// LOWERED-COUNT-4: vector.fma {{.*}} : vector<8xf32>
// LOWERED: scf.yield
// LOWERED-NOT: vector.fma

// -----

module attributes {q3.num_layers = 1 : i64, q3.key_cache_block = 0 : i64, q3.target = #q3.target<cpu = "x86-64-v3", vector_bits = 256, vector_registers = 16, l2_bytes = 0, features = "avx,avx2,fma">} {
  func.func @attend(%q: tensor<1x4x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %p: index) -> tensor<1x4x32xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64} : tensor<1x4x32xf32>, tensor<1x2x64x32xf32>
    %o2 = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64, q3.attention_config = #q3.attention_config<head_block = 1, score_block = 8>} : tensor<1x4x32xf32>, tensor<1x2x64x32xf32>
    %s = q3.add %o, %o2 : tensor<1x4x32xf32>
    return %s : tensor<1x4x32xf32>
  }
}
// Attention over row keys (q3.key_cache_block = 0 pinned: the strategy keeps
// it): both query heads of a KV head in one work item (each K/V row read once
// for them), score blocks of 16 positions; a pinned config with one head per
// item and blocks of 8 is kept and built.
// STRATEGY-LABEL: func.func @attend
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16>
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 1, score_block = 8>
// LOWERED-LABEL: func.func @attend
// LOWERED: scf.for {{.*}} step %c16
// LOWERED: vector<16xf32>
// LOWERED: scf.for {{.*}} step %c8
// LOWERED: vector<8xf32>

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v3", vector_bits = 256, vector_registers = 16, l2_bytes = 0, features = "avx,avx2,fma">} {
  func.func @blocked(%q: tensor<4x4x32xf32>, %q1: tensor<1x4x32xf32>, %k: tensor<1x2x64x32xbf16>, %v: tensor<1x2x64x32xbf16>, %p: index) -> (tensor<4x4x32xf32>, tensor<1x4x32xf32>) {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64} : tensor<4x4x32xf32>, tensor<1x2x64x32xbf16>
    %o1 = q3.attention %q1, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64} : tensor<1x4x32xf32>, tensor<1x2x64x32xbf16>
    return %o, %o1 : tensor<4x4x32xf32>, tensor<1x4x32xf32>
  }
}
// Every attention online and the capacity a multiple of 16: the strategy
// blocks the K cache. AVX2 (16 ymm, two per 16-lane accumulator): 2 heads x
// 2 query rows of a 4-row chunk per work item, decode 2 heads x 1 row in 4
// key ranges (attention-kv-split.mlir). The
// lowering views the keys as [1, 2, 64 / 16, 32, 16]; a block's scores are
// broadcast-FMAs on one 16-key vector per d (8 d per loop step), four rows
// at once for the chunk; the weighted values are summed value_block = 16
// output elements at a time (the widest pass whose 4 row accumulators and a
// V vector fit the 16 registers; decode's 2 rows take 32).
// STRATEGY-LABEL: module attributes
// STRATEGY-SAME: q3.key_cache_block = 16
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 2, value_block = 16>
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, kv_split = 4, value_block = 32>
// LOWERED-LABEL: func.func @blocked
// LOWERED: memref.reinterpret_cast {{.*}} to memref<1x2x4x32x16xbf16>
// LOWERED: memref.alloca() : memref<4x32xf32>
// LOWERED: scf.for {{.*}} step %c8
// LOWERED-COUNT-4: vector.fma {{.*}} : vector<16xf32>
// LOWERED: memref.alloca() : memref<2x32xf32>

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v3", vector_bits = 256, vector_registers = 16, l2_bytes = 0, features = "avx,avx2,fma">} {
  func.func @tiles(%q: tensor<8x4x32xf32>, %k: tensor<1x2x64x32xbf16>, %v: tensor<1x2x64x32xbf16>, %p: index) -> tensor<8x4x32xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64, q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 2, value_block = 16, query_tiles = 2>} : tensor<8x4x32xf32>, tensor<1x2x64x32xbf16>
    return %o : tensor<8x4x32xf32>
  }
}
// A pinned query_tiles = 2 is kept (the strategy takes tiles only where
// enough work items remain: a long prompt, attention-kv-split.mlir). A
// work item is 2 register tiles of 2 rows x 2 heads: 8 / 4 query rows x 2
// KV heads = 4 items, each with 8 state rows; the tiles take each key block
// in turn (scf.if: those that see it), so it streams from memory once per
// item and the second tile finds it in L1.
// STRATEGY-LABEL: func.func @tiles
// STRATEGY: query_block = 2, value_block = 16, query_tiles = 2>
// LOWERED-LABEL: func.func @tiles
// LOWERED: scf.parallel {{.*}} to (%c4)
// LOWERED: memref.alloca() : memref<8x32xf32>
// LOWERED: scf.for
// LOWERED: scf.for {{.*}} to %c2
// LOWERED: scf.if
// LOWERED: vector.load {{.*}} : memref<1x2x4x32x16xbf16>, vector<16xbf16>
