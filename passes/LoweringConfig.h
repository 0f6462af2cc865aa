//===- LoweringConfig.h - tile sizes a kernel is generated with -*- C++ -*-===//
//
// Strategy apart from mechanism: q3-choose-lowering-config (the strategy)
// writes `q3.lowering_config` on each product, q3-lower-to-loops and
// KernelEmitter (the mechanism) read it. A lit test pins a configuration by
// writing the attribute by hand; the mechanism checks that it is legal.
//
//   q3.lowering_config = {tile_rows = 4, tile_blocks = 4, prefetch = 64}
//
// tile_rows: input rows per register tile; tile_blocks: 16-output blocks per
// tile (tile_rows x tile_blocks zmm accumulators); prefetch: how many k steps
// (of 64 bytes of f32 weights) ahead each weight block is prefetched, 0 off.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_PASSES_LOWERINGCONFIG_H
#define QWEN3C_PASSES_LOWERINGCONFIG_H

#include "mlir/IR/Operation.h"

#include <cstdint>
#include <string>

namespace q3 {

struct LinearTiling {
  int64_t rows = 1, blocks = 1, prefetch = 0;
};

// Products the configuration applies to: q3.linear and the fused linears,
// on k16-packed weights (`layout` of the weight: "k16" or "k16-gated").
bool isTiledProduct(mlir::Operation *op);

// The strategy for the AVX-512 CPU target: 4 x 4 tiles (16 accumulators, 4
// broadcasts, 1 weight vector: 21 of 32 zmm) where the shape allows; one row
// at decode, each block prefetched 64 k steps ahead (a k step reads 16
// weights: 2 KiB ahead in bf16, 4 KiB in f32; tuned on the 0.6B in bf16).
LinearTiling chooseLinearTiling(mlir::Operation *op);

// The tiling `op` is lowered with: its q3.lowering_config if present, else
// chooseLinearTiling. Sets `error` when a pinned configuration is illegal
// (blocks not dividing every output part, odd blocks for a gated weight,
// more than 28 accumulators, a missing or non-positive field).
LinearTiling linearTilingOf(mlir::Operation *op, std::string &error);

// Whether a norm folded into a k16 product over `rows` input rows is staged:
// the prologue writes the normalised rows once (as q3.rms_norm would) and
// the tile reads them. With one row (decode) the norm is applied on load
// instead; with several, a per-k multiply in the compute-bound tile cost
// ~20% (0.6B, pp256). KernelEmitter builds it, LowerToLoops gives it
// scratch, CostModel counts its bytes.
inline bool stagesFoldedNorm(int64_t rows) { return rows > 1; }

// The attribute for `t` (what the strategy writes).
mlir::DictionaryAttr toAttr(mlir::MLIRContext *ctx, const LinearTiling &t);

} // namespace q3

#endif
