//===- ChooseLoweringConfig.cpp - q3-choose-lowering-config -----------------===//
#include "dialect/Q3Ops.h"
#include "passes/LoweringConfig.h"
#include "passes/Passes.h"

namespace q3 {
#define GEN_PASS_DEF_CHOOSELOWERINGCONFIG
#include "passes/Passes.h.inc"

namespace {

struct ChooseLoweringConfigPass : impl::ChooseLoweringConfigBase<ChooseLoweringConfigPass> {
  void runOnOperation() override {
    getOperation().walk([&](mlir::Operation *op) {
      if (isTiledProduct(op) && !op->hasAttr("q3.lowering_config"))
        op->setAttr("q3.lowering_config", toAttr(&getContext(), chooseLinearTiling(op)));
    });
  }
};

} // namespace
} // namespace q3
