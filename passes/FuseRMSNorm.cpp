//===- FuseRMSNorm.cpp - q3-fuse-rms-norm -----------------------------------===//
#include "dialect/Q3Ops.h"
#include "passes/Passes.h"

namespace q3 {
#define GEN_PASS_DEF_FUSERMSNORM
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

// A linear that can take the norm as its input prologue.
bool acceptsNorm(OpOperand &use) {
  Operation *user = use.getOwner();
  if (use.getOperandNumber() != 0) return false;
  if (auto l = llvm::dyn_cast<LinearOp>(user))
    return !l.getScales() && llvm::isa<FloatType>(l.getWeight().getType().getElementType());
  if (auto l = llvm::dyn_cast<LinearSplitOp>(user)) return !l.getNorm();
  if (auto l = llvm::dyn_cast<LinearSwiGLUOp>(user)) return !l.getNorm();
  return false;
}

struct FuseRMSNormPass : impl::FuseRMSNormBase<FuseRMSNormPass> {
  void runOnOperation() override {
    SmallVector<RMSNormOp> norms;
    getOperation().walk([&](RMSNormOp n) { norms.push_back(n); });
    for (RMSNormOp norm : norms) {
      if (norm->use_empty() || norm.getWeight().getType().getRank() != 1 ||
          !llvm::all_of(norm->getUses(), acceptsNorm))
        continue;
      Value x = norm.getInput(), g = norm.getWeight();
      FloatAttr eps = norm.getEpsAttr();
      SmallVector<Operation *> users(norm->getUsers());
      for (Operation *user : users) {
        OpBuilder b(user);
        Location loc = b.getFusedLoc({norm.getLoc(), user->getLoc()});
        Operation *fused = nullptr;
        if (auto l = llvm::dyn_cast<LinearOp>(user))
          fused = LinearSplitOp::create(b, loc, TypeRange{l.getType()}, x, l.getWeight(), g, eps);
        else if (auto l = llvm::dyn_cast<LinearSplitOp>(user))
          fused = LinearSplitOp::create(b, loc, l.getResultTypes(), x, l.getWeight(), g, eps);
        else if (auto l = llvm::dyn_cast<LinearSwiGLUOp>(user))
          fused = LinearSwiGLUOp::create(b, loc, x, l.getWeight(), g, eps);
        user->replaceAllUsesWith(fused->getResults());
        user->erase();
      }
      norm.erase();
    }
  }
};

} // namespace
} // namespace q3
