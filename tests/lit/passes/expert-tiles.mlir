// MoE experts in register tiles: q3-choose-weight-layouts packs stacked
// expert weights [E, N, K] whose N is a multiple of 16 as k16 per expert;
// q3-choose-lowering-config gives the q3.moe_experts one config per product
// (q3.gate_up_config: a gated pair of blocks over the gate and up weights;
// q3.down_config), for the rows an expert sees: T * top_k / E when grouped
// by expert, else one. q3-lower-to-loops builds those tiles; experts whose
// rows are not whole blocks keep the checkpoint's rows and the dot kernel.
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config | FileCheck %s --check-prefix=STRATEGY
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=LOWERED
// RUN: sed 's/cpu = "znver5"/cpu = "znver4"/' %s | qwen3c-opt -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config | FileCheck %s --check-prefix=ZEN4
// ZEN4-LABEL: func.func @decode_bf16
// ZEN4: q3.moe_experts {{.*}} {q3.down_config = #q3.lowering_config<tile_rows = 1, tile_blocks = 1, {{.*}}, dot = bf16>, q3.gate_up_config = #q3.lowering_config<tile_rows = 1, tile_blocks = 2, {{.*}}, dot = bf16>}
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config=decode-dot=fma --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=DECODEFMA

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v3", vector_bits = 256, vector_registers = 16, l2_bytes = 0, features = "avx,avx2,fma">} {
  func.func @prefill(%x: tensor<64x64xf32>, %w: tensor<64x2xf32>, %e: tensor<64x2xi32>) -> tensor<64x64xf32> {
    %g = q3.weight "model.layers.0.mlp.experts.{expert}.gate_proj.weight" : tensor<8x32x64xbf16>
    %u = q3.weight "model.layers.0.mlp.experts.{expert}.up_proj.weight" : tensor<8x32x64xbf16>
    %d = q3.weight "model.layers.0.mlp.experts.{expert}.down_proj.weight" : tensor<8x64x32xbf16>
    %y = q3.moe_experts %x, %w, %e, %g, %u, %d {group_by_expert} : tensor<64x64xf32>, tensor<64x2xf32>, tensor<64x2xi32>, tensor<8x32x64xbf16>, tensor<8x32x64xbf16>, tensor<8x64x32xbf16>
    return %y : tensor<64x64xf32>
  }
}
// Grouped, 64 * 2 / 8 = 16 rows per expert: AVX2's prefill tiles, 4 rows
// (a gated pair in split passes; down 4 x 1).
// STRATEGY-COUNT-3: q3.weight {{.*}} {q3.layout = #q3.layout<k16>}
// STRATEGY: q3.moe_experts {{.*}} {group_by_expert, q3.down_config = #q3.lowering_config<tile_rows = 4, tile_blocks = 1, vector_width = 8, prefetch = 0, stage_norm = true, split_blocks = false>, q3.gate_up_config = #q3.lowering_config<tile_rows = 4, tile_blocks = 2, vector_width = 8, prefetch = 0, stage_norm = true, split_blocks = true>}
// LOWERED-LABEL: func.func @prefill
// The gather of each expert's tokens, then the gate/up tile: 4 rows read
// through the token table, two split passes of 4 rows x 2 blocks.
// LOWERED: scf.for
// LOWERED: scf.if
// LOWERED: scf.parallel
// LOWERED-COUNT-8: vector.fma {{.*}} : vector<8xf32>
// LOWERED-NOT: vector.fma
// LOWERED: scf.yield
// LOWERED: scf.parallel

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v4", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f">} {
  func.func @decode(%x: tensor<1x64xf32>, %w: tensor<1x2xf32>, %e: tensor<1x2xi32>) -> tensor<1x64xf32> {
    %g = q3.weight "model.layers.0.mlp.experts.{expert}.gate_proj.weight" : tensor<8x32x64xbf16>
    %u = q3.weight "model.layers.0.mlp.experts.{expert}.up_proj.weight" : tensor<8x32x64xbf16>
    %d = q3.weight "model.layers.0.mlp.experts.{expert}.down_proj.weight" : tensor<8x64x32xbf16>
    %y = q3.moe_experts %x, %w, %e, %g, %u, %d : tensor<1x64xf32>, tensor<1x2xf32>, tensor<1x2xi32>, tensor<8x32x64xbf16>, tensor<8x32x64xbf16>, tensor<8x64x32xbf16>
    return %y : tensor<1x64xf32>
  }
}
// Decode on AVX-512: one row, prefetched; the gate/up pair 2 blocks (the
// 32 rows of an expert's gate are 2 blocks, its pairs 4), down 4 blocks.
// STRATEGY: q3.moe_experts {{.*}} {q3.down_config = #q3.lowering_config<tile_rows = 1, tile_blocks = 4, vector_width = 16, prefetch = 64, stage_norm = false, split_blocks = false>, q3.gate_up_config = #q3.lowering_config<tile_rows = 1, tile_blocks = 4, vector_width = 16, prefetch = 64, stage_norm = false, split_blocks = false>}
// LOWERED-LABEL: func.func @decode
// LOWERED: memref.prefetch
// LOWERED-COUNT-4: vector.fma {{.*}} : vector<16xf32>
// LOWERED-NOT: vector.fma
// LOWERED: scf.yield

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v3", vector_bits = 256, vector_registers = 16, l2_bytes = 0, features = "avx,avx2,fma">} {
  func.func @decode(%x: tensor<1x64xf32>, %w: tensor<1x2xf32>, %e: tensor<1x2xi32>) -> tensor<1x64xf32> {
    %g = q3.weight "model.layers.0.mlp.experts.{expert}.gate_proj.weight" : tensor<8x24x64xbf16>
    %u = q3.weight "model.layers.0.mlp.experts.{expert}.up_proj.weight" : tensor<8x24x64xbf16>
    %d = q3.weight "model.layers.0.mlp.experts.{expert}.down_proj.weight" : tensor<8x64x24xbf16>
    %y = q3.moe_experts %x, %w, %e, %g, %u, %d : tensor<1x64xf32>, tensor<1x2xf32>, tensor<1x2xi32>, tensor<8x24x64xbf16>, tensor<8x24x64xbf16>, tensor<8x64x24xbf16>
    return %y : tensor<1x64xf32>
  }
}
// 24 rows are not whole blocks: gate and up stay rows and the experts get
// no config; nor does down, whose rows are blocks: the op is tiled all or none.
// STRATEGY-NOT: q3.layout
// STRATEGY: q3.moe_experts
// STRATEGY-NOT: q3.gate_up_config

