// A pinned q3.lowering_config the kernel cannot build is refused by name.
// RUN: not qwen3c-opt %s --q3-choose-weight-layouts --q3-plan-weights --q3-lower-to-loops -o /dev/null 2>&1 | FileCheck %s

module attributes {q3.num_layers = 1 : i64} {
  func.func @illegal(%x: tensor<1x64xf32>) -> tensor<1x128xf32> {
    %w = q3.weight "w" : tensor<128x64xf32>
    %y = q3.linear %x, %w {q3.lowering_config = {tile_rows = 1 : i64, tile_blocks = 3 : i64, prefetch = 0 : i64}} : tensor<1x64xf32>, tensor<128x64xf32>
    return %y : tensor<1x128xf32>
  }
}
// CHECK: error: 'q3.linear' op q3.lowering_config: tile_blocks = 3 does not divide every output part into whole 16-row blocks

// A tile with more accumulators than registers, and a missing field.
// RUN: sed -e 's/tile_rows = 1 : i64, tile_blocks = 3/tile_rows = 8 : i64, tile_blocks = 4/' %s > %t.mlir
// RUN: not qwen3c-opt %t.mlir --q3-choose-weight-layouts --q3-plan-weights --q3-lower-to-loops -o /dev/null 2>&1 | FileCheck %s --check-prefix=REGS
// REGS: error: 'q3.linear' op q3.lowering_config: a 8 x 4 tile needs more than 28 accumulator registers
// RUN: sed -e 's/, prefetch = 0 : i64//' %s > %t2.mlir
// RUN: not qwen3c-opt %t2.mlir --q3-choose-weight-layouts --q3-plan-weights --q3-lower-to-loops -o /dev/null 2>&1 | FileCheck %s --check-prefix=FIELD
// FIELD: error: 'q3.linear' op q3.lowering_config needs prefetch >= 0
