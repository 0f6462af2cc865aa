//===- FuseQKNormRope.cpp - q3-fuse-qk-norm-rope ----------------------------===//
#include "dialect/Q3Ops.h"
#include "passes/Passes.h"

namespace q3 {
#define GEN_PASS_DEF_FUSEQKNORMROPE
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

struct FuseQKNormRopePass : impl::FuseQKNormRopeBase<FuseQKNormRopePass> {
  void runOnOperation() override {
    // rms_norm -> rope  ==>  norm_rope
    SmallVector<RopeOp> ropes;
    getOperation().walk([&](RopeOp r) { ropes.push_back(r); });
    for (RopeOp rope : ropes) {
      auto norm = rope.getInput().getDefiningOp<RMSNormOp>();
      if (!norm || !norm->hasOneUse()) continue;
      OpBuilder b(rope);
      auto fused = NormRopeOp::create(b, b.getFusedLoc({norm.getLoc(), rope.getLoc()}), rope.getType(), norm.getInput(), norm.getWeight(),
                                      rope.getOffset(), norm.getEpsAttr(), rope.getThetaAttr(),
                                      rope.getStyleAttr(), rope.getYarnAttr());
      rope.replaceAllUsesWith(fused.getResult());
      rope.erase();
      norm.erase();
    }
    // norm_rope -> kv_write at the same position  ==>  norm_rope_write
    SmallVector<KVWriteOp> writes;
    getOperation().walk([&](KVWriteOp w) { writes.push_back(w); });
    for (KVWriteOp write : writes) {
      auto nr = write.getValue().getDefiningOp<NormRopeOp>();
      if (!nr || !nr->hasOneUse() || nr.getOffset() != write.getOffset() ||
          nr.getType().getElementType() != write.getCache().getType().getElementType())
        continue;
      OpBuilder b(write);
      auto fused = NormRopeWriteOp::create(b, b.getFusedLoc({nr.getLoc(), write.getLoc()}), write.getType(), nr.getInput(), nr.getNorm(),
                                           write.getCache(), write.getLayer(), write.getOffset(),
                                           nr.getEpsAttr(), nr.getThetaAttr(), nr.getStyleAttr(), nr.getYarnAttr());
      write.replaceAllUsesWith(fused.getResult());
      write.erase();
      nr.erase();
    }
  }
};

} // namespace
} // namespace q3
