// Weight-only int8 in the strategy and the lowering (weights=int8): the
// layers' k16 weights with k a multiple of 32 become #q3.layout<k16_q8>
// (int8 values Wq[n/16][k][n%16], then f16 scales Ws[n/16][k/32][n%16] in
// the same slot); a global weight (the LM head) and a k that is not whole
// groups stay k16. The tile keeps a group's partial sum beside each
// accumulator, so AVX2 decode gets 2 blocks (4 + 4 ymm) instead of 4, and
// prefetches 128 k steps ahead (the 2 KiB that 64 steps are in bf16); per
// k the int8 vector is sign-extended and converted, per group of 32 k the
// partial sums are scaled into the accumulators.
// int8-dot=fma: the f32 family on these weights (an AVX2 target's auto is
// i8_madd; the int8 dot families are int8-dot.mlir and int8-dot-madd.mlir).
// RUN: qwen3c-opt %s --q3-choose-weight-layouts="weights=int8 int8-dot=fma" --q3-choose-lowering-config=int8-dot=fma | FileCheck %s --check-prefix=STRATEGY
// RUN: qwen3c-opt %s --q3-choose-weight-layouts="weights=int8 int8-dot=fma" --q3-choose-lowering-config=int8-dot=fma --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=LOWERED
// RUN: qwen3c-opt %s --q3-choose-weight-layouts --q3-choose-lowering-config | FileCheck %s --check-prefix=BF16
// RUN: not qwen3c-opt %s --q3-choose-weight-layouts=weights=int3 2>&1 | FileCheck %s --check-prefix=BAD

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v3", vector_bits = 256, vector_registers = 16, l2_bytes = 0, features = "avx,avx2,fma,f16c">} {
  func.func @decode(%x: tensor<1x64xf32>, %l: index) -> tensor<1x128xf32> {
    %w = q3.weight "model.layers.{layer}.self_attn.q_proj.weight" layer %l : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<1x64xf32>, tensor<128x64xbf16>
    return %y : tensor<1x128xf32>
  }
  func.func @head(%x: tensor<1x64xf32>) -> tensor<1x128xf32> {
    %w = q3.weight "lm_head.weight" : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<1x64xf32>, tensor<128x64xbf16>
    return %y : tensor<1x128xf32>
  }
  func.func @oddk(%x: tensor<1x48xf32>, %l: index) -> tensor<1x128xf32> {
    %w = q3.weight "model.layers.{layer}.mlp.down_proj.weight" layer %l : tensor<128x48xbf16>
    %y = q3.linear %x, %w : tensor<1x48xf32>, tensor<128x48xbf16>
    return %y : tensor<1x128xf32>
  }
}
// STRATEGY-LABEL: func.func @decode
// STRATEGY: q3.weight {{.*}} {q3.layout = #q3.layout<k16_q8>}
// STRATEGY: q3.lowering_config = #q3.lowering_config<tile_rows = 1, tile_blocks = 2, vector_width = 8, prefetch = 128
// STRATEGY-LABEL: func.func @head
// STRATEGY: q3.weight "lm_head.weight" {q3.layout = #q3.layout<k16>}
// STRATEGY-LABEL: func.func @oddk
// STRATEGY: q3.weight {{.*}} {q3.layout = #q3.layout<k16>}

// LOWERED-LABEL: func.func @decode
// LOWERED: memref.view {{.*}} to memref<8x64x16xi8>
// LOWERED: memref.view {{.*}} to memref<8x2x16xf16>
// LOWERED-COUNT-4: arith.sitofp {{.*}} : vector<8xi32> to vector<8xf32>
// LOWERED: scf.yield
// The group's partial sums (the inner loop's results), scaled into the
// accumulators.
// LOWERED-COUNT-4: vector.fma %{{[0-9]+}}#{{[0-3]}}, %{{[0-9]+}}, %arg
// LOWERED-LABEL: func.func @head
// LOWERED-NOT: arith.sitofp
// LOWERED: memref<8x64x16xbf16>

// BF16-NOT: k16_q8

// BAD: error: weights=int3: not bf16, int8 or int4