// -----

// A prompt chunk on an AVX512-BF16 target: the experts are k16_pairs and
// both products take the chunk's vdpbf16ps family (x86vector.avx512.dot),
// their input rows rounded to bf16 first; at decode too (one token at a
// time; on Zen 4, down one block a work item and the gated pair two), unless
// decode-dot=fma keeps f32 FMA on the same paired weights.
module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "znver5", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f,avx512bw,avx512vl,avx512bf16">} {
  func.func @prefill_bf16(%x: tensor<64x64xf32>, %w: tensor<64x2xf32>, %e: tensor<64x2xi32>) -> tensor<64x64xf32> {
    %g = q3.weight "model.layers.0.mlp.experts.{expert}.gate_proj.weight" : tensor<8x32x64xbf16>
    %u = q3.weight "model.layers.0.mlp.experts.{expert}.up_proj.weight" : tensor<8x32x64xbf16>
    %d = q3.weight "model.layers.0.mlp.experts.{expert}.down_proj.weight" : tensor<8x64x32xbf16>
    %y = q3.moe_experts %x, %w, %e, %g, %u, %d {group_by_expert} : tensor<64x64xf32>, tensor<64x2xf32>, tensor<64x2xi32>, tensor<8x32x64xbf16>, tensor<8x32x64xbf16>, tensor<8x64x32xbf16>
    return %y : tensor<64x64xf32>
  }
  func.func @decode_bf16(%x: tensor<1x64xf32>, %w: tensor<1x2xf32>, %e: tensor<1x2xi32>) -> tensor<1x64xf32> {
    %g = q3.weight "model.layers.0.mlp.experts.{expert}.gate_proj.weight" : tensor<8x32x64xbf16>
    %u = q3.weight "model.layers.0.mlp.experts.{expert}.up_proj.weight" : tensor<8x32x64xbf16>
    %d = q3.weight "model.layers.0.mlp.experts.{expert}.down_proj.weight" : tensor<8x64x32xbf16>
    %y = q3.moe_experts %x, %w, %e, %g, %u, %d : tensor<1x64xf32>, tensor<1x2xf32>, tensor<1x2xi32>, tensor<8x32x64xbf16>, tensor<8x32x64xbf16>, tensor<8x64x32xbf16>
    return %y : tensor<1x64xf32>
  }
}
// STRATEGY-LABEL: func.func @prefill_bf16
// STRATEGY-COUNT-3: q3.weight {{.*}} {q3.layout = #q3.layout<k16_pairs>}
// STRATEGY: q3.moe_experts {{.*}} {group_by_expert, q3.down_config = #q3.lowering_config<{{.*}}, dot = bf16>, q3.gate_up_config = #q3.lowering_config<{{.*}}, dot = bf16>}
// STRATEGY-LABEL: func.func @decode_bf16
// STRATEGY: q3.moe_experts {{.*}} {q3.down_config = #q3.lowering_config<tile_rows = 1, tile_blocks = 4, {{.*}}, dot = bf16>, q3.gate_up_config = #q3.lowering_config<tile_rows = 1, tile_blocks = 4, {{.*}}, dot = bf16>}
// LOWERED-LABEL: func.func @prefill_bf16
// LOWERED: arith.trunci {{.*}} to vector<16xi16>
// LOWERED: x86vector.avx512.dot {{.*}} : vector<32xbf16> -> vector<16xf32>
// LOWERED-LABEL: func.func @decode_bf16
// LOWERED: x86vector.avx512.dot {{.*}} : vector<32xbf16> -> vector<16xf32>
// DECODEFMA-LABEL: func.func @decode_bf16
// DECODEFMA-NOT: x86vector.avx512.dot
// DECODEFMA: vector.fma
