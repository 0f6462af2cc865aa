// Weight-only int4 in the strategy and the lowering (weights=int4): the
// layers' k16 weights with k a multiple of 32 become #q3.layout<k16_q4>
// (nibbles Wq[n/16][k/2][n%16], k even in the low nibble, then f16 scales
// Ws[n/16][k/32][n%16] in the same slot); a global weight (the LM head)
// stays k16 unless lm-head=int4 (or int8, its own format). Decode
// prefetches 256 k steps ahead (the 2 KiB that 64 steps are in bf16); per
// byte row the tile takes the low and the high nibbles as two k steps:
// on AVX-512 each q - 8 is a vpermps lookup in a register of the 16 values
// (the index's low 4 bits: the byte itself, then shifted by 4); elsewhere
// the f32 (0x4B000000 | q) - (2^23 + 8) (second module, AVX2). Per group
// of 32 k the partial sums are scaled into the accumulators. The slot holds N * K / 2 value bytes before the
// scales.
// int8-dot=fma: the f32 family on these weights (an AVX2 target's auto is
// i8_madd; the int8 dot families are int8-dot.mlir and int8-dot-madd.mlir).
// RUN: qwen3c-opt %s --q3-choose-weight-layouts="weights=int4 int8-dot=fma" --q3-choose-lowering-config=int8-dot=fma -split-input-file | FileCheck %s --check-prefix=STRATEGY
// RUN: qwen3c-opt %s --q3-choose-weight-layouts="weights=int4 lm-head=int8 int8-dot=fma" --q3-choose-lowering-config=int8-dot=fma -split-input-file | FileCheck %s --check-prefix=HEAD8
// RUN: qwen3c-opt %s --q3-choose-weight-layouts="weights=int4 int8-dot=fma" --q3-choose-lowering-config=int8-dot=fma --q3-plan-weights --q3-lower-to-loops -split-input-file | FileCheck %s --check-prefix=LOWERED

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v4", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx,avx2,fma,f16c,avx512f">} {
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
}
// STRATEGY-LABEL: func.func @decode
// STRATEGY: q3.weight {{.*}} {q3.layout = #q3.layout<k16_q4>}
// STRATEGY: q3.lowering_config = #q3.lowering_config<tile_rows = 1, {{.*}}prefetch = 256
// STRATEGY-LABEL: func.func @head
// STRATEGY: q3.weight "lm_head.weight" {q3.layout = #q3.layout<k16>}

// HEAD8-LABEL: func.func @decode
// HEAD8: {q3.layout = #q3.layout<k16_q4>}
// HEAD8-LABEL: func.func @head
// HEAD8: q3.weight "lm_head.weight" {q3.layout = #q3.layout<k16_q8>}

// LOWERED-LABEL: func.func @decode
// LOWERED: memref.view {{.*}}[%{{.*}}][] : memref<?xi8> to memref<8x32x16xi8>
// LOWERED: %[[SCALES:.*]] = arith.addi %{{.*}}, %c4096 : index
// LOWERED: memref.view {{.*}}[%[[SCALES]]][] : memref<?xi8> to memref<8x2x16xf16>
// LOWERED: %[[BYTES:.*]] = arith.extui {{.*}} : vector<16xi8> to vector<16xi32>
// LOWERED: %[[TABLE:.*]] = arith.constant dense<[-8.000000e+00, -7.000000e+00, {{.*}}, 7.000000e+00]> : vector<16xf32>
// LOWERED: llvm.call_intrinsic "llvm.x86.avx512.permvar.sf.512"(%[[TABLE]], %[[BYTES]])
// LOWERED: %[[HIGH:.*]] = arith.shrui %[[BYTES]]
// LOWERED: llvm.call_intrinsic "llvm.x86.avx512.permvar.sf.512"(%[[TABLE]], %[[HIGH]])
// LOWERED-LABEL: func.func @head
// LOWERED-NOT: arith.extui
// LOWERED: memref<8x64x16xbf16>

// LOWERED-LABEL: func.func @avx2
// LOWERED-NOT: llvm.call_intrinsic
// LOWERED: arith.extui {{.*}} : vector<8xi8> to vector<8xi32>
// LOWERED: arith.andi
// LOWERED: arith.ori
// LOWERED: vector.bitcast {{.*}} : vector<8xi32> to vector<8xf32>
// LOWERED: arith.subf
// LOWERED: arith.shrui
// LOWERED: arith.ori
// LOWERED: arith.subf

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v3", vector_bits = 256, vector_registers = 16, l2_bytes = 0, features = "avx,avx2,fma,f16c">} {
  func.func @avx2(%x: tensor<1x64xf32>, %l: index) -> tensor<1x128xf32> {
    %w = q3.weight "model.layers.{layer}.self_attn.q_proj.weight" layer %l : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<1x64xf32>, tensor<128x64xbf16>
    return %y : tensor<1x128xf32>
  }
}
