//===- FuseGateUpSwiGLU.cpp - q3-fuse-gate-up-swiglu ------------------------===//
#include "dialect/Q3Ops.h"
#include "passes/FusionUtils.h"
#include "passes/Passes.h"

namespace q3 {
#define GEN_PASS_DEF_FUSEGATEUPSWIGLU
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

struct FuseGateUpSwiGLUPass : impl::FuseGateUpSwiGLUBase<FuseGateUpSwiGLUPass> {
  void runOnOperation() override {
    SmallVector<SwiGLUOp> swiglus;
    getOperation().walk([&](SwiGLUOp s) { swiglus.push_back(s); });
    for (SwiGLUOp s : swiglus) {
      auto gate = s.getGate().getDefiningOp<LinearOp>();
      auto up = s.getUp().getDefiningOp<LinearOp>();
      if (!gate || !up || gate == up || !gate->hasOneUse() || !up->hasOneUse() ||
          gate.getInput() != up.getInput() || !stackable({gate, up}))
        continue;
      OpBuilder b(s);
      Value weight = concatWeights(b, {gate.getWeight(), up.getWeight()});
      Location loc = b.getFusedLoc({gate.getLoc(), up.getLoc(), s.getLoc()});
      auto fused = LinearSwiGLUOp::create(b, loc, gate.getInput(), weight, Value(), FloatAttr());
      s.replaceAllUsesWith(fused.getResult());
      s.erase();
      gate.erase();
      up.erase();
    }
  }
};

} // namespace
} // namespace q3
