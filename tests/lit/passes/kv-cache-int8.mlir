// The int8 KV cache (`--kv-dtype int8`, q3's i8 cache): its memref rows are
// head_dim + 4 bytes (the int8 values, then the row's f32 scale), in the
// key-blocked view [L, kv_heads, C / 16, D + 4, 16] for K.
// Writes: the row's max|x| (math.absf, a maximum reduction), q =
// roundeven(x * 127 / max|x|) as i8, the scale's 4 bytes (a vector.bitcast
// of one f32); norm_rope_write builds the rotated row in f32 scratch first.
// Reads: K as int8 widened (arith.sitofp), a key block's 16 scales as one
// vector<16xf32> from its 4 scale byte rows (vector.shuffle, vector.bitcast)
// multiplying its 16 scores; each V row widened times its scale.
// The strategy keeps the FMA kernel for an int8 cache even on an AMX
// target (the AMX attention reads bf16 tiles): no `dot = amx`.
// The row layout (a capacity that is no multiple of 16, second module):
// every row's scale is one 4-byte load at byte head_dim.
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config | FileCheck %s --check-prefix=STRATEGY
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=LOWERED

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "sapphirerapids", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f,avx512bf16,amx-tile,amx-bf16">} {
  func.func @attend(%x: tensor<16x64xf32>, %kr: tensor<16x2x64xf32>, %vr: tensor<16x2x64xf32>, %q: tensor<16x4x64xf32>, %q1: tensor<1x4x64xf32>, %k: tensor<1x2x128x64xi8>, %v: tensor<1x2x128x64xi8>, %p: index) -> (tensor<16x128xf32>, tensor<16x4x64xf32>, tensor<1x4x64xf32>, tensor<1x2x128x64xi8>, tensor<1x2x128x64xi8>) {
    %w = q3.weight "w" : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<16x64xf32>, tensor<128x64xbf16>
    %g = q3.weight "g" : tensor<64xf32>
    %l = arith.constant 0 : index
    %k2 = q3.norm_rope_write %kr, %g into %k[%l] at %p {eps = 1.0e-6 : f64, theta = 1.0e6 : f64, style = #q3.rope_style<split_halves>} : tensor<16x2x64xf32>, tensor<64xf32>, tensor<1x2x128x64xi8>
    %v2 = q3.kv_write %vr into %v[%l] at %p : tensor<16x2x64xf32>, tensor<1x2x128x64xi8>
    %o = q3.attention %q, %k2, %v2[%l] at %p {online_softmax, scale = 0.125 : f64} : tensor<16x4x64xf32>, tensor<1x2x128x64xi8>
    %o1 = q3.attention %q1, %k2, %v2[%l] at %p {online_softmax, scale = 0.125 : f64} : tensor<1x4x64xf32>, tensor<1x2x128x64xi8>
    return %y, %o, %o1, %k2, %v2 : tensor<16x128xf32>, tensor<16x4x64xf32>, tensor<1x4x64xf32>, tensor<1x2x128x64xi8>, tensor<1x2x128x64xi8>
  }
}
// STRATEGY-LABEL: module attributes
// STRATEGY-SAME: q3.key_cache_block = 16
// STRATEGY: dot = amx>
// STRATEGY-NOT: dot = amx>
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = {{[0-9]+}}, value_block = {{[0-9]+}}>
// STRATEGY-NOT: dot = amx>
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, kv_split = 8, value_block = 64>
// LOWERED-LABEL: func.func @attend
// LOWERED-SAME: memref<1x2x128x68xi8>
// LOWERED: memref.reinterpret_cast {{.*}} to memref<1x2x8x68x16xi8>
// The K rows: rotated into scratch, then quantised with their scale.
// LOWERED: math.absf
// LOWERED: vector.reduction <maximumf>
// LOWERED: math.roundeven
// LOWERED: arith.fptosi {{.*}} to vector<{{[0-9]+}}xi8>
// LOWERED: vector.bitcast {{.*}} : vector<1xf32> to vector<4xi8>
// LOWERED: vector.store {{.*}} : memref<1x2x8x68x16xi8>, vector<4xi8>
// The V rows: the same, in rows.
// LOWERED: math.roundeven
// LOWERED: vector.store {{.*}} : memref<1x2x128x68xi8>, vector<{{[0-9]+}}xi8>
// LOWERED: vector.store {{.*}} : memref<1x2x128x68xi8>, vector<4xi8>
// Attention: int8 keys widened, a block's scales as one vector.
// LOWERED: arith.sitofp {{.*}} : vector<16xi8> to vector<16xf32>
// LOWERED: vector.shuffle {{.*}} : vector<32xi8>, vector<32xi8>
// LOWERED: vector.bitcast {{.*}} : vector<64xi8> to vector<16xf32>
// LOWERED: vector.bitcast {{.*}} : vector<4xi8> to vector<1xf32>
// LOWERED-NOT: amx.tile

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v3", vector_bits = 256, vector_registers = 16, l2_bytes = 0, features = "avx2,fma">} {
  func.func @rows(%vr: tensor<1x2x64xf32>, %q1: tensor<1x4x64xf32>, %k: tensor<1x2x100x64xi8>, %v: tensor<1x2x100x64xi8>, %p: index) -> (tensor<1x4x64xf32>, tensor<1x2x100x64xi8>) {
    %l = arith.constant 0 : index
    %v2 = q3.kv_write %vr into %v[%l] at %p : tensor<1x2x64xf32>, tensor<1x2x100x64xi8>
    %o1 = q3.attention %q1, %k, %v2[%l] at %p {online_softmax, scale = 0.125 : f64} : tensor<1x4x64xf32>, tensor<1x2x100x64xi8>
    return %o1, %v2 : tensor<1x4x64xf32>, tensor<1x2x100x64xi8>
  }
}
// STRATEGY-LABEL: module attributes
// STRATEGY-NOT: q3.key_cache_block
// LOWERED-LABEL: func.func @rows
// LOWERED-SAME: memref<1x2x100x68xi8>
// LOWERED-NOT: memref.reinterpret_cast
// LOWERED: math.roundeven
// LOWERED: vector.store {{.*}} : memref<1x2x100x68xi8>, vector<4xi8>
// LOWERED: vector.load {{.*}} : memref<1x2x100x68xi8>, vector<4xi8>
// LOWERED: vector.bitcast {{.*}} : vector<4xi8> to vector<1xf32>
// LOWERED: arith.sitofp {{.*}} : vector<{{[0-9]+}}xi8> to vector<{{[0-9]+}}xf32>
