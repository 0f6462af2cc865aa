// The int8 dot on AVX2 (int8-dot: auto or i8-madd on a target without
// AVX512-VNNI): the same k16_q8_quads weights and int8 activations as `i8`,
// each 16-output block read in two 256-bit halves (vector_width = 8). Per 4 k
// and half: |q_w| (vpabsb), q_x with q_w's sign (vpsignb), vpmaddubsw into
// i16 pairs, vpmaddwd with ones into i32; no offset taken off (the signed
// product is exact). The tile fits AVX2's 16 ymm registers with an i32
// partial beside each f32 accumulator: decode 1 row x 2 blocks, prefill 4
// rows x 1 block in split passes over the halves.
// RUN: qwen3c-opt %s --q3-choose-weight-layouts=weights=int8 --q3-choose-lowering-config | FileCheck %s --check-prefix=STRATEGY
// RUN: qwen3c-opt %s --q3-choose-weight-layouts=weights=int8 --q3-choose-lowering-config --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=LOWERED
// int4: the nibbles (already unsigned) against q_x, the two vpmaddubsw of a
// load added in i16 (2 * 2 * 15 * 127 < 2^15) before one vpmaddwd, and the
// group's 8 * sum(q_x) taken off.
// RUN: qwen3c-opt %s --q3-choose-weight-layouts=weights=int4 --q3-choose-lowering-config --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=INT4
// A target without AVX2 has no i8-madd; a 16-lane config for it is refused.
// RUN: sed 's/avx2,//; s/x86-64-v3/x86-64-v2/' %s > %t.mlir
// RUN: not qwen3c-opt %t.mlir --q3-choose-weight-layouts="weights=int8 int8-dot=i8-madd" 2>&1 | FileCheck %s --check-prefix=NO-AVX2
// RUN: qwen3c-opt %s --q3-choose-weight-layouts=weights=int8 --q3-choose-lowering-config | sed 's/vector_width = 8/vector_width = 16/' | not qwen3c-opt --q3-plan-weights --q3-lower-to-loops 2>&1 | FileCheck %s --check-prefix=WIDTH

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v3", vector_bits = 256, vector_registers = 16, l2_bytes = 0, features = "avx2,fma,f16c">} {
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
// STRATEGY: q3.lowering_config = #q3.lowering_config<tile_rows = 1, tile_blocks = 2, vector_width = 8, prefetch = 128, {{.*}}split_blocks = false, dot = i8_madd>
// STRATEGY-LABEL: func.func @prefill
// STRATEGY: q3.lowering_config = #q3.lowering_config<tile_rows = 4, tile_blocks = 1, vector_width = 8, prefetch = 0, {{.*}}split_blocks = true, dot = i8_madd>

// LOWERED-LABEL: func.func @decode
// LOWERED: memref.view {{.*}} to memref<8x16x64xi8>
// LOWERED: math.roundeven {{.*}} : vector<32xf32>
// LOWERED: vector.load {{.*}} : memref<8x16x64xi8{{.*}}>, vector<32xi8>
// LOWERED: math.absi {{.*}} : vector<32xi8>
// LOWERED: llvm.call_intrinsic "llvm.x86.avx2.psign.b"{{.*}} : (vector<32xi8>, vector<32xi8>) -> vector<32xi8>
// LOWERED: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"{{.*}} : (vector<32xi8>, vector<32xi8>) -> vector<16xi16>
// LOWERED: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"{{.*}} : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// LOWERED-NOT: arith.xori
// LOWERED-NOT: arith.subi {{.*}} : vector<8xi32>
// LOWERED: arith.sitofp {{.*}} : vector<8xi32> to vector<8xf32>
// LOWERED: vector.fma {{.*}} : vector<8xf32>
// LOWERED-LABEL: func.func @prefill

// INT4-LABEL: func.func @decode
// INT4: memref.view {{.*}} to memref<8x8x64xi8>
// INT4: arith.andi {{.*}} : vector<32xi8>
// INT4: arith.shrui {{.*}} : vector<32xi8>
// INT4: "llvm.x86.avx2.pmadd.ub.sw"
// INT4: "llvm.x86.avx2.pmadd.ub.sw"
// INT4: arith.addi {{.*}} : vector<16xi16>
// INT4: "llvm.x86.avx2.pmadd.wd"
// INT4: arith.subi {{.*}} : vector<8xi32>

// NO-AVX2: error: int8-dot=i8-madd: target x86-64-v2 has no AVX2 (add the feature +avx2, or use i8-emulated
// WIDTH: dot = i8_madd needs vector_width = 8 (a block's two 256-bit halves)
