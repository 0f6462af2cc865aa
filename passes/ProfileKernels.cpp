//===- ProfileKernels.cpp - q3-profile-kernels ------------------------------===//
//
// Brackets each run of a kernel's ops with calls to the runtime's profiler
// (runtime/KernelProfile.h): `qwen3c build --profile-kernels` makes an
// executable whose `--profile` prints the time of every kernel, named by
// the Hugging Face blocks it computes.
//
//===----------------------------------------------------------------------===//
#include "passes/KernelLocation.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <map>
#include <string>

namespace q3 {
#define GEN_PASS_DEF_PROFILEKERNELS
#include "passes/Passes.h.inc"

namespace {

constexpr const char *kBegin = "qwen3c_profile_begin", *kEnd = "qwen3c_profile_end";

struct ProfileKernelsPass : impl::ProfileKernelsBase<ProfileKernelsPass> {
  std::map<int64_t, std::string> table; // kernel -> "function\tblocks"

  // An op that does work: it has regions (loops, parallel regions) or
  // touches memory. Constants, views and index arithmetic are free and may
  // sit anywhere (hoisted, shared by CSE), so they never open or close a run.
  static bool doesWork(mlir::Operation &op) { return op.getNumRegions() > 0 || !mlir::isMemoryEffectFree(&op); }

  void call(mlir::OpBuilder &b, mlir::Location loc, const char *callee, int64_t kernel) {
    mlir::Value n = mlir::arith::ConstantIntOp::create(b, loc, b.getI64Type(), kernel);
    mlir::func::CallOp::create(b, loc, callee, mlir::TypeRange{}, mlir::ValueRange{n});
  }

  void instrument(mlir::Block &block, llvm::StringRef function) {
    mlir::OpBuilder b(&getContext());
    int64_t open = 0;
    auto close = [&](mlir::Operation *before) {
      if (!open) return;
      b.setInsertionPoint(before);
      call(b, before->getLoc(), kEnd, open);
      open = 0;
    };
    for (mlir::Operation &op : llvm::make_early_inc_range(block)) {
      if (op.hasTrait<mlir::OpTrait::IsTerminator>()) {
        close(&op);
        break;
      }
      if (!doesWork(op)) continue;
      const int64_t n = kernelNumber(op.getLoc());
      if (n == 0) { // not a kernel's: a loop over layers, or glue between kernels
        close(&op);
        for (mlir::Region &r : op.getRegions())
          for (mlir::Block &inner : r) instrument(inner, function);
        continue;
      }
      if (n == open) continue;
      close(&op);
      b.setInsertionPoint(&op);
      call(b, op.getLoc(), kBegin, n);
      open = n;
      if (!table.count(n)) table[n] = function.str() + "\t" + llvm::join(blockNames(op.getLoc()), ",");
    }
    // A block without a terminator (a module-like body) ends its run at its end.
    if (open) {
      b.setInsertionPointToEnd(&block);
      call(b, block.getParentOp()->getLoc(), kEnd, open);
    }
  }

  void runOnOperation() override {
    mlir::ModuleOp module = getOperation();
    mlir::MLIRContext *ctx = &getContext();
    std::vector<mlir::func::FuncOp> functions;
    for (auto fn : module.getOps<mlir::func::FuncOp>())
      if (!fn.isExternal()) functions.push_back(fn);
    for (mlir::func::FuncOp fn : functions)
      for (mlir::Block &block : fn.getBody()) instrument(block, fn.getName());

    mlir::OpBuilder b(ctx);
    b.setInsertionPointToStart(module.getBody());
    auto type = b.getFunctionType({b.getI64Type()}, {});
    for (const char *name : {kBegin, kEnd})
      if (!module.lookupSymbol(name))
        mlir::func::FuncOp::create(b, module.getLoc(), name, type).setPrivate();
    int64_t last = table.empty() ? 0 : table.rbegin()->first;
    llvm::SmallVector<mlir::Attribute> entries(size_t(last + 1), mlir::StringAttr::get(ctx, ""));
    for (const auto &[n, text] : table) entries[size_t(n)] = mlir::StringAttr::get(ctx, text);
    module->setAttr("q3.kernel_profile", mlir::ArrayAttr::get(ctx, entries));
  }
};

} // namespace
} // namespace q3
