//===- AddLogitsFreePrefill.cpp - q3-add-logits-free-prefill ----------------===//
#include "passes/Passes.h"
#include "dialect/Q3Dialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace q3 {
#define GEN_PASS_DEF_ADDLOGITSFREEPREFILL
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

// Makes `fn` return only its KV caches and removes what then feeds nothing
// (the final norm and the LM head: every q3 op is pure).
LogicalResult dropLogits(func::FuncOp fn) {
  if (fn.getNumResults() != 3)
    return fn.emitError("@") << fn.getSymName() << " must return (logits, k cache, v cache) to lose its logits";
  auto ret = llvm::cast<func::ReturnOp>(fn.getBody().front().getTerminator());
  SmallVector<Value> caches(ret.getOperands().drop_front());
  OpBuilder b(ret);
  func::ReturnOp::create(b, ret.getLoc(), caches);
  ret.erase();
  fn.setFunctionType(FunctionType::get(fn.getContext(), fn.getArgumentTypes(), ValueRange(caches).getTypes()));
  for (bool erased = true; erased;) {
    erased = false;
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(fn.getBody().front())))
      if (isOpTriviallyDead(&op)) {
        op.erase();
        erased = true;
      }
  }
  return success();
}

struct AddLogitsFreePrefillPass : impl::AddLogitsFreePrefillBase<AddLogitsFreePrefillPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (auto prefill = module.lookupSymbol<func::FuncOp>("prefill");
        prefill && !module.lookupSymbol("prefill_nologits")) {
      func::FuncOp twin = prefill.clone();
      twin.setName("prefill_nologits");
      module.insert(std::next(Block::iterator(prefill)), twin);
      if (failed(dropLogits(twin))) return signalPassFailure();
    }
    for (auto fn : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      if (!fn->hasAttr(kPromptOnlyAttr)) continue;
      fn->removeAttr(kPromptOnlyAttr);
      fn.setName((fn.getSymName() + "_nologits").str());
      if (failed(dropLogits(fn))) return signalPassFailure();
    }
  }
};

} // namespace
} // namespace q3
