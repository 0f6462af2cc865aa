//===- FuseQKV.cpp - q3-fuse-qkv --------------------------------------------===//
#include "dialect/Q3Ops.h"
#include "passes/FusionUtils.h"
#include "passes/Passes.h"

#include "mlir/IR/Dominance.h"
#include "llvm/ADT/MapVector.h"

namespace q3 {
#define GEN_PASS_DEF_FUSEQKV
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

// Makes `v` available before `point`, moving its producer up when it is a
// q3.weight (pure, its operands already available); false when impossible.
bool hoistBefore(Value v, Operation *point, DominanceInfo &dom) {
  if (dom.properlyDominates(v, point)) return true;
  auto w = v.getDefiningOp<WeightOp>();
  if (!w || w->getBlock() != point->getBlock()) return false;
  for (Value operand : w->getOperands())
    if (!dom.properlyDominates(operand, point)) return false;
  w->moveBefore(point);
  return true;
}

struct FuseQKVPass : impl::FuseQKVBase<FuseQKVPass> {
  void runOnOperation() override {
    DominanceInfo dom(getOperation());
    // Sibling groups in program order: input -> its plain linears in one block.
    llvm::MapVector<std::pair<Value, Block *>, SmallVector<LinearOp>> groups;
    getOperation().walk([&](LinearOp l) {
      if (!l.getScales()) groups[{l.getInput(), l->getBlock()}].push_back(l);
    });
    for (auto &[key, linears] : groups) {
      if (linears.size() < 2 || !stackable(linears)) continue;
      Operation *first = linears.front();
      for (LinearOp l : linears)
        if (l->isBeforeInBlock(first)) first = l;
      bool ok = true;
      for (LinearOp l : linears) ok = ok && hoistBefore(l.getWeight(), first, dom);
      if (!ok) continue;
      OpBuilder b(first);
      SmallVector<Value> weights;
      SmallVector<Type> types;
      SmallVector<Location> locs;
      for (LinearOp l : linears) {
        weights.push_back(l.getWeight());
        types.push_back(l.getType());
        locs.push_back(l.getLoc());
      }
      Value weight = concatWeights(b, weights);
      auto fused = LinearSplitOp::create(b, b.getFusedLoc(locs), types, key.first, weight, Value(), FloatAttr());
      for (auto [l, r] : llvm::zip(linears, fused.getResults())) {
        l.replaceAllUsesWith(r);
        l.erase();
      }
    }
  }
};

} // namespace
} // namespace q3
