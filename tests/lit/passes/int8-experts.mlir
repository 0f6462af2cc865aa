// Quantised MoE experts: q3-choose-weight-layouts (weights=int8 / int4)
// stores a layer's stacked experts [E, N, K] (k16 per expert) as
// k16_q8 / k16_q4, each expert's matrix quantised per output and group of
// 32 k; q3-plan-weights sizes the slot as every expert's values, then every
// expert's f16 scales; q3-lower-to-loops views both with the expert index
// first and the tile widens the int8 (int4: nibble) vectors and scales each
// group's partial sums, gate and up each by their own scales.
// int8-dot=fma: the f32 family on these weights (an AVX2 target's auto is
// i8_madd; the int8 dot families are int8-dot.mlir and int8-dot-madd.mlir).
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts="weights=int8 int8-dot=fma" --q3-choose-lowering-config=int8-dot=fma | FileCheck %s --check-prefix=INT8
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts="weights=int4 int8-dot=fma" --q3-choose-lowering-config=int8-dot=fma | FileCheck %s --check-prefix=INT4
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts="weights=int8 int8-dot=fma" --q3-choose-lowering-config=int8-dot=fma --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=LOWERED
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts="weights=int8 int8-dot=fma" --q3-choose-lowering-config=int8-dot=fma --q3-plan-weights | FileCheck %s --check-prefix=PLAN

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v3", vector_bits = 256, vector_registers = 16, l2_bytes = 0, features = "avx,avx2,fma">} {
  func.func @decode(%x: tensor<1x64xf32>, %w: tensor<1x2xf32>, %e: tensor<1x2xi32>, %l: index) -> tensor<1x64xf32> {
    %g = q3.weight "model.layers.{layer}.mlp.experts.{expert}.gate_proj.weight" layer %l : tensor<8x32x64xbf16>
    %u = q3.weight "model.layers.{layer}.mlp.experts.{expert}.up_proj.weight" layer %l : tensor<8x32x64xbf16>
    %d = q3.weight "model.layers.{layer}.mlp.experts.{expert}.down_proj.weight" layer %l : tensor<8x64x32xbf16>
    %y = q3.moe_experts %x, %w, %e, %g, %u, %d : tensor<1x64xf32>, tensor<1x2xf32>, tensor<1x2xi32>, tensor<8x32x64xbf16>, tensor<8x32x64xbf16>, tensor<8x64x32xbf16>
    return %y : tensor<1x64xf32>
  }
}
// INT8-COUNT-3: q3.weight {{.*}} {q3.layout = #q3.layout<k16_q8>}
// INT4-COUNT-3: q3.weight {{.*}} {q3.layout = #q3.layout<k16_q4>}
// 8 experts x 32 x 64 int8 values, then 8 x 32 x 2 f16 scales: 17408 bytes
// a weight (gate, up, down alike).
// PLAN: q3.weight_bytes = 52224
// PLAN-SAME: {layout = "k16_q8", name = "model.layers.{layer}.mlp.experts.{expert}.gate_proj.weight", offsets = array<i64: 0>
// PLAN-SAME: {layout = "k16_q8", name = "model.layers.{layer}.mlp.experts.{expert}.up_proj.weight", offsets = array<i64: 17408>
// PLAN-SAME: {layout = "k16_q8", name = "model.layers.{layer}.mlp.experts.{expert}.down_proj.weight", offsets = array<i64: 34816>
// LOWERED-LABEL: func.func @decode
// LOWERED: memref.view {{.*}} to memref<8x2x64x16xi8>
// LOWERED: memref.view {{.*}} to memref<8x2x2x16xf16>
// LOWERED: memref.view {{.*}} to memref<8x4x32x16xi8>
// LOWERED: memref.view {{.*}} to memref<8x4x1x16xf16>
// LOWERED: arith.extsi {{.*}} : vector<8xi8> to vector<8xi32>

// -----

// Experts whose k is not whole groups of 32 (down here: k = 24) keep
// their k16 bf16 form; gate and up (k = 64) are quantised.
module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v3", vector_bits = 256, vector_registers = 16, l2_bytes = 0, features = "avx,avx2,fma">} {
  func.func @decode(%x: tensor<1x64xf32>, %w: tensor<1x2xf32>, %e: tensor<1x2xi32>, %l: index) -> tensor<1x64xf32> {
    %g = q3.weight "model.layers.{layer}.mlp.experts.{expert}.gate_proj.weight" layer %l : tensor<8x48x64xbf16>
    %u = q3.weight "model.layers.{layer}.mlp.experts.{expert}.up_proj.weight" layer %l : tensor<8x48x64xbf16>
    %d = q3.weight "model.layers.{layer}.mlp.experts.{expert}.down_proj.weight" layer %l : tensor<8x64x48xbf16>
    %y = q3.moe_experts %x, %w, %e, %g, %u, %d : tensor<1x64xf32>, tensor<1x2xf32>, tensor<1x2xi32>, tensor<8x48x64xbf16>, tensor<8x48x64xbf16>, tensor<8x64x48xbf16>
    return %y : tensor<1x64xf32>
  }
}
// INT8-COUNT-2: q3.weight {{.*}} {q3.layout = #q3.layout<k16_q8>}
// INT8: q3.weight {{.*}}down_proj{{.*}} {q3.layout = #q3.layout<k16>}
