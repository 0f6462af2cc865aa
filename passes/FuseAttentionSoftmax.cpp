//===- FuseAttentionSoftmax.cpp - q3-fuse-attention-softmax -----------------===//
#include "dialect/Q3Ops.h"
#include "passes/Passes.h"

namespace q3 {
#define GEN_PASS_DEF_FUSEATTENTIONSOFTMAX
#include "passes/Passes.h.inc"

namespace {

struct FuseAttentionSoftmaxPass : impl::FuseAttentionSoftmaxBase<FuseAttentionSoftmaxPass> {
  void runOnOperation() override {
    getOperation().walk([&](AttentionOp a) { a.setOnlineSoftmax(true); });
  }
};

} // namespace
} // namespace q3
