//===- HoistParallelScratch.cpp - q3-hoist-parallel-scratch -----------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"

namespace q3 {
#define GEN_PASS_DEF_HOISTPARALLELSCRATCH
#include "passes/Passes.h.inc"

namespace {

struct HoistParallelScratchPass : impl::HoistParallelScratchBase<HoistParallelScratchPass> {
  void runOnOperation() override {
    getOperation().walk([](mlir::omp::ParallelOp region) {
      mlir::Block &entry = region.getRegion().front();
      region.walk([&](mlir::memref::AllocaScopeOp scope) {
        for (auto alloca : llvm::make_early_inc_range(scope.getBodyRegion().getOps<mlir::memref::AllocaOp>()))
          if (alloca.getDynamicSizes().empty() && alloca.getSymbolOperands().empty())
            alloca->moveBefore(&entry, entry.begin());
      });
    });
  }
};

} // namespace
} // namespace q3
