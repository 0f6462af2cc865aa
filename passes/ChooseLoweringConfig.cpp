//===- ChooseLoweringConfig.cpp - q3-choose-lowering-config -----------------===//
#include "dialect/Q3Ops.h"
#include "passes/LoweringConfig.h"
#include "passes/Passes.h"
#include "passes/TargetInfo.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

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
    ProductDot int8Family = int8Dot(*target, int8DotOption, error);
    if (!error.empty()) {
      module.emitError("int8-dot=" + int8DotOption + ": " + error);
      return signalPassFailure();
    }
    const bool decodeFamily = q3::decodeDot(decodeDotOption, error);
    if (!error.empty()) {
      module.emitError("decode-dot=" + decodeDotOption + ": " + error);
      return signalPassFailure();
    }
    if (!module->hasAttr(kKeyCacheBlockAttrName))
      if (int64_t block = chooseKeyCacheBlock(module))
        module->setAttr(kKeyCacheBlockAttrName, mlir::IntegerAttr::get(mlir::IntegerType::get(&getContext(), 64), block));
    const bool keysBlocked = keyCacheBlockOf(module) != 0;
    module.walk([&](mlir::Operation *op) {
      if (isTiledProduct(op) && !op->hasAttr(kLoweringConfigAttrName)) { // a pinned config stays
        LinearTiling t = chooseLinearTiling(op, *target, family, int8Family, decodeFamily);
        op->setAttr(kLoweringConfigAttrName, toAttr(&getContext(), t));
      }
      if (hasTiledExperts(op) && !op->hasAttr(kGateUpConfigAttrName)) {
        auto [gateUp, down] = chooseExpertTilings(llvm::cast<MoEExpertsOp>(op), *target, family, int8Family, decodeFamily);
        op->setAttr(kGateUpConfigAttrName, toAttr(&getContext(), gateUp));
        op->setAttr(kDownConfigAttrName, toAttr(&getContext(), down));
      }
    });
    // Attention rounds to bf16 (AMX tiles, vdpbf16ps) only in a function
    // whose products do too (bf16 weights on AMX tiles or vdpbf16ps), or
    // that has none (one kernel alone): an f32 model, its products all
    // FMA, keeps exact f32 attention.
    module.walk([&](mlir::func::FuncOp fn) {
      bool roundingProducts = false, fmaProducts = false;
      fn.walk([&](mlir::Operation *op) {
        if (auto config = op->getAttrOfType<LoweringConfigAttr>(kLoweringConfigAttrName))
          (roundsToBF16(config.getDot()) ? roundingProducts : fmaProducts) = true;
      });
      roundingProducts |= !fmaProducts;
      fn.walk([&](AttentionOp op) {
        if (!op->hasAttr(kAttentionConfigAttrName))
          op->setAttr(kAttentionConfigAttrName,
                      toAttr(&getContext(), chooseAttentionTiling(op, *target, keysBlocked,
                                                                  roundingProducts ? family : ProductDot::FMA)));
      });
    });
  }
};

} // namespace
} // namespace q3
