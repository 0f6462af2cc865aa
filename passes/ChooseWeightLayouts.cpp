//===- ChooseWeightLayouts.cpp - q3-choose-weight-layouts -------------------===//
#include "dialect/Q3Ops.h"
#include "passes/Passes.h"

namespace q3 {
#define GEN_PASS_DEF_CHOOSEWEIGHTLAYOUTS
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

bool packable(WeightOp w) {
  auto t = w.getResult().getType();
  if (t.getRank() != 2 || t.getDimSize(0) % 16 != 0 || !llvm::isa<FloatType>(t.getElementType()))
    return false;
  for (OpOperand &use : w.getResult().getUses()) {
    Operation *user = use.getOwner();
    bool linearWeight = llvm::isa<LinearOp>(user) && use.getOperandNumber() == 1;
    bool embeddingTable = llvm::isa<EmbeddingOp>(user) && use.getOperandNumber() == 0;
    if (!linearWeight && !embeddingTable) return false;
  }
  return true;
}

struct ChooseWeightLayoutsPass : impl::ChooseWeightLayoutsBase<ChooseWeightLayoutsPass> {
  void runOnOperation() override {
    getOperation().walk([&](WeightOp w) {
      if (!w->hasAttr("q3.layout") && packable(w))
        w->setAttr("q3.layout", StringAttr::get(&getContext(), "k16"));
    });
  }
};

} // namespace
} // namespace q3
