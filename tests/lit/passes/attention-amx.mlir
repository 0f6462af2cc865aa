// AMX attention in the strategy and the lowering. Where the product family
// is AMX (dot=auto on an AMX-BF16 target, or dot=amx-emulated) and the
// function's products use it (bf16 weights), a prompt chunk of 16 rows or
// more over the key-blocked bf16 cache gets `dot = amx`:
// all the query heads of a KV head (2 here) and the most query rows, a
// power of two dividing the chunk, up to 64 rows in all (the 64-row chunk:
// 32 rows x 2 heads; the 16-row chunk: 16 x 2). Decode (one row) stays on
// the FMA kernel, and so does every chunk over an f32 cache (second module)
// or in a function of f32 products (an f32 model keeps its exact attention).
// The lowering repacks each step's 32 keys ([D][16] blocks: rows 2p and
// 2p+1 interleaved) and values (rows 2p and 2p+1 interleaved) and computes
// the scores and the weighted values as tile products, 2 x 2 accumulators
// at a time; amx-emulated runs the same loops with the products by FMAs.
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config | FileCheck %s --check-prefix=STRATEGY
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=LOWERED
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts=dot=amx-emulated --q3-choose-lowering-config=dot=amx-emulated --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=EMULATED

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "sapphirerapids", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f,avx512bf16,amx-tile,amx-bf16">} {
  func.func @attend(%x: tensor<16x64xf32>, %q64: tensor<64x4x64xf32>, %q16: tensor<16x4x64xf32>, %q1: tensor<1x4x64xf32>, %k: tensor<1x2x128x64xbf16>, %v: tensor<1x2x128x64xbf16>, %p: index) -> (tensor<16x128xf32>, tensor<64x4x64xf32>, tensor<16x4x64xf32>, tensor<1x4x64xf32>) {
    %w = q3.weight "w" : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<16x64xf32>, tensor<128x64xbf16>
    %l = arith.constant 0 : index
    %o64 = q3.attention %q64, %k, %v[%l] at %p {online_softmax, scale = 0.125 : f64} : tensor<64x4x64xf32>, tensor<1x2x128x64xbf16>
    %o16 = q3.attention %q16, %k, %v[%l] at %p {online_softmax, scale = 0.125 : f64} : tensor<16x4x64xf32>, tensor<1x2x128x64xbf16>
    %o1 = q3.attention %q1, %k, %v[%l] at %p {online_softmax, scale = 0.125 : f64} : tensor<1x4x64xf32>, tensor<1x2x128x64xbf16>
    return %y, %o64, %o16, %o1 : tensor<16x128xf32>, tensor<64x4x64xf32>, tensor<16x4x64xf32>, tensor<1x4x64xf32>
  }
}
// STRATEGY-LABEL: module attributes
// STRATEGY-SAME: q3.key_cache_block = 16
// STRATEGY: dot = amx>
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 32, dot = amx>
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 16, dot = amx>
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, kv_split = 8, value_block = 64>
// The 64-row chunk: 4 row tiles, scores in 2 groups of 2 x 2 tiles over 2
// d steps (16 products), values in 2 groups x 2 d pairs of 2 x 2 (16).
// LOWERED-LABEL: func.func @attend
// LOWERED: amx.tile_mulf
// LOWERED: memref.alloca() : memref<64x64xbf16>
// LOWERED: memref.alloca() : memref<2x32x32xbf16>
// LOWERED: memref.alloca() : memref<16x128xbf16>
// LOWERED: vector.interleave {{.*}} : vector<16xbf16> -> vector<32xbf16>
// LOWERED: vector.interleave {{.*}} : vector<16xbf16> -> vector<32xbf16>
// LOWERED-COUNT-16: amx.tile_mulf
// LOWERED: math.exp
// LOWERED-COUNT-16: amx.tile_mulf
// LOWERED-NOT: amx.tile_mulf
// LOWERED: scf.reduce
// LOWERED: amx.tile_mulf
// LOWERED-LABEL: return
// EMULATED-LABEL: func.func @attend
// EMULATED: vector.interleave
// EMULATED-NOT: amx.
// EMULATED: return

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "sapphirerapids", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f,avx512bf16,amx-tile,amx-bf16">} {
  func.func @f32cache(%x: tensor<16x64xf32>, %q: tensor<16x4x64xf32>, %k: tensor<1x2x128x64xf32>, %v: tensor<1x2x128x64xf32>, %p: index) -> (tensor<16x128xf32>, tensor<16x4x64xf32>) {
    %w = q3.weight "w" : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<16x64xf32>, tensor<128x64xbf16>
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.125 : f64} : tensor<16x4x64xf32>, tensor<1x2x128x64xf32>
    return %y, %o : tensor<16x128xf32>, tensor<16x4x64xf32>
  }
}
// STRATEGY-LABEL: func.func @f32cache
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 4, value_block = 32>
// STRATEGY: return

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "sapphirerapids", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f,avx512bf16,amx-tile,amx-bf16">} {
  func.func @f32model(%x: tensor<16x64xf32>, %q: tensor<16x4x64xf32>, %k: tensor<1x2x128x64xbf16>, %v: tensor<1x2x128x64xbf16>, %p: index) -> (tensor<16x128xf32>, tensor<16x4x64xf32>) {
    %w = q3.weight "w" : tensor<128x64xf32>
    %y = q3.linear %x, %w : tensor<16x64xf32>, tensor<128x64xf32>
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.125 : f64} : tensor<16x4x64xf32>, tensor<1x2x128x64xbf16>
    return %y, %o : tensor<16x128xf32>, tensor<16x4x64xf32>
  }
}
// STRATEGY-LABEL: func.func @f32model
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 4, value_block = 32>
// STRATEGY: return
