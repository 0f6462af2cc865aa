//===- CostModel.h - what each q3 op costs, read from the IR -----*- C++ -*-===//
//
// The numbers behind `--fusion-report`: for every q3 op that becomes a kernel,
// the bytes of activations it reads and writes, the weight bytes it reads and
// its FLOPs, all from operand and result types (nothing typed in). A later
// fusion shows up as fewer kernels and fewer activation bytes. Attention is
// costed at a given KV position: it reads K and V for every earlier position
// once per KV head and token, and materialises its score rows (written once,
// read twice: softmax, then the weighted sum of V).
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_PASSES_COSTMODEL_H
#define QWEN3C_PASSES_COSTMODEL_H

#include "mlir/IR/BuiltinOps.h"

#include <map>
#include <string>
#include <vector>

namespace q3 {

struct Cost {
  double kernels = 0, activationRead = 0, activationWritten = 0, weightRead = 0, flops = 0;
  Cost &operator+=(const Cost &o) {
    kernels += o.kernels, activationRead += o.activationRead, activationWritten += o.activationWritten;
    weightRead += o.weightRead, flops += o.flops;
    return *this;
  }
  Cost scaled(double f) const {
    return {kernels * f, activationRead * f, activationWritten * f, weightRead * f, flops * f};
  }
};

// The cost of one op (zero for ops that are not kernels: weights, reshapes).
Cost costOf(mlir::Operation *op, int64_t position);

// One row per layer kind (functions with q3.layer_kind) and per entry
// function's ops outside its layer loop ("head"), per token of that function.
struct CostRow {
  std::string function, kind; // kind: "dense", "moe" or "head"
  int64_t tokens = 1;         // rows the function processes per call
  int64_t layers = 1;         // instances per forward pass
  Cost perToken;
};
std::vector<CostRow> costReport(mlir::ModuleOp module, int64_t position);

// The whole forward pass per token of each entry ("decode", "prefill",
// "prefill_64", "decode_batch"): its rows (the entry and its layer functions
// ENTRY_dense_layer, ENTRY_moe_layer) times their layers.
std::map<std::string, Cost> costPerEntry(const std::vector<CostRow> &rows);

// A markdown table of costReport, plus the whole forward pass per token.
std::string renderCostReport(mlir::ModuleOp module, int64_t position);

// The whole forward pass per token of `unfused` beside `fused` (the same
// model after fusion passes), with the change in kernels and activation bytes.
std::string renderCostComparison(mlir::ModuleOp unfused, mlir::ModuleOp fused, int64_t position,
                                 const std::string &fusedName);

} // namespace q3

#endif
