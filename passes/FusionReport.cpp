//===- FusionReport.cpp - q3-fusion-report ----------------------------------===//
#include "passes/CostModel.h"
#include "passes/Passes.h"

#include "llvm/Support/raw_ostream.h"

namespace q3 {
#define GEN_PASS_DEF_FUSIONREPORT
#include "passes/Passes.h.inc"

namespace {

struct FusionReportPass : impl::FusionReportBase<FusionReportPass> {
  using FusionReportBase::FusionReportBase;
  void runOnOperation() override {
    llvm::outs() << renderCostReport(getOperation(), position);
    markAllAnalysesPreserved();
  }
};

} // namespace
} // namespace q3
