//===- WeightPlan.h - where each weight sits in the packed blob -*- C++ -*-===//
#ifndef QWEN3C_PASSES_WEIGHTPLAN_H
#define QWEN3C_PASSES_WEIGHTPLAN_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace q3 {

// One weight name pattern and its instances: offsets[layer] (or offsets[0]
// for a global weight) in bytes, -1 where a layer does not have it.
struct WeightSlot {
  std::string pattern;
  mlir::RankedTensorType type;
  bool perLayer = false;
  std::string layout = "row"; // or "k16": Wp[n / 16][k][n % 16]
  std::vector<int64_t> offsets;
  int64_t bytes() const;
};

struct WeightPlan {
  int64_t numLayers = 0;
  int64_t totalBytes = 0;
  std::vector<WeightSlot> slots;

  void attach(mlir::ModuleOp module) const;              // as `q3.weight_plan`
  static std::optional<WeightPlan> read(mlir::ModuleOp module);
};

inline constexpr int64_t kWeightAlignment = 64;

} // namespace q3

#endif
