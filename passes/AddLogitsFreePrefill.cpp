//===- AddLogitsFreePrefill.cpp - q3-add-logits-free-prefill ----------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace q3 {
#define GEN_PASS_DEF_ADDLOGITSFREEPREFILL
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

struct AddLogitsFreePrefillPass : impl::AddLogitsFreePrefillBase<AddLogitsFreePrefillPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto prefill = module.lookupSymbol<func::FuncOp>("prefill");
    if (!prefill || module.lookupSymbol(kName)) return;
    if (prefill.getNumResults() != 3) {
      prefill.emitError("@prefill must return (logits, k cache, v cache) to get a logits-free twin");
      return signalPassFailure();
    }
    func::FuncOp twin = prefill.clone();
    twin.setName(kName);
    module.insert(std::next(Block::iterator(prefill)), twin);
    auto ret = llvm::cast<func::ReturnOp>(twin.getBody().front().getTerminator());
    SmallVector<Value> caches(ret.getOperands().drop_front());
    OpBuilder b(ret);
    func::ReturnOp::create(b, ret.getLoc(), caches);
    ret.erase();
    twin.setFunctionType(FunctionType::get(&getContext(), twin.getArgumentTypes(), ValueRange(caches).getTypes()));
    // The final norm and the LM head now feed nothing (every q3 op is pure).
    for (bool erased = true; erased;) {
      erased = false;
      for (Operation &op : llvm::make_early_inc_range(llvm::reverse(twin.getBody().front())))
        if (isOpTriviallyDead(&op)) {
          op.erase();
          erased = true;
        }
    }
  }

  static constexpr const char *kName = "prefill_nologits";
};

} // namespace
} // namespace q3
