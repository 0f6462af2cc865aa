//===- FuseResidualAdd.cpp - q3-fuse-residual-add ---------------------------===//
#include "dialect/Q3Ops.h"
#include "passes/Passes.h"

namespace q3 {
#define GEN_PASS_DEF_FUSERESIDUALADD
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

// The linear operand of `add` that can become its producer, or null.
LinearOp fusableProduct(AddOp add, Value &residual) {
  for (unsigned i : {1u, 0u}) { // the residual stream is usually the lhs
    auto lin = add->getOperand(i).getDefiningOp<LinearOp>();
    if (!lin || lin.getScales() || !lin->hasOneUse()) continue;
    residual = add->getOperand(1 - i);
    return lin;
  }
  return nullptr;
}

struct FuseResidualAddPass : impl::FuseResidualAddBase<FuseResidualAddPass> {
  void runOnOperation() override {
    SmallVector<AddOp> adds;
    getOperation().walk([&](AddOp a) { adds.push_back(a); });
    for (AddOp add : adds) {
      Value residual;
      LinearOp lin = fusableProduct(add, residual);
      if (!lin) continue;
      OpBuilder b(add);
      auto fused = LinearResidualOp::create(b, b.getFusedLoc({lin.getLoc(), add.getLoc()}), add.getType(), lin.getInput(),
                                            lin.getWeight(), residual);
      add.replaceAllUsesWith(fused.getResult());
      add.erase();
      lin.erase();
    }
  }
};

} // namespace
} // namespace q3
