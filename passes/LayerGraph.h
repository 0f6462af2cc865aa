//===- LayerGraph.h - one layer's dataflow as a Graphviz picture -*- C++ -*-===//
#ifndef QWEN3C_PASSES_LAYERGRAPH_H
#define QWEN3C_PASSES_LAYERGRAPH_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>

namespace q3 {

// Graphviz dot for the q3 ops of `fn`: one box per kernel (its op name and
// result shape), weights as notes beside the kernel that reads them
// (stacked weights list their parts), arguments and results as ovals,
// reshapes folded into the edges. `title` heads the picture.
std::string layerGraphDot(mlir::func::FuncOp fn, const std::string &title);

} // namespace q3

#endif
