//===- ChooseLoweringConfig.cpp - q3-choose-lowering-config -----------------===//
#include "dialect/Q3Ops.h"
#include "passes/LoweringConfig.h"
#include "passes/Passes.h"
#include "passes/TargetInfo.h"

namespace q3 {
#define GEN_PASS_DEF_CHOOSELOWERINGCONFIG
#include "passes/Passes.h.inc"

namespace {

struct ChooseLoweringConfigPass : impl::ChooseLoweringConfigBase<ChooseLoweringConfigPass> {
  using ChooseLoweringConfigBase::ChooseLoweringConfigBase;
  void runOnOperation() override {
    mlir::ModuleOp module = getOperation();
    mlir::FailureOr<TargetInfo> target = TargetInfo::fromModule(module);
    if (mlir::failed(target)) return signalPassFailure();
    std::string error;
    ProductDot family = prefillDot(*target, dot, error);
    if (!error.empty()) {
      module.emitError("dot=" + dot + ": " + error);
      return signalPassFailure();
    }
    if (!module->hasAttr(kKeyCacheBlockAttrName))
      if (int64_t block = chooseKeyCacheBlock(module))
        module->setAttr(kKeyCacheBlockAttrName, mlir::IntegerAttr::get(mlir::IntegerType::get(&getContext(), 64), block));
    const bool keysBlocked = keyCacheBlockOf(module) != 0;
    module.walk([&](mlir::Operation *op) {
      if (isTiledProduct(op) && !op->hasAttr(kLoweringConfigAttrName)) { // a pinned config stays
        LinearTiling t = chooseLinearTiling(op, *target, family);
        op->setAttr(kLoweringConfigAttrName, toAttr(&getContext(), t));
      }
      if (hasTiledExperts(op) && !op->hasAttr(kGateUpConfigAttrName)) {
        auto [gateUp, down] = chooseExpertTilings(llvm::cast<MoEExpertsOp>(op), *target);
        op->setAttr(kGateUpConfigAttrName, toAttr(&getContext(), gateUp));
        op->setAttr(kDownConfigAttrName, toAttr(&getContext(), down));
      }
      if (llvm::isa<AttentionOp>(op) && !op->hasAttr(kAttentionConfigAttrName))
        op->setAttr(kAttentionConfigAttrName, toAttr(&getContext(), chooseAttentionTiling(op, *target, keysBlocked)));
    });
  }
};

} // namespace
} // namespace q3
