//===- AddLogitsFreePrefill.cpp - q3-add-logits-free-prefill ----------------===//
#include "passes/Passes.h"
#include "dialect/Q3Dialect.h"
#include "dialect/Q3Ops.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace q3 {
#define GEN_PASS_DEF_ADDLOGITSFREEPREFILL
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

// Removes what feeds nothing (every q3 op is pure), until nothing changes.
void eraseDeadOps(func::FuncOp fn) {
  for (bool erased = true; erased;) {
    erased = false;
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(fn.getBody().front())))
      if (isOpTriviallyDead(&op)) {
        op.erase();
        erased = true;
      }
  }
}

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
  eraseDeadOps(fn);
  return success();
}

// Makes `fn` take one more argument, the index of a row, and return the
// logits of that row alone ([1, V]): the LM head (the product whose result
// is the logits) reads a one-row slice of its input instead of all rows
// (the final norm, folded or not, is row-wise). What then feeds nothing
// goes, as in dropLogits.
LogicalResult keepOneRowOfLogits(func::FuncOp fn) {
  if (fn.getNumResults() != 3)
    return fn.emitError("@") << fn.getSymName() << " must return (logits, k cache, v cache) to keep one row";
  auto ret = llvm::cast<func::ReturnOp>(fn.getBody().front().getTerminator());
  // The LM head: q3.linear, or q3.linear_split with the final norm folded
  // in (fusion), its only result the logits; its input is operand 0.
  Operation *head = ret.getOperand(0).getDefiningOp();
  if (!head || !llvm::isa<LinearOp, LinearSplitOp>(head) || head->getNumResults() != 1)
    return fn.emitError("@") << fn.getSymName() << ": its logits are not one q3.linear / q3.linear_split (the LM head)";
  auto in = llvm::cast<RankedTensorType>(head->getOperand(0).getType());
  auto outType = llvm::cast<RankedTensorType>(head->getResult(0).getType());
  Value row = fn.getBody().front().addArgument(IndexType::get(fn.getContext()), head->getLoc());
  OpBuilder b(head);
  SmallVector<OpFoldResult> offsets{row, b.getIndexAttr(0)}, sizes{b.getIndexAttr(1), b.getIndexAttr(in.getDimSize(1))},
      strides{b.getIndexAttr(1), b.getIndexAttr(1)};
  Value x = tensor::ExtractSliceOp::create(b, head->getLoc(), RankedTensorType::get({1, in.getDimSize(1)}, in.getElementType()),
                                           head->getOperand(0), offsets, sizes, strides);
  Operation *one = b.clone(*head);
  one->setOperand(0, x);
  one->getResult(0).setType(RankedTensorType::get({1, outType.getDimSize(1)}, outType.getElementType()));
  ret.setOperand(0, one->getResult(0));
  head->erase();
  fn.setFunctionType(FunctionType::get(fn.getContext(), fn.getBody().front().getArgumentTypes(), ret.getOperandTypes()));
  eraseDeadOps(fn);
  return success();
}

// A copy of `fn` named `name` with only one row's logits.
LogicalResult addOneRowTwin(ModuleOp module, func::FuncOp fn, StringRef name) {
  func::FuncOp twin = fn.clone();
  twin.setName(name);
  twin->removeAttr(kPromptOnlyAttr);
  module.insert(std::next(Block::iterator(fn)), twin);
  return keepOneRowOfLogits(twin);
}

struct AddLogitsFreePrefillPass : impl::AddLogitsFreePrefillBase<AddLogitsFreePrefillPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (auto prefill = module.lookupSymbol<func::FuncOp>("prefill");
        prefill && !module.lookupSymbol("prefill_nologits")) {
      func::FuncOp twin = prefill.clone();
      twin.setName("prefill_nologits");
      module.insert(std::next(Block::iterator(prefill)), twin);
      if (failed(dropLogits(twin)) || failed(addOneRowTwin(module, prefill, "prefill_last")))
        return signalPassFailure();
    }
    for (auto fn : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      if (!fn->hasAttr(kPromptOnlyAttr)) continue;
      if (failed(addOneRowTwin(module, fn, (fn.getSymName() + "_last").str()))) return signalPassFailure();
      fn->removeAttr(kPromptOnlyAttr);
      fn.setName((fn.getSymName() + "_nologits").str());
      if (failed(dropLogits(fn))) return signalPassFailure();
    }
  }
};

} // namespace
} // namespace q3
