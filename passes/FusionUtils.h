//===- FusionUtils.h - what the sibling fusions share -----------*- C++ -*-===//
#ifndef QWEN3C_PASSES_FUSIONUTILS_H
#define QWEN3C_PASSES_FUSIONUTILS_H

#include "dialect/Q3Ops.h"

#include "mlir/IR/Builders.h"

namespace q3 {

// Plain float linears whose weights can be stacked into one: same input
// features and element type, no quantisation scales.
bool stackable(llvm::ArrayRef<LinearOp> linears);

// q3.concat of `weights` (rows stacked in order) at the builder's position,
// at the fused location of the weights.
mlir::Value concatWeights(mlir::OpBuilder &b, llvm::ArrayRef<mlir::Value> weights);

} // namespace q3

#endif
