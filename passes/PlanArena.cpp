//===- PlanArena.cpp - q3-plan-arena ----------------------------------------===//
//
// Memory planning apart from kernel lowering: q3-lower-to-loops gives every
// buffer its own slice of the arena (a memref.view at a constant offset);
// this pass packs those slices by liveness so that buffers whose lifetimes do
// not overlap share bytes.
//
// A slice lives from its view to the last use of the view or of a view of
// it (collapse/expand shape, subviews), where a use nested in a loop or a
// branch counts as the whole loop or branch op in the view's own block: a
// slice defined before the layer loop and used inside it lives across the
// loop; one defined in the loop body lives within one iteration. Operations
// are numbered in pre-order, so the two arms of an scf.if (only one runs)
// never overlap. Slices are placed first-fit in order of their start,
// 64-byte aligned, after those marked q3.arena_pinned, which keep their
// offsets for the whole function.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/WeightPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include <algorithm>
#include <limits>

namespace q3 {
#define GEN_PASS_DEF_PLANARENA
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

struct Slice {
  memref::ViewOp view;
  int64_t bytes = 0, start = 0, end = 0, offset = 0;
  int64_t pinnedAt = -1; // q3.arena_pinned: the offset it keeps
};

int64_t bytesOf(MemRefType t) {
  return t.getNumElements() * int64_t(llvm::divideCeil(t.getElementTypeBitWidth(), 8));
}

// Plans one entry point's slices; returns the arena bytes it needs, or -1
// when a slice is not a static view at a constant offset.
int64_t planFunction(func::FuncOp fn, int64_t &unplanned) {
  Value arena = fn.getArgument(fn.getNumArguments() - 1);
  llvm::DenseMap<Operation *, int64_t> order, last; // pre-order index; last index in the op's subtree
  int64_t n = 0;
  fn.walk<WalkOrder::PreOrder>([&](Operation *op) { order[op] = n++; });
  fn.walk<WalkOrder::PostOrder>([&](Operation *op) {
    int64_t end = order[op];
    for (Region &r : op->getRegions())
      for (Block &b : r)
        if (!b.empty()) end = std::max(end, last[&b.back()]);
    last[op] = end;
  });
  std::vector<Slice> slices;
  for (Operation *user : arena.getUsers()) {
    auto view = llvm::dyn_cast<memref::ViewOp>(user);
    if (!view || view.getSource() != arena || !view.getSizes().empty() ||
        !view.getType().hasStaticShape())
      return -1;
    auto offset = view.getByteShift().getDefiningOp<arith::ConstantIndexOp>();
    if (!offset) return -1;
    Slice s{view, bytesOf(view.getType()), order[view], order[view], 0};
    if (view->hasAttr(kArenaPinnedAttr)) s.pinnedAt = offset.value();
    unplanned = std::max(unplanned, offset.value() + s.bytes);
    Block *home = view->getBlock();
    SmallVector<Value> aliases{view.getResult()};
    while (!aliases.empty()) {
      Value v = aliases.pop_back_val();
      for (Operation *u : v.getUsers()) {
        if (auto alias = llvm::dyn_cast<ViewLikeOpInterface>(u); alias && alias.getViewSource() == v)
          for (Value r : u->getResults()) aliases.push_back(r);
        Operation *ancestor = home->findAncestorOpInBlock(*u);
        if (!ancestor) return -1; // used outside the block it is defined in
        s.end = std::max(s.end, last[ancestor]);
      }
    }
    slices.push_back(s);
  }
  // Pinned slices first, where they are; then the rest by start.
  std::sort(slices.begin(), slices.end(), [](const Slice &a, const Slice &b) {
    return (a.pinnedAt >= 0) != (b.pinnedAt >= 0) ? a.pinnedAt >= 0 : a.start < b.start;
  });
  std::vector<const Slice *> placed; // live slices, by offset
  int64_t size = 0;
  for (Slice &s : slices) {
    llvm::erase_if(placed, [&](const Slice *p) { return p->end < s.start; });
    int64_t at = 0;
    if (s.pinnedAt >= 0) { // alive for its whole function: never erased from placed
      for (const Slice *p : placed)
        if (p->offset < s.pinnedAt + s.bytes && s.pinnedAt < p->offset + p->bytes) return -1;
      at = s.pinnedAt;
      s.end = std::numeric_limits<int64_t>::max();
    } else {
      for (const Slice *p : placed) { // placed is sorted by offset: the first gap that fits
        if (p->offset >= at + s.bytes) break;
        at = std::max(at, (p->offset + p->bytes + kWeightAlignment - 1) / kWeightAlignment * kWeightAlignment);
      }
    }
    s.offset = at;
    size = std::max(size, at + s.bytes);
    placed.insert(llvm::upper_bound(placed, &s, [](const Slice *a, const Slice *b) { return a->offset < b->offset; }),
                  &s);
  }
  for (Slice &s : slices) {
    OpBuilder b(s.view);
    s.view.getByteShiftMutable().assign(arith::ConstantIndexOp::create(b, s.view.getLoc(), s.offset));
  }
  return size;
}

struct PlanArenaPass : impl::PlanArenaBase<PlanArenaPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    int64_t planned = 0, unplanned = 0;
    for (auto fn : module.getOps<func::FuncOp>()) {
      if (fn.isExternal() || !fn.isPublic() || fn.getNumArguments() == 0) continue;
      auto arenaType = llvm::dyn_cast<MemRefType>(fn.getArgumentTypes().back());
      if (!arenaType || arenaType.getRank() != 1 || !arenaType.getElementType().isInteger(8)) continue;
      int64_t bytes = planFunction(fn, unplanned);
      if (bytes < 0) {
        fn.emitError("q3-plan-arena: an arena slice is not a static memref.view at a constant offset");
        return signalPassFailure();
      }
      planned = std::max(planned, bytes);
    }
    OpBuilder b(module.getContext());
    module->setAttr("q3.arena_bytes", b.getI64IntegerAttr(planned));
    module->setAttr("q3.arena_bytes_unplanned", b.getI64IntegerAttr(unplanned));
  }
};

} // namespace
} // namespace q3
