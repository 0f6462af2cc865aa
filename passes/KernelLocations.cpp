//===- KernelLocations.cpp - q3-kernel-locations ------------------------------===//
//
// Numbers the kernels: each q3 op that becomes a loop nest gets
// kernelLocation(its location, N), N counting from 1 through the module in
// order. The lowering builds a kernel's loops at its op's location, so the
// number reaches the loops, the LLVM IR and (with a line table) the machine
// code: `qwen3c explain` follows a block down by it.
//
//===----------------------------------------------------------------------===//
#include "dialect/Q3Ops.h"
#include "passes/KernelLocation.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace q3 {
#define GEN_PASS_DEF_KERNELLOCATIONS
#include "passes/Passes.h.inc"

namespace {

struct KernelLocationsPass : impl::KernelLocationsBase<KernelLocationsPass> {
  void runOnOperation() override {
    int64_t next = 1;
    getOperation().walk([&](mlir::Operation *op) {
      if (isKernelOp(op)) op->setLoc(kernelLocation(op->getLoc(), next++));
    });
  }
};

} // namespace
} // namespace q3
