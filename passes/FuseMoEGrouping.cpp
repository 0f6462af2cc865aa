//===- FuseMoEGrouping.cpp - q3-fuse-moe-grouping ---------------------------===//
#include "dialect/Q3Ops.h"
#include "passes/Passes.h"

namespace q3 {
#define GEN_PASS_DEF_FUSEMOEGROUPING
#include "passes/Passes.h.inc"

namespace {

struct FuseMoEGroupingPass : impl::FuseMoEGroupingBase<FuseMoEGroupingPass> {
  void runOnOperation() override {
    getOperation().walk([&](MoEExpertsOp m) {
      if (m.getInput().getType().getDimSize(0) > 1) m.setGroupByExpert(true);
    });
  }
};

} // namespace
} // namespace q3
