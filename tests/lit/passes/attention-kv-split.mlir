// Split-KV decode attention (flash-decoding, #q3.attention_config's kv_split).
// The strategy: one query row over a key-blocked cache takes the fewest key
// ranges (a power of two) that give at least 32 work items, and no more
// ranges than the cache has key blocks. The 0.6B's shape (8 KV heads, 2
// query heads each, one work item per KV head on AVX2): 8 items x 4 ranges.
// 2 KV heads over a 64-position cache: 4 blocks, so 4 ranges (not 16).
// Prompt chunks are not split (their rows are the parallel work).
// The lowering: one parallel loop over items x ranges, each range's blocks
// nBlocks * s / 4 .. nBlocks * (s + 1) / 4 leaving its state in a
// [items * 4, head_block, D + 2] arena scratch, then a parallel loop over
// the items that combines the ranges (exp(m_s - m) weights).
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config | FileCheck %s --check-prefix=STRATEGY
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=LOWERED

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v3", vector_bits = 256, vector_registers = 16, l2_bytes = 0, features = "avx,avx2,fma">} {
  func.func @decode(%q1: tensor<1x16x128xf32>, %q16: tensor<16x16x128xf32>, %k: tensor<1x8x4096x128xbf16>, %v: tensor<1x8x4096x128xbf16>, %p: index) -> (tensor<1x16x128xf32>, tensor<16x16x128xf32>) {
    %l = arith.constant 0 : index
    %o1 = q3.attention %q1, %k, %v[%l] at %p {online_softmax, scale = 0.08838834764831845 : f64} : tensor<1x16x128xf32>, tensor<1x8x4096x128xbf16>
    %o16 = q3.attention %q16, %k, %v[%l] at %p {online_softmax, scale = 0.08838834764831845 : f64} : tensor<16x16x128xf32>, tensor<1x8x4096x128xbf16>
    return %o1, %o16 : tensor<1x16x128xf32>, tensor<16x16x128xf32>
  }
}
// STRATEGY-LABEL: func.func @decode
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, kv_split = 4, value_block = 32>
// STRATEGY-NOT: kv_split
// STRATEGY: query_block = 2, value_block = 16, query_tiles = 2>
// STRATEGY-NOT: kv_split
// STRATEGY: return
// LOWERED-LABEL: func.func @decode
// LOWERED: memref.view {{.*}} to memref<32x2x130xf32>
// LOWERED: scf.parallel {{.*}} to (%c32)
// LOWERED: arith.remui {{.*}}, %c4
// LOWERED: scf.parallel {{.*}} to (%c8)
// LOWERED: math.exp

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v3", vector_bits = 256, vector_registers = 16, l2_bytes = 0, features = "avx,avx2,fma">} {
  func.func @small(%q1: tensor<1x4x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %p: index) -> tensor<1x4x32xf32> {
    %l = arith.constant 0 : index
    %o1 = q3.attention %q1, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64} : tensor<1x4x32xf32>, tensor<1x2x64x32xf32>
    return %o1 : tensor<1x4x32xf32>
  }
}
// STRATEGY-LABEL: func.func @small
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, kv_split = 4, value_block = 32>
