// The bf16 pair family in attention, strategy and lowering. Where the
// prefill family is bf16 (dot=auto on an AVX512-BF16 target without AMX, or
// dot=bf16-emulated) and the function's products use it (or it has none), a
// prompt chunk over the key-blocked bf16 cache keeps the vector kernel's
// tile (2 heads x 4 query rows here, value passes of 32) with `dot = bf16`;
// decode (one row, bound by the cache's bytes) stays exact f32, and so does
// every chunk over an f32 cache (second module).
// The lowering rounds the item's queries into a bf16 scratch [8 rows, 32]
// and the block's weights into [8, 16]; a score step interleaves K rows d
// and d + 1 of a block (vector.interleave) for vdpbf16ps against each row's
// broadcast (q[d], q[d + 1]); a value step interleaves V rows j and j + 1.
// bf16-emulated runs the same loops with the pair products as FMAs.
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config | FileCheck %s --check-prefix=STRATEGY
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=LOWERED
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts=dot=bf16-emulated --q3-choose-lowering-config=dot=bf16-emulated --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=EMULATED

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "znver5", vector_bits = 512, vector_registers = 32, l2_bytes = 1048576, features = "avx,avx2,fma,avx512f,avx512bw,avx512vl,avx512bf16">} {
  func.func @pairs(%q: tensor<4x4x32xf32>, %q1: tensor<1x4x32xf32>, %k: tensor<1x2x64x32xbf16>, %v: tensor<1x2x64x32xbf16>, %p: index) -> (tensor<4x4x32xf32>, tensor<1x4x32xf32>) {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64} : tensor<4x4x32xf32>, tensor<1x2x64x32xbf16>
    %o1 = q3.attention %q1, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64} : tensor<1x4x32xf32>, tensor<1x2x64x32xbf16>
    return %o, %o1 : tensor<4x4x32xf32>, tensor<1x4x32xf32>
  }
}
// STRATEGY-LABEL: func.func @pairs
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 4, dot = bf16, value_block = 32>
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, kv_split = 4, value_block = 32>
// LOWERED-LABEL: func.func @pairs
// LOWERED-DAG: memref.alloca() : memref<8x16xbf16>
// LOWERED-DAG: memref.alloca() : memref<8x32xbf16>
// LOWERED: vector.interleave {{.*}} : vector<16xbf16> -> vector<32xbf16>
// LOWERED-COUNT-8: x86vector.avx512.dot {{.*}} : vector<32xbf16> -> vector<16xf32>
// LOWERED: x86vector.avx512.dot {{.*}} : vector<32xbf16> -> vector<16xf32>
// EMULATED-LABEL: func.func @pairs
// EMULATED-NOT: x86vector
// EMULATED: memref.alloca() : memref<8x32xbf16>
// EMULATED-NOT: x86vector
// EMULATED: vector.interleave {{.*}} : vector<16xbf16> -> vector<32xbf16>
// EMULATED-NOT: x86vector
// EMULATED: vector.fma

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "znver5", vector_bits = 512, vector_registers = 32, l2_bytes = 1048576, features = "avx,avx2,fma,avx512f,avx512bw,avx512vl,avx512bf16">} {
  func.func @f32cache(%q: tensor<4x4x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %p: index) -> tensor<4x4x32xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64} : tensor<4x4x32xf32>, tensor<1x2x64x32xf32>
    return %o : tensor<4x4x32xf32>
  }
}
// STRATEGY-LABEL: func.func @f32cache
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 4, value_block = 32>
// LOWERED-LABEL: func.func @f32cache
// LOWERED-NOT: x86vector
// LOWERED: return
