// The bf16 families other than AMX read only k16_pairs weights (vdpbf16ps
// loads pairs of k straight from them): pinned on k16_q8, the lowering
// refuses it by name.
// RUN: not qwen3c-opt %s --q3-plan-weights --q3-lower-to-loops 2>&1 | FileCheck %s

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "sapphirerapids", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f,avx512bf16,amx-tile,amx-bf16">} {
  func.func @pinned(%x: tensor<32x64xf32>, %l: index) -> tensor<32x128xf32> {
    %w = q3.weight "model.layers.{layer}.self_attn.q_proj.weight" layer %l {q3.layout = #q3.layout<k16_q8>} : tensor<128x64xbf16>
    %y = q3.linear %x, %w {q3.lowering_config = #q3.lowering_config<tile_rows = 4, tile_blocks = 2, vector_width = 16, prefetch = 0, stage_norm = true, split_blocks = false, dot = bf16>} : tensor<32x64xf32>, tensor<128x64xbf16>
    return %y : tensor<32x128xf32>
  }
}
// CHECK: error: 'q3.linear' op q3.lowering_config: dot = bf16 needs k16_pairs weights
