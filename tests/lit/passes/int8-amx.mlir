// int8 weights in the AMX family: for a prompt chunk (16 rows or more, k
// whole tiles of 32) the strategy picks dot = amx on the k16_q8 weight as on
// a k16_pairs one; decode (one row) keeps the f32 k16 tile. The lowering
// widens each work item's int8 blocks and their f16 scales into a bf16
// pairs scratch in the work item (sitofp, the scale, vcvtneps2bf16's
// fptrunc, the interleave of even and odd k) and the tiles load from it.
// (int8-amx-invalid.mlir: the other bf16 families on k16_q8.)
// RUN: qwen3c-opt %s --q3-choose-weight-layouts=weights=int8 --q3-choose-lowering-config | FileCheck %s --check-prefix=STRATEGY
// RUN: qwen3c-opt %s --q3-choose-weight-layouts=weights=int8 --q3-choose-lowering-config --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=LOWERED

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "sapphirerapids", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f,avx512bf16,amx-tile,amx-bf16">} {
  func.func @prefill(%x: tensor<32x64xf32>, %l: index) -> tensor<32x128xf32> {
    %w = q3.weight "model.layers.{layer}.self_attn.q_proj.weight" layer %l : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<32x64xf32>, tensor<128x64xbf16>
    return %y : tensor<32x128xf32>
  }
  func.func @decode(%x: tensor<1x64xf32>, %l: index) -> tensor<1x128xf32> {
    %w = q3.weight "model.layers.{layer}.self_attn.q_proj.weight" layer %l : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<1x64xf32>, tensor<128x64xbf16>
    return %y : tensor<1x128xf32>
  }
}

// STRATEGY-LABEL: func.func @prefill
// STRATEGY: q3.weight {{.*}} {q3.layout = #q3.layout<k16_q8>}
// STRATEGY: q3.lowering_config = #q3.lowering_config<tile_rows = 32, tile_blocks = 2, {{.*}}dot = amx>
// STRATEGY-LABEL: func.func @decode
// STRATEGY: q3.lowering_config = #q3.lowering_config<tile_rows = 1, {{.*}}>
// STRATEGY-NOT: dot = amx

// LOWERED-LABEL: func.func @prefill
// LOWERED: memref.view {{.*}} to memref<8x64x16xi8>
// LOWERED: memref.view {{.*}} to memref<8x2x16xf16>
// LOWERED: scf.parallel
// LOWERED: memref.alloca() : memref<2x32x32xbf16>
// LOWERED: arith.extf {{.*}} : vector<16xf16> to vector<16xf32>
// LOWERED: arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>
// LOWERED: arith.truncf {{.*}} : vector<16xf32> to vector<16xbf16>
// LOWERED: vector.interleave {{.*}} : vector<16xbf16> -> vector<32xbf16>
// LOWERED: amx.tile_load {{.*}} : memref<2x32x32xbf16> into !amx.tile<16x32xbf16>
// LOWERED: amx.tile_mulf
// LOWERED-LABEL: func.func @decode
// LOWERED-NOT: amx.

