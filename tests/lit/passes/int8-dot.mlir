// The int8 dot family in the strategy and the lowering (int8-dot): on a
// target with AVX512-VNNI (auto, or i8), a layer's int8 weight is
// #q3.layout<k16_q8_quads> (each output's four consecutive k in one 32-bit
// lane, Wq[n/16][k/4][64]) and its products dot = i8 at decode and
// prefill, in 16-lane vectors: decode 1 row x 4 blocks, prefill 4 rows x 2
// blocks (an i32 partial sum beside each f32 accumulator). The lowering
// quantises the input rows once per product (roundeven per group of 32),
// then per 4 k one 64-byte load per block, an xor with 0x80 and a vpdpbusd
// per block and row. i8-emulated is the same integers in plain vector ops
// (four strided shuffles of the 64 products), on any target; fma keeps
// k16_q8. An AVX2 target has no i8: auto gives it i8_madd
// (int8-dot-madd.mlir), and a target with neither fma.
// RUN: qwen3c-opt %s --q3-choose-weight-layouts=weights=int8 --q3-choose-lowering-config | FileCheck %s --check-prefix=STRATEGY
// Zen 4 (no software prefetch): decode streams one block a work item.
// RUN: sed 's/cpu = "[a-z0-9-]*"/cpu = "znver4"/' %s | qwen3c-opt --q3-choose-weight-layouts=weights=int8 --q3-choose-lowering-config | FileCheck %s --check-prefix=ZEN4
// ZEN4-LABEL: func.func @decode
// ZEN4: q3.lowering_config = #q3.lowering_config<tile_rows = 1, tile_blocks = 1, vector_width = 16, prefetch = 0, {{.*}}, dot = i8>
// RUN: qwen3c-opt %s --q3-choose-weight-layouts=weights=int8 --q3-choose-lowering-config --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=LOWERED
// RUN: qwen3c-opt %s --q3-choose-weight-layouts="weights=int8 int8-dot=i8-emulated" --q3-choose-lowering-config=int8-dot=i8-emulated --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=EMULATED
// RUN: qwen3c-opt %s --q3-choose-weight-layouts="weights=int8 int8-dot=fma" --q3-choose-lowering-config=int8-dot=fma | FileCheck %s --check-prefix=FMA
// RUN: sed 's/,avx512vnni//; s/x86-64-v4/x86-64-v3/' %s > %t.mlir
// RUN: sed 's/avx2,fma,f16c,avx512f,avx512bw,avx512vnni/sse4.2/; s/x86-64-v4/x86-64-v2/; s/vector_bits = 512, vector_registers = 32/vector_bits = 128, vector_registers = 16/' %s > %t.v2.mlir
// RUN: qwen3c-opt %t.v2.mlir --q3-choose-weight-layouts=weights=int8 --q3-choose-lowering-config | FileCheck %s --check-prefix=FMA
// RUN: not qwen3c-opt %t.mlir --q3-choose-weight-layouts="weights=int8 int8-dot=i8" 2>&1 | FileCheck %s --check-prefix=NO-VNNI
// RUN: not qwen3c-opt %s --q3-choose-lowering-config=int8-dot=i4 2>&1 | FileCheck %s --check-prefix=BAD
// int4: k16_q4_quads, Wq[n/16][k/8][64] (byte j of a lane: k = 8p + j low,
// 8p + 4 + j high), each load's nibbles masked and shifted into two
// vpdpbusd operands.
// RUN: qwen3c-opt %s --q3-choose-weight-layouts=weights=int4 --q3-choose-lowering-config --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=INT4

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v4", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,f16c,avx512f,avx512bw,avx512vnni">} {
  func.func @decode(%x: tensor<1x64xf32>, %l: index) -> tensor<1x128xf32> {
    %w = q3.weight "model.layers.{layer}.self_attn.q_proj.weight" layer %l : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<1x64xf32>, tensor<128x64xbf16>
    return %y : tensor<1x128xf32>
  }
  func.func @prefill(%x: tensor<8x64xf32>, %l: index) -> tensor<8x128xf32> {
    %w = q3.weight "model.layers.{layer}.self_attn.q_proj.weight" layer %l : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<8x64xf32>, tensor<128x64xbf16>
    return %y : tensor<8x128xf32>
  }
}
// STRATEGY-LABEL: func.func @decode
// STRATEGY: q3.weight {{.*}} {q3.layout = #q3.layout<k16_q8_quads>}
// STRATEGY: q3.lowering_config = #q3.lowering_config<tile_rows = 1, tile_blocks = 4, vector_width = 16, prefetch = 128, {{.*}}, dot = i8>
// STRATEGY-LABEL: func.func @prefill
// STRATEGY: q3.lowering_config = #q3.lowering_config<tile_rows = 4, tile_blocks = 2, vector_width = 16, prefetch = 0, {{.*}}, dot = i8>

// LOWERED-LABEL: func.func @decode
// LOWERED: memref.view {{.*}} to memref<8x16x64xi8>
// LOWERED: memref.view {{.*}} to memref<8x2x16xf16>
// The prologue: each group of 32 inputs rounded to int8.
// LOWERED: math.roundeven {{.*}} : vector<32xf32>
// LOWERED: arith.trunci {{.*}} : vector<32xi32> to vector<32xi8>
// LOWERED: arith.xori {{.*}} : vector<64xi8>
// LOWERED: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"{{.*}} : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// The group's epilogue: exact integers, then both scales.
// LOWERED: arith.subi {{.*}} : vector<16xi32>
// LOWERED: arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>
// LOWERED: vector.fma
// LOWERED-LABEL: func.func @prefill

// EMULATED-LABEL: func.func @decode
// EMULATED-NOT: llvm.call_intrinsic
// EMULATED: arith.extui {{.*}} : vector<64xi8> to vector<64xi32>
// EMULATED: arith.extsi {{.*}} : vector<64xi8> to vector<64xi32>
// EMULATED: vector.shuffle {{.*}} [3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59, 63] : vector<64xi32>, vector<64xi32>
// EMULATED-NOT: llvm.call_intrinsic

// FMA: q3.weight {{.*}} {q3.layout = #q3.layout<k16_q8>}
// FMA-NOT: dot = i8
// FMA-NOT: k16_q8_quads

// NO-VNNI: error: int8-dot=i8: target x86-64-v3 has no AVX512-VNNI with 512-bit vectors (add the features +avx512vnni,+avx512bw, or use i8-madd on AVX2, or i8-emulated
// BAD: error: int8-dot=i4: 'i4' is not auto, fma, i8, i8-madd or i8-emulated

// INT4-LABEL: func.func @decode
// INT4: memref.view {{.*}} to memref<8x8x64xi8>
// INT4: arith.andi {{.*}} : vector<64xi8>
// INT4: arith.shrui {{.*}} : vector<64xi8>
// INT4: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// INT4: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
