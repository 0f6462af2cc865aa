// A pinned config is checked: by the attribute's verifier (tile rows, the
// eight tile registers) and by the lowering (k a multiple of 32).
// RUN: not qwen3c-opt %s -split-input-file --q3-plan-weights --q3-lower-to-loops 2>&1 | FileCheck %s

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "sapphirerapids", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f,amx-tile,amx-bf16">} {
  func.func @rows(%x: tensor<32x64xf32>) -> tensor<32x128xf32> {
    %w = q3.weight "w" {q3.layout = #q3.layout<k16_pairs>} : tensor<128x64xbf16>
    %y = q3.linear %x, %w {q3.lowering_config = #q3.lowering_config<tile_rows = 24, tile_blocks = 2, vector_width = 16, prefetch = 0, stage_norm = true, split_blocks = false, dot = amx>} : tensor<32x64xf32>, tensor<128x64xbf16>
    return %y : tensor<32x128xf32>
  }
}
// CHECK: error: dot = amx needs tile_rows 16 or 32 (one or two input tiles), got 24

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "sapphirerapids", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f,amx-tile,amx-bf16">} {
  func.func @tiles(%x: tensor<32x64xf32>) -> tensor<32x128xf32> {
    %w = q3.weight "w" {q3.layout = #q3.layout<k16_pairs>} : tensor<128x64xbf16>
    %y = q3.linear %x, %w {q3.lowering_config = #q3.lowering_config<tile_rows = 32, tile_blocks = 4, vector_width = 16, prefetch = 0, stage_norm = true, split_blocks = false, dot = amx>} : tensor<32x64xf32>, tensor<128x64xbf16>
    return %y : tensor<32x128xf32>
  }
}
// CHECK: error: dot = amx: 2 input, 4 weight and 8 accumulator tiles exceed the 8 AMX tile registers

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "sapphirerapids", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f,amx-tile,amx-bf16">} {
  func.func @depth(%x: tensor<32x48xf32>) -> tensor<32x128xf32> {
    %w = q3.weight "w" {q3.layout = #q3.layout<k16_pairs>} : tensor<128x48xbf16>
    %y = q3.linear %x, %w {q3.lowering_config = #q3.lowering_config<tile_rows = 32, tile_blocks = 2, vector_width = 16, prefetch = 0, stage_norm = true, split_blocks = false, dot = amx>} : tensor<32x48xf32>, tensor<128x48xbf16>
    return %y : tensor<32x128xf32>
  }
}
// CHECK: error: 'q3.linear' op q3.lowering_config: dot = amx needs k a multiple of 32, got 48

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "sapphirerapids", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f,amx-tile,amx-bf16">} {
  func.func @kblock(%x: tensor<32x512xf32>) -> tensor<32x128xf32> {
    %w = q3.weight "w" {q3.layout = #q3.layout<k16_pairs>} : tensor<128x512xbf16>
    %y = q3.linear %x, %w {q3.lowering_config = #q3.lowering_config<tile_rows = 32, tile_blocks = 2, vector_width = 16, prefetch = 0, stage_norm = true, split_blocks = false, dot = amx, k_block = 96>} : tensor<32x512xf32>, tensor<128x512xbf16>
    return %y : tensor<32x128xf32>
  }
}
// CHECK: error: 'q3.linear' op q3.lowering_config: k_block = 96 does not divide k = 512

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "sapphirerapids", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f,amx-tile,amx-bf16">} {
  func.func @kblockfma(%x: tensor<32x512xf32>) -> tensor<32x128xf32> {
    %w = q3.weight "w" {q3.layout = #q3.layout<k16_pairs>} : tensor<128x512xbf16>
    %y = q3.linear %x, %w {q3.lowering_config = #q3.lowering_config<tile_rows = 4, tile_blocks = 4, vector_width = 16, prefetch = 0, stage_norm = true, split_blocks = false, dot = fma, k_block = 256>} : tensor<32x512xf32>, tensor<128x512xbf16>
    return %y : tensor<32x128xf32>
  }
}
// CHECK: error: k_block (256) needs an AMX dot and a multiple of 32
