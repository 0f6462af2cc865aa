//===- PlanWeights.cpp - q3-plan-weights ------------------------------------===//
#include "dialect/Q3Ops.h"
#include "passes/Passes.h"
#include "passes/WeightPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <map>
#include <set>

namespace q3 {
#define GEN_PASS_DEF_PLANWEIGHTS
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

struct PlanWeightsPass : impl::PlanWeightsBase<PlanWeightsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto layersAttr = module->getAttrOfType<IntegerAttr>("q3.num_layers");
    auto sparseAttr = module->getAttrOfType<DenseBoolArrayAttr>("q3.sparse_layers");
    if (!layersAttr) {
      module.emitError("q3-plan-weights needs the module attribute q3.num_layers");
      return signalPassFailure();
    }
    WeightPlan plan;
    plan.numLayers = layersAttr.getInt();
    std::map<std::string, size_t> slotOf;
    std::map<size_t, std::set<std::string>> kindsOf; // layer kinds using a slot
    bool failedType = false;
    module.walk([&](Operation *op) {
      auto w = llvm::dyn_cast<WeightOp>(op);
      auto concat = llvm::dyn_cast<ConcatOp>(op);
      if (!w && !concat) return;
      // A weight read only through a stack is packed as part of that stack.
      if (w && packedInStack(w)) return;
      std::string pattern;
      std::vector<std::string> parts;
      bool perLayer = false;
      if (w) {
        pattern = w.getName().str();
        perLayer = w.getLayer() != nullptr;
      } else {
        Value layer;
        for (auto [i, in] : llvm::enumerate(concat.getInputs())) {
          auto part = in.getDefiningOp<WeightOp>();
          if (!part || (i > 0 && part.getLayer() != layer)) {
            concat.emitOpError("can only stack q3.weight results of one layer");
            failedType = true;
            return;
          }
          layer = part.getLayer();
          parts.push_back(part.getName().str());
          pattern += (i ? " + " : "") + parts.back();
        }
        perLayer = layer != nullptr;
      }
      Type type = op->getResult(0).getType();
      auto layoutAttr = op->getAttrOfType<WeightLayoutAttr>("q3.layout");
      std::optional<WeightLayout> layout;
      if (layoutAttr) layout = layoutAttr.getValue();
      auto [it, inserted] = slotOf.emplace(pattern, plan.slots.size());
      if (inserted) {
        WeightSlot s;
        s.pattern = pattern;
        s.parts = parts;
        s.type = llvm::cast<RankedTensorType>(type);
        s.perLayer = perLayer;
        s.layout = layout;
        plan.slots.push_back(s);
      } else if (plan.slots[it->second].layout != layout) {
        op->emitOpError("weight '") << pattern << "' is wanted in two layouts: "
                                    << plan.slots[it->second].layoutName() << " and " << layoutName(layout);
        failedType = true;
      } else if (plan.slots[it->second].type != type) {
        op->emitOpError("weight '") << pattern << "' is used with two types: "
                                    << plan.slots[it->second].type << " and " << type;
        failedType = true;
      }
      auto fn = op->getParentOfType<func::FuncOp>();
      auto kind = fn ? fn->getAttrOfType<StringAttr>("q3.layer_kind") : StringAttr();
      kindsOf[it->second].insert(kind ? kind.str() : "any");
      op->setAttr("q3.slot", IntegerAttr::get(IntegerType::get(&getContext(), 64), int64_t(it->second)));
    });
    if (failedType) return signalPassFailure();

    auto layerHas = [&](size_t slot, int64_t layer) {
      const auto &kinds = kindsOf[slot];
      if (kinds.count("any")) return true;
      bool sparse = sparseAttr && layer < int64_t(sparseAttr.size()) && sparseAttr[layer];
      return kinds.count(sparse ? "moe" : "dense") > 0;
    };
    int64_t offset = 0;
    for (size_t i = 0; i < plan.slots.size(); ++i) {
      WeightSlot &s = plan.slots[i];
      int64_t instances = s.perLayer ? plan.numLayers : 1;
      for (int64_t l = 0; l < instances; ++l) {
        if (s.perLayer && !layerHas(i, l)) {
          s.offsets.push_back(-1);
          continue;
        }
        offset = (offset + kWeightAlignment - 1) / kWeightAlignment * kWeightAlignment;
        s.offsets.push_back(offset);
        offset += s.bytes();
      }
    }
    plan.totalBytes = offset;
    plan.attach(module);
  }
};

} // namespace
} // namespace q3
