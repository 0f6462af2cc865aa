//===- ChooseWeightLayouts.cpp - q3-choose-weight-layouts -------------------===//
#include "dialect/Q3Ops.h"
#include "passes/LoweringConfig.h"
#include "passes/Passes.h"
#include "passes/TargetInfo.h"

#include "llvm/ADT/StringSet.h"

#include <optional>

namespace q3 {
#define GEN_PASS_DEF_CHOOSEWEIGHTLAYOUTS
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

// Rows of each product's output part: a k16 block must not straddle two.
bool partsAligned(LinearSplitOp l) {
  return llvm::all_of(l.getResults(), [](Value r) {
    return llvm::cast<RankedTensorType>(r.getType()).getShape().back() % 16 == 0;
  });
}

// The packed layout a weight (a q3.weight or a stacked q3.concat) is read
// best in, or none to keep the checkpoint's rows.
std::optional<WeightLayout> chooseLayout(Value w) {
  auto t = llvm::cast<RankedTensorType>(w.getType());
  // Stacked experts [E, N, K] read only as a q3.moe_experts' gate, up or
  // down: k16 per expert, Wp[e][n / 16][k][n % 16], when all three of the
  // op's weights can be (its kernel tiles all of them or none).
  if (t.getRank() == 3) {
    bool experts = !w.use_empty() && llvm::all_of(w.getUses(), [](OpOperand &use) {
      auto m = llvm::dyn_cast<MoEExpertsOp>(use.getOwner());
      return m && use.getOperandNumber() >= 3 && llvm::all_of(ValueRange{m.getGate(), m.getUp(), m.getDown()}, [](Value v) {
               auto vt = llvm::cast<RankedTensorType>(v.getType());
               return vt.getDimSize(1) % 16 == 0 && llvm::isa<FloatType>(vt.getElementType());
             });
    });
    return experts ? std::optional<WeightLayout>(WeightLayout::K16) : std::nullopt;
  }
  if (t.getRank() != 2 || t.getDimSize(0) % 16 != 0 || !llvm::isa<FloatType>(t.getElementType()) || w.use_empty())
    return std::nullopt;
  std::optional<WeightLayout> layout;
  for (OpOperand &use : w.getUses()) {
    Operation *user = use.getOwner();
    std::optional<WeightLayout> wanted;
    if (use.getOperandNumber() == 1 && llvm::isa<LinearOp, LinearResidualOp>(user)) wanted = WeightLayout::K16;
    else if (use.getOperandNumber() == 0 && llvm::isa<EmbeddingOp>(user)) wanted = WeightLayout::K16;
    else if (auto s = llvm::dyn_cast<LinearSplitOp>(user); s && use.getOperandNumber() == 1 && partsAligned(s))
      wanted = WeightLayout::K16;
    else if (llvm::isa<LinearSwiGLUOp>(user) && use.getOperandNumber() == 1 && t.getDimSize(0) % 32 == 0)
      wanted = WeightLayout::K16Gated;
    if (!wanted || (layout && layout != wanted)) return std::nullopt;
    layout = wanted;
  }
  return layout;
}

// k16 -> k16_pairs for a bf16 pair dot: bf16 weights with an even k (a
// stack of experts: each expert's matrix alike).
std::optional<WeightLayout> paired(Value w, std::optional<WeightLayout> layout) {
  auto t = llvm::cast<RankedTensorType>(w.getType());
  if (!layout || t.getRank() < 2 || !t.getElementType().isBF16() || t.getShape().back() % 2 != 0) return layout;
  if (*layout != WeightLayout::K16 && *layout != WeightLayout::K16Gated) return layout; // int8 stays k16_q8
  return *layout == WeightLayout::K16Gated ? WeightLayout::K16GatedPairs : WeightLayout::K16Pairs;
}

// k16 -> k16_q8 / k16_q4 for weight-only int8 / int4 (`layers`): a
// per-layer weight (a q3.weight with a layer operand, or a stack of them:
// the layers' projections and MoE experts, not the embedding or the LM
// head) whose k is whole groups of 32.
// With `heads` (--lm-head-dtype int8 or int4: `head`), also the global
// weights of those names: the ones some product reads (the LM head; a tied
// embedding with it in every function, whose rows the embedding kernel
// then dequantises).
std::optional<WeightLayout> quantised(Operation *op, std::optional<WeightLayout> layout,
                                      const llvm::StringSet<> &heads, llvm::StringRef layers, llvm::StringRef head) {
  auto t = llvm::cast<RankedTensorType>(op->getResult(0).getType());
  if (!layout || t.getShape().back() % kQ8Group != 0) return layout;
  if (*layout != WeightLayout::K16 && *layout != WeightLayout::K16Gated) return layout;
  auto perLayer = [](Operation *w) { auto weight = llvm::dyn_cast_or_null<WeightOp>(w); return weight && weight.getLayer(); };
  // A layer's stacked experts (k16 each): each expert's matrix quantised alike.
  if (t.getRank() == 3) {
    if (!perLayer(op) || layers == "bf16") return layout;
    return layers == "int4" ? WeightLayout::K16Q4 : WeightLayout::K16Q8;
  }
  if (t.getRank() != 2) return layout;
  bool layerWeight = perLayer(op);
  if (auto c = llvm::dyn_cast<ConcatOp>(op))
    layerWeight = llvm::all_of(c.getInputs(), [&](Value v) { return perLayer(v.getDefiningOp()); });
  auto weight = llvm::dyn_cast<WeightOp>(op);
  bool isHead = weight && !layerWeight && heads.contains(weight.getName());
  llvm::StringRef format = layerWeight ? layers : isHead ? head : "bf16";
  if (format == "bf16") return layout;
  bool gated = *layout == WeightLayout::K16Gated;
  if (format == "int4") return gated ? WeightLayout::K16GatedQ4 : WeightLayout::K16Q4;
  return gated ? WeightLayout::K16GatedQ8 : WeightLayout::K16Q8;
}

// k16_q8 / k16_q4 -> their quads for the int8 dot families (whole groups
// of 32 k, so of 4 and 8); stacked experts each expert's matrix alike.
std::optional<WeightLayout> inQuads(std::optional<WeightLayout> layout) {
  if (!layout) return layout;
  switch (*layout) {
  case WeightLayout::K16Q8: return WeightLayout::K16Q8Quads;
  case WeightLayout::K16GatedQ8: return WeightLayout::K16GatedQ8Quads;
  case WeightLayout::K16Q4: return WeightLayout::K16Q4Quads;
  case WeightLayout::K16GatedQ4: return WeightLayout::K16GatedQ4Quads;
  default: return layout;
  }
}

struct ChooseWeightLayoutsPass : impl::ChooseWeightLayoutsBase<ChooseWeightLayoutsPass> {
  using ChooseWeightLayoutsBase::ChooseWeightLayoutsBase;
  void runOnOperation() override {
    auto isFormat = [](llvm::StringRef f) { return f == "bf16" || f == "int8" || f == "int4"; };
    if (!isFormat(weights)) {
      getOperation().emitError("weights=") << weights << ": not bf16, int8 or int4";
      return signalPassFailure();
    }
    if (!isFormat(lmHead)) {
      getOperation().emitError("lm-head=") << lmHead << ": not bf16, int8 or int4";
      return signalPassFailure();
    }
    // The pairs serve the prefill products' family; without a target (a
    // bare lit input) there is none.
    bool pairs = false, quads = false;
    if (getOperation()->hasAttr(kTargetAttrName)) {
      FailureOr<TargetInfo> target = TargetInfo::fromModule(getOperation());
      if (failed(target)) return signalPassFailure();
      std::string error;
      pairs = prefillDot(*target, dot, error) != ProductDot::FMA;
      if (!error.empty()) {
        getOperation().emitError("dot=" + dot + ": " + error);
        return signalPassFailure();
      }
      quads = isI8Dot(int8Dot(*target, int8DotOption, error));
      if (!error.empty()) {
        getOperation().emitError("int8-dot=" + int8DotOption + ": " + error);
        return signalPassFailure();
      }
    }
    // The global weights a product reads, by name (one layout per name).
    llvm::StringSet<> heads;
    if (lmHead != "bf16")
      getOperation().walk([&](WeightOp w) {
        if (!w.getLayer() && llvm::any_of(w->getUses(), [](OpOperand &use) {
              return use.getOperandNumber() == 1 && llvm::isa<LinearOp, LinearResidualOp, LinearSplitOp>(use.getOwner());
            }))
          heads.insert(w.getName());
      });
    getOperation().walk([&](Operation *op) {
      if (!llvm::isa<WeightOp, ConcatOp>(op) || op->hasAttr("q3.layout")) return;
      std::optional<WeightLayout> layout = chooseLayout(op->getResult(0));
      layout = quantised(op, layout, heads, weights, lmHead);
      if (pairs) layout = paired(op->getResult(0), layout);
      if (quads) layout = inQuads(layout);
      if (layout) op->setAttr("q3.layout", WeightLayoutAttr::get(&getContext(), *layout));
    });
  }
};

} // namespace
} // namespace q3
