//===- WeightPlan.cpp -------------------------------------------------------===//
#include "passes/WeightPlan.h"
#include "dialect/Q3Ops.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;

namespace q3 {

std::string layoutName(std::optional<WeightLayout> layout) {
  return layout ? stringifyWeightLayout(*layout).str() : "row";
}


bool packedInStack(Operation *weight) {
  return !weight->use_empty() &&
         llvm::all_of(weight->getUsers(), [](Operation *u) { return llvm::isa<ConcatOp>(u); });
}

int64_t WeightSlot::bytes() const {
  if (layout && isQuantisedLayout(*layout)) { // int8 values (int4: two a byte), then an f16 scale per output and group
    const int64_t n = type.getNumElements();              // (stacked experts: every expert's values, then scales)
    return (isQ4Layout(*layout) ? n / 2 : n) + n / kQ8Group * 2;
  }
  int64_t bits = type.getElementTypeBitWidth();
  return (type.getNumElements() * bits + 7) / 8;
}

void WeightPlan::attach(ModuleOp module) const {
  Builder b(module.getContext());
  SmallVector<Attribute> entries;
  for (const WeightSlot &s : slots)
    entries.push_back(b.getDictionaryAttr({
        b.getNamedAttr("name", b.getStringAttr(s.pattern)),
        b.getNamedAttr("type", TypeAttr::get(s.type)),
        b.getNamedAttr("per_layer", b.getBoolAttr(s.perLayer)),
        b.getNamedAttr("layout", b.getStringAttr(s.layoutName())),
        b.getNamedAttr("offsets", b.getDenseI64ArrayAttr(s.offsets)),
        b.getNamedAttr("parts", b.getStrArrayAttr(SmallVector<StringRef>(s.parts.begin(), s.parts.end()))),
    }));
  module->setAttr("q3.weight_plan", b.getArrayAttr(entries));
  module->setAttr("q3.weight_bytes", b.getI64IntegerAttr(totalBytes));
}

std::optional<WeightPlan> WeightPlan::read(ModuleOp module) {
  auto entries = module->getAttrOfType<ArrayAttr>("q3.weight_plan");
  auto total = module->getAttrOfType<IntegerAttr>("q3.weight_bytes");
  auto layers = module->getAttrOfType<IntegerAttr>("q3.num_layers");
  if (!entries || !total || !layers) return std::nullopt;
  WeightPlan plan;
  plan.numLayers = layers.getInt();
  plan.totalBytes = total.getInt();
  for (Attribute a : entries) {
    auto d = llvm::dyn_cast<DictionaryAttr>(a);
    if (!d) return std::nullopt;
    auto name = d.getAs<StringAttr>("name");
    auto type = d.getAs<TypeAttr>("type");
    auto perLayer = d.getAs<BoolAttr>("per_layer");
    auto offsets = d.getAs<DenseI64ArrayAttr>("offsets");
    auto layout = d.getAs<StringAttr>("layout");
    auto parts = d.getAs<ArrayAttr>("parts");
    if (!name || !type || !perLayer || !offsets || !layout || !parts) return std::nullopt;
    WeightSlot s;
    s.pattern = name.str();
    if (layout.getValue() != "row") {
      s.layout = symbolizeWeightLayout(layout.getValue());
      if (!s.layout) return std::nullopt;
    }
    for (Attribute p : parts) {
      auto str = llvm::dyn_cast<StringAttr>(p);
      if (!str) return std::nullopt;
      s.parts.push_back(str.str());
    }
    s.type = llvm::dyn_cast<RankedTensorType>(type.getValue());
    if (!s.type) return std::nullopt;
    s.perLayer = perLayer.getValue();
    s.offsets.assign(offsets.asArrayRef().begin(), offsets.asArrayRef().end());
    plan.slots.push_back(std::move(s));
  }
  return plan;
}

} // namespace q3
