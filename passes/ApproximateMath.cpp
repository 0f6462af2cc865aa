//===- ApproximateMath.cpp - q3-approximate-math ----------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace q3 {
#define GEN_PASS_DEF_APPROXIMATEMATH
#include "passes/Passes.h.inc"

namespace {

struct ApproximateMathPass : impl::ApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    mlir::RewritePatternSet patterns(&getContext());
    // exp only: sin/cos (RoPE) stay libm calls, bit-identical to the
    // interpreter's, and they run once per position, not per element.
    mlir::populateMathPolynomialApproximationPatterns(
        patterns, [](llvm::StringRef name) { return name == "exp" || name == "math.exp"; });
    if (failed(mlir::applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace q3
