// Strategy apart from mechanism: q3-choose-lowering-config writes the
// register tile and prefetch distance of each k16 product; q3-lower-to-loops
// builds exactly that tile. A hand-written q3.lowering_config pins one.
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config | FileCheck %s --check-prefix=STRATEGY
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=LOWERED

module attributes {q3.num_layers = 1 : i64} {
  func.func @decode(%x: tensor<1x64xf32>) -> tensor<1x128xf32> {
    %w = q3.weight "w" : tensor<128x64xf32>
    %y = q3.linear %x, %w : tensor<1x64xf32>, tensor<128x64xf32>
    return %y : tensor<1x128xf32>
  }
}
// Decode: one row, 4 blocks, prefetch 64 k steps ahead.
// STRATEGY: q3.linear {{.*}} {q3.lowering_config = {prefetch = 64 : i64, tile_blocks = 4 : i64, tile_rows = 1 : i64}}
// LOWERED-LABEL: func.func @decode
// LOWERED: scf.parallel
// LOWERED: memref.prefetch
// LOWERED-COUNT-4: vector.fma
// LOWERED-NOT: vector.fma
// LOWERED: scf.yield

// -----

module attributes {q3.num_layers = 1 : i64} {
  func.func @prefill(%x: tensor<8x64xf32>) -> tensor<8x128xf32> {
    %w = q3.weight "w" : tensor<128x64xf32>
    %y = q3.linear %x, %w : tensor<8x64xf32>, tensor<128x64xf32>
    return %y : tensor<8x128xf32>
  }
}
// Prefill: 4 rows x 4 blocks, 16 accumulators, no prefetch.
// STRATEGY: q3.linear {{.*}} {q3.lowering_config = {prefetch = 0 : i64, tile_blocks = 4 : i64, tile_rows = 4 : i64}}
// LOWERED-LABEL: func.func @prefill
// LOWERED-NOT: memref.prefetch
// LOWERED-COUNT-16: vector.fma
// LOWERED-NOT: vector.fma
// LOWERED: scf.yield

// -----

module attributes {q3.num_layers = 1 : i64} {
  func.func @pinned(%x: tensor<8x64xf32>) -> tensor<8x128xf32> {
    %w = q3.weight "w" : tensor<128x64xf32>
    %y = q3.linear %x, %w {q3.lowering_config = {tile_rows = 2 : i64, tile_blocks = 2 : i64, prefetch = 16 : i64}} : tensor<8x64xf32>, tensor<128x64xf32>
    return %y : tensor<8x128xf32>
  }
}
// Pinned by hand: the strategy leaves it, the lowering builds a 2 x 2 tile
// prefetching 16 steps ahead.
// STRATEGY: q3.lowering_config = {prefetch = 16 : i64, tile_blocks = 2 : i64, tile_rows = 2 : i64}
// LOWERED-LABEL: func.func @pinned
// LOWERED: memref.prefetch
// LOWERED-COUNT-4: vector.fma
// LOWERED-NOT: vector.fma
// LOWERED: scf.yield

