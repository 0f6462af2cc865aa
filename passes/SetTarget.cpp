//===- SetTarget.cpp - q3-set-target ----------------------------------------===//
#include "passes/Passes.h"
#include "passes/TargetInfo.h"

#include <stdexcept>

namespace q3 {
#define GEN_PASS_DEF_SETTARGET
#include "passes/Passes.h.inc"

namespace {

struct SetTargetPass : impl::SetTargetBase<SetTargetPass> {
  using SetTargetBase::SetTargetBase;
  void runOnOperation() override {
    try {
      TargetInfo t = TargetInfo::fromLLVM(cpu, features);
      getOperation()->setAttr(kTargetAttrName, t.toAttr(&getContext()));
    } catch (const std::exception &e) {
      getOperation().emitError(e.what());
      signalPassFailure();
    }
  }
};

} // namespace
} // namespace q3
