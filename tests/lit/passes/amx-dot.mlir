// The AMX-BF16 family in the strategy and the lowering. Where the target
// has AMX-BF16 (dot=auto), bf16 weights with an even k are k16_pairs (each
// block's 16 pair rows of a 32-k step are one tdpbf16ps B tile) and
// products of at least 16 rows with k a multiple of 32 get `dot = amx`: two
// input tiles when there are 32 rows or more (40 rows: two row tiles, the
// second half padding), else one, times two weight blocks, each pair into
// its own f32 accumulator tile carried through the k loop, then stored to
// a stack buffer for the epilogue. Fewer rows, and any other k, stay f32
// FMA on the same paired weights. `dot=amx-emulated` runs the same tile
// loops by vector FMAs on any target.
// RUN: qwen3c-opt %s --q3-choose-weight-layouts --q3-choose-lowering-config | FileCheck %s --check-prefix=STRATEGY
// RUN: qwen3c-opt %s --q3-choose-weight-layouts --q3-choose-lowering-config --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=LOWERED
// RUN: qwen3c-opt %s --q3-choose-weight-layouts=dot=amx-emulated --q3-choose-lowering-config=dot=amx-emulated --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=EMULATED
// RUN: not qwen3c-opt %s --q3-set-target=cpu=x86-64-v3 --q3-choose-weight-layouts=dot=amx 2>&1 | FileCheck %s --check-prefix=NOAMX

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "sapphirerapids", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f,avx512bf16,amx-tile,amx-bf16">} {
  func.func @prefill32(%x: tensor<40x64xf32>) -> tensor<40x128xf32> {
    %w = q3.weight "w" : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<40x64xf32>, tensor<128x64xbf16>
    return %y : tensor<40x128xf32>
  }
  func.func @prefill16(%x: tensor<16x64xf32>) -> tensor<16x128xf32> {
    %w = q3.weight "w" : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<16x64xf32>, tensor<128x64xbf16>
    return %y : tensor<16x128xf32>
  }
  func.func @prefill8(%x: tensor<8x64xf32>) -> tensor<8x128xf32> {
    %w = q3.weight "w" : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<8x64xf32>, tensor<128x64xbf16>
    return %y : tensor<8x128xf32>
  }
  func.func @deep(%x: tensor<32x512xf32>) -> tensor<32x128xf32> {
    %w = q3.weight "d" : tensor<128x512xbf16>
    %y = q3.linear %x, %w : tensor<32x512xf32>, tensor<128x512xbf16>
    return %y : tensor<32x128xf32>
  }
  func.func @oddk(%x: tensor<32x48xf32>) -> tensor<32x128xf32> {
    %w = q3.weight "v" : tensor<128x48xbf16>
    %y = q3.linear %x, %w : tensor<32x48xf32>, tensor<128x48xbf16>
    return %y : tensor<32x128xf32>
  }
}
// STRATEGY-LABEL: func.func @prefill32
// STRATEGY: q3.weight "w" {q3.layout = #q3.layout<k16_pairs>}
// STRATEGY: q3.linear {{.*}} {q3.lowering_config = #q3.lowering_config<tile_rows = 32, tile_blocks = 2, vector_width = 16, prefetch = 0, stage_norm = true, split_blocks = false, dot = amx>}
// STRATEGY-LABEL: func.func @prefill16
// STRATEGY: q3.linear {{.*}} {q3.lowering_config = #q3.lowering_config<tile_rows = 16, tile_blocks = 2, vector_width = 16, prefetch = 0, stage_norm = true, split_blocks = false, dot = amx>}
// STRATEGY-LABEL: func.func @prefill8
// STRATEGY: q3.weight "w" {q3.layout = #q3.layout<k16_pairs>}
// STRATEGY: q3.linear {{.*}} {q3.lowering_config = #q3.lowering_config<tile_rows = 4, tile_blocks = 4, vector_width = 16, prefetch = 0, stage_norm = true, split_blocks = false>}
// k of 512: blocks of 256 (each block's weight tiles stay in L1 for all the row tiles).
// STRATEGY-LABEL: func.func @deep
// STRATEGY: q3.linear {{.*}} {q3.lowering_config = #q3.lowering_config<tile_rows = 32, tile_blocks = 2, vector_width = 16, prefetch = 0, stage_norm = true, split_blocks = false, dot = amx, k_block = 256>}
// STRATEGY-LABEL: func.func @oddk
// STRATEGY: q3.linear {{.*}} {q3.lowering_config = #q3.lowering_config<tile_rows = 4, tile_blocks = 4, vector_width = 16, prefetch = 0, stage_norm = true, split_blocks = false>}

// 40 rows round up to two row tiles of 32 (the rounded scratch has 64 rows,
// packed as 4 x 2 tiles of 16 x 32), and the accumulators of all 64 rows
// stay in one stack buffer.
// LOWERED-LABEL: func.func @prefill32
// LOWERED: memref.view {{.*}} to memref<4x2x16x32xbf16>
// LOWERED: scf.parallel {{.*}} step (%{{.*}})
// LOWERED: memref.alloca() : memref<64x32xf32>
// LOWERED-COUNT-4: amx.tile_zero : !amx.tile<16x16xf32>
// LOWERED: scf.for {{.*}} iter_args({{.*}}) -> (!amx.tile<16x16xf32>, !amx.tile<16x16xf32>, !amx.tile<16x16xf32>, !amx.tile<16x16xf32>)
// LOWERED-COUNT-2: amx.tile_load {{.*}} : memref<4x2x16x32xbf16> into !amx.tile<16x32xbf16>
// LOWERED-COUNT-2: amx.tile_load {{.*}} : memref<8x32x32xbf16> into !amx.tile<16x32xbf16>
// LOWERED-COUNT-4: amx.tile_mulf {{.*}} : !amx.tile<16x32xbf16>, !amx.tile<16x32xbf16>, !amx.tile<16x16xf32>
// LOWERED-COUNT-4: amx.tile_store %alloca
// LOWERED-LABEL: func.func @prefill16
// LOWERED: memref.alloca() : memref<16x32xf32>
// LOWERED-COUNT-2: amx.tile_zero
// LOWERED-COUNT-3: amx.tile_load
// LOWERED-COUNT-2: amx.tile_mulf
// LOWERED-NOT: amx.tile_mulf
// LOWERED-COUNT-2: amx.tile_store
// LOWERED-LABEL: func.func @prefill8
// LOWERED-NOT: amx.
// The first k block starts from zero tiles, the next from the buffer.
// LOWERED-LABEL: func.func @deep
// LOWERED-COUNT-4: amx.tile_zero
// LOWERED-COUNT-4: amx.tile_store
// LOWERED-COUNT-4: amx.tile_load {{.*}} : memref<32x32xf32> into !amx.tile<16x16xf32>
// LOWERED-COUNT-4: amx.tile_store
// LOWERED-LABEL: func.func @oddk
// LOWERED-NOT: amx.

// EMULATED-LABEL: func.func @prefill32
// EMULATED-NOT: amx.
// EMULATED: memref.alloca() : memref<64x32xf32>
// EMULATED: vector.fma
// EMULATED-NOT: amx.
// EMULATED-LABEL: func.func @prefill16

// NOAMX: error: dot=amx: target x86-64-v3 has no AMX-BF16 tiles (add the features +amx-tile,+amx-bf16, or use amx-emulated for the same tile loops by FMAs)
