// The bf16 pair-dot family in the strategy: where the target has
// AVX512-BF16 (dot=auto), bf16 weights with an even k are packed
// #q3.layout<k16_pairs> and products of several rows get `dot = bf16`
// (vdpbf16ps: x86vector.avx512.dot, two k steps each); decode takes the
// same family (one vdpbf16ps per k pair; on Zen 4, which streams without
// software prefetch, one block per work item, ZEN4 below), or with
// `decode-dot=fma` f32 FMA on the same paired weights (even k, then odd).
// `dot=bf16-emulated` gives any target the family's arithmetic by FMAs;
// `dot=fma` keeps k16.
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config | FileCheck %s --check-prefix=STRATEGY
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=LOWERED
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config=decode-dot=fma --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=DECODEFMA
// RUN: not qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config=decode-dot=bf17 2>&1 | FileCheck %s --check-prefix=BADDECODE
// BADDECODE: error: decode-dot=bf17: 'bf17' is not auto or fma
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts=dot=fma --q3-choose-lowering-config=dot=fma | FileCheck %s --check-prefix=FMA
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts=dot=bf16-emulated --q3-choose-lowering-config=dot=bf16-emulated --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=EMULATED
// RUN: not qwen3c-opt %s -split-input-file --q3-choose-weight-layouts=dot=bf16 2>&1 | FileCheck %s --check-prefix=NOBF16
// RUN: sed 's/cpu = "znver5"/cpu = "znver4"/' %s | qwen3c-opt -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config | FileCheck %s --check-prefix=ZEN4
// ZEN4-LABEL: func.func @decode
// ZEN4: q3.lowering_config = #q3.lowering_config<tile_rows = 1, tile_blocks = 1, vector_width = 16, prefetch = 0, stage_norm = true, split_blocks = false, dot = bf16>

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "znver5", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f,avx512bf16">} {
  func.func @prefill(%x: tensor<8x64xf32>) -> tensor<8x128xf32> {
    %w = q3.weight "w" : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<8x64xf32>, tensor<128x64xbf16>
    return %y : tensor<8x128xf32>
  }
  func.func @decode(%x: tensor<1x64xf32>) -> tensor<1x128xf32> {
    %w = q3.weight "w" : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<1x64xf32>, tensor<128x64xbf16>
    return %y : tensor<1x128xf32>
  }
}
// STRATEGY-LABEL: func.func @prefill
// STRATEGY: q3.weight "w" {q3.layout = #q3.layout<k16_pairs>}
// STRATEGY: q3.linear {{.*}} {q3.lowering_config = #q3.lowering_config<tile_rows = 4, tile_blocks = 4, vector_width = 16, prefetch = 0, stage_norm = true, split_blocks = false, dot = bf16>}
// STRATEGY-LABEL: func.func @decode
// STRATEGY: q3.weight "w" {q3.layout = #q3.layout<k16_pairs>}
// STRATEGY: q3.linear {{.*}} {q3.lowering_config = #q3.lowering_config<tile_rows = 1, tile_blocks = 4, vector_width = 16, prefetch = 64, stage_norm = true, split_blocks = false, dot = bf16>}
// FMA-LABEL: func.func @prefill
// FMA: q3.weight "w" {q3.layout = #q3.layout<k16>}
// FMA-NOT: dot =
// LOWERED-LABEL: func.func @prefill
// The activations rounded to bf16 once (nearest even, in integer arithmetic),
// then the 4 x 4 tile: 16 vdpbf16ps per pair of k steps.
// LOWERED: arith.shrui
// LOWERED: arith.trunci {{.*}} to vector<16xi16>
// LOWERED: scf.parallel
// LOWERED-COUNT-16: x86vector.avx512.dot {{.*}} : vector<32xbf16> -> vector<16xf32>
// LOWERED-NOT: x86vector.avx512.dot
// LOWERED: scf.yield
// LOWERED-LABEL: func.func @decode
// LOWERED: arith.trunci {{.*}} to vector<16xi16>
// LOWERED: scf.parallel
// LOWERED: memref.prefetch
// LOWERED-COUNT-4: x86vector.avx512.dot {{.*}} : vector<32xbf16> -> vector<16xf32>
// LOWERED-NOT: x86vector.avx512.dot
// LOWERED-NOT: vector.fma
// LOWERED: scf.yield
// DECODEFMA-LABEL: func.func @decode
// DECODEFMA-NOT: x86vector.avx512.dot
// DECODEFMA: memref.prefetch
// DECODEFMA-COUNT-8: vector.fma {{.*}} : vector<16xf32>
// DECODEFMA-NOT: vector.fma
// DECODEFMA: scf.yield
// EMULATED-LABEL: func.func @prefill
// EMULATED-NOT: x86vector
// EMULATED-COUNT-32: vector.fma {{.*}} : vector<16xf32>
// EMULATED-NOT: vector.fma
// EMULATED: scf.yield

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v3", vector_bits = 256, vector_registers = 16, l2_bytes = 0, features = "avx,avx2,fma">} {
  func.func @prefill(%x: tensor<8x64xf32>) -> tensor<8x128xf32> {
    %w = q3.weight "w" : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<8x64xf32>, tensor<128x64xbf16>
    return %y : tensor<8x128xf32>
  }
}
// Without AVX512-BF16, auto is fma on k16 weights, and asking for bf16 is an
// error naming the target.
// STRATEGY: q3.weight "w" {q3.layout = #q3.layout<k16>}
// STRATEGY-NOT: dot =
// EMULATED-LABEL: func.func @prefill
// EMULATED-COUNT-16: vector.fma {{.*}} : vector<8xf32>
// EMULATED-NOT: vector.fma
// NOBF16: error: dot=bf16: target x86-64-v3 has no AVX512-BF16 (add the feature +avx512bf16, or use bf16-emulated for the same arithmetic by FMAs)
