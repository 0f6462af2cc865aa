// A pinned AMX or bf16 attention config is checked: by the attribute's
// verifier (AMX: rows a multiple of 16 up to 64; score blocks of 16; no dot
// but the attention families) and by the lowering (a key-blocked bf16
// cache).
// RUN: not qwen3c-opt %s -split-input-file --q3-plan-weights --q3-lower-to-loops 2>&1 | FileCheck %s

module attributes {q3.num_layers = 1 : i64, q3.key_cache_block = 16 : i64} {
  func.func @rows(%q: tensor<16x4x64xf32>, %k: tensor<1x2x128x64xbf16>, %v: tensor<1x2x128x64xbf16>, %p: index) -> tensor<16x4x64xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.125 : f64, q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 4, dot = amx>} : tensor<16x4x64xf32>, tensor<1x2x128x64xbf16>
    return %o : tensor<16x4x64xf32>
  }
}
// CHECK: error: dot = amx: head_block * query_block must be a multiple of 16 up to 64 query rows, got 8

// -----

module attributes {q3.num_layers = 1 : i64, q3.key_cache_block = 16 : i64} {
  func.func @dot(%q: tensor<16x4x64xf32>, %k: tensor<1x2x128x64xbf16>, %v: tensor<1x2x128x64xbf16>, %p: index) -> tensor<16x4x64xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.125 : f64, q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 8, dot = i8>} : tensor<16x4x64xf32>, tensor<1x2x128x64xbf16>
    return %o : tensor<16x4x64xf32>
  }
}
// CHECK: error: dot = i8: attention is fma, bf16, bf16_emulated, amx or amx_emulated

// -----

module attributes {q3.num_layers = 1 : i64, q3.key_cache_block = 16 : i64} {
  func.func @cache(%q: tensor<16x4x64xf32>, %k: tensor<1x2x128x64xf32>, %v: tensor<1x2x128x64xf32>, %p: index) -> tensor<16x4x64xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.125 : f64, q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 8, dot = amx>} : tensor<16x4x64xf32>, tensor<1x2x128x64xf32>
    return %o : tensor<16x4x64xf32>
  }
}
// CHECK: error: 'q3.attention' op dot = amx needs a key-blocked bf16 cache and a head dim that is a multiple of 32

// -----

module attributes {q3.num_layers = 1 : i64, q3.key_cache_block = 16 : i64} {
  func.func @depth(%q: tensor<16x4x48xf32>, %k: tensor<1x2x128x48xbf16>, %v: tensor<1x2x128x48xbf16>, %p: index) -> tensor<16x4x48xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.125 : f64, q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 8, dot = amx_emulated>} : tensor<16x4x48xf32>, tensor<1x2x128x48xbf16>
    return %o : tensor<16x4x48xf32>
  }
}
// CHECK: error: 'q3.attention' op dot = amx_emulated needs a key-blocked bf16 cache and a head dim that is a multiple of 32

// -----

module attributes {q3.num_layers = 1 : i64, q3.key_cache_block = 16 : i64} {
  func.func @pairs(%q: tensor<16x4x64xf32>, %k: tensor<1x2x128x64xf32>, %v: tensor<1x2x128x64xf32>, %p: index) -> tensor<16x4x64xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.125 : f64, q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 4, dot = bf16_emulated, value_block = 32>} : tensor<16x4x64xf32>, tensor<1x2x128x64xf32>
    return %o : tensor<16x4x64xf32>
  }
}
// CHECK: error: 'q3.attention' op dot = bf16_emulated needs a key-blocked bf16 cache and a head dim that is a multiple of 2

// -----

module attributes {q3.num_layers = 1 : i64, q3.key_cache_block = 16 : i64} {
  func.func @pairscore(%q: tensor<16x4x64xf32>, %k: tensor<1x2x128x64xbf16>, %v: tensor<1x2x128x64xbf16>, %p: index) -> tensor<16x4x64xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.125 : f64, q3.attention_config = #q3.attention_config<head_block = 2, score_block = 8, query_block = 4, dot = bf16, value_block = 32>} : tensor<16x4x64xf32>, tensor<1x2x128x64xbf16>
    return %o : tensor<16x4x64xf32>
  }
}
// CHECK: error: dot = bf16: score_block must be 16
