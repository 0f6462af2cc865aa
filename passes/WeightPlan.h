//===- WeightPlan.h - where each weight sits in the packed blob -*- C++ -*-===//
#ifndef QWEN3C_PASSES_WEIGHTPLAN_H
#define QWEN3C_PASSES_WEIGHTPLAN_H

#include "dialect/Q3Dialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace q3 {

// "row" (none), "k16" or "k16_gated", as in the plan and error messages.
std::string layoutName(std::optional<WeightLayout> layout);

// One weight name pattern and its instances: offsets[layer] (or offsets[0]
// for a global weight) in bytes, -1 where a layer does not have it.
// A stacked weight (q3.concat) lists its checkpoint names in `parts`, rows in
// that order; `pattern` is then the parts joined by " + ".
struct WeightSlot {
  std::string pattern;
  std::vector<std::string> parts;
  mlir::RankedTensorType type;
  bool perLayer = false;
  // None: the checkpoint's rows; K16: Wp[n / 16][k][n % 16]; K16Gated for a
  // stacked [gate; up]: k16 with gate block j and up block j adjacent
  // (blocks 2j and 2j + 1), so one register tile holds both halves.
  std::optional<WeightLayout> layout;
  std::string layoutName() const { return q3::layoutName(layout); }
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
// On an arena slice (memref.view) that must stay where the lowering put it:
// q3-plan-arena packs the others around it (the GPU's run-time indices at 0).
inline constexpr const char *kArenaPinnedAttr = "q3.arena_pinned";

// A q3.weight read only through q3.concat stacks: it gets no slot of its
// own, it is packed as part of its stack.
bool packedInStack(mlir::Operation *weight);

} // namespace q3

#endif
