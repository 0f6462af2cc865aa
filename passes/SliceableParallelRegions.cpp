//===- SliceableParallelRegions.cpp - q3-sliceable-parallel-regions ---------===//
#include "passes/Passes.h"

#include "mlir/Dialect/OpenMP/OpenMPDialect.h"

namespace q3 {
#define GEN_PASS_DEF_SLICEABLEPARALLELREGIONS
#include "passes/Passes.h.inc"

namespace {

struct SliceableParallelRegionsPass : impl::SliceableParallelRegionsBase<SliceableParallelRegionsPass> {
  void runOnOperation() override {
    auto result = getOperation().walk([](mlir::omp::ParallelOp region) {
      auto loops = llvm::to_vector(region.getRegion().getOps<mlir::omp::WsloopOp>());
      int64_t nested = 0;
      region.walk([&](mlir::omp::WsloopOp) { ++nested; });
      if (loops.size() != 1 || nested != 1) {
        region.emitError("a parallel region must be exactly one worksharing loop to run as slices, found ")
            << nested;
        return mlir::WalkResult::interrupt();
      }
      mlir::omp::WsloopOp loop = loops.front();
      if (loop.getScheduleKind().value_or(mlir::omp::ClauseScheduleKind::Static) !=
              mlir::omp::ClauseScheduleKind::Static ||
          loop.getScheduleChunk()) {
        loop.emitError("a sliced parallel loop must have the static schedule without a chunk size");
        return mlir::WalkResult::interrupt();
      }
      if (!loop.getReductionVars().empty()) {
        loop.emitError("a sliced parallel loop cannot carry a reduction (slices would each combine once)");
        return mlir::WalkResult::interrupt();
      }
      loop.setNowait(true);
      return mlir::WalkResult::advance();
    });
    if (result.wasInterrupted()) signalPassFailure();
  }
};

} // namespace
} // namespace q3
