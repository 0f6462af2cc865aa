//===- LoweringConfig.cpp ---------------------------------------------------===//
#include "passes/LoweringConfig.h"
#include "dialect/Q3Ops.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

namespace q3 {
namespace {

constexpr int64_t kMaxAccumulators = 28; // of 32 zmm: leave room for broadcasts and a weight vector

Value weightOf(Operation *op) { return op->getOperand(1); }

int64_t inputRows(Operation *op) {
  auto x = llvm::cast<RankedTensorType>(op->getOperand(0).getType());
  return x.getNumElements() / x.getShape().back();
}

// Block counts where each output part ends (a tile must not straddle two).
SmallVector<int64_t> partEnds(Operation *op) {
  SmallVector<int64_t> ends;
  int64_t rows = 0;
  bool gated = llvm::isa<LinearSwiGLUOp>(op);
  for (Value r : op->getResults()) {
    rows += llvm::cast<RankedTensorType>(r.getType()).getShape().back() * (gated ? 2 : 1);
    ends.push_back(rows / 16);
  }
  return ends;
}

bool blocksFit(Operation *op, int64_t blocks) {
  if (blocks < 1 || (llvm::isa<LinearSwiGLUOp>(op) && blocks % 2 != 0)) return false;
  for (int64_t e : partEnds(op))
    if (e % blocks != 0) return false;
  return true;
}

} // namespace

bool isTiledProduct(Operation *op) {
  if (!llvm::isa<LinearOp, LinearResidualOp, LinearSplitOp, LinearSwiGLUOp>(op)) return false;
  Operation *w = weightOf(op).getDefiningOp();
  auto layout = w ? w->getAttrOfType<StringAttr>("q3.layout") : StringAttr();
  return layout && (layout.getValue() == "k16" || layout.getValue() == "k16-gated");
}

LinearTiling chooseLinearTiling(Operation *op) {
  LinearTiling t;
  int64_t M = inputRows(op);
  for (int64_t c : {4, 2, 1})
    if (blocksFit(op, c)) {
      t.blocks = c;
      break;
    }
  t.rows = M >= 4 ? 4 : 1;
  // Decode streams each weight block once: ask for it 64 k steps (2 KiB of
  // bf16) ahead (+~10% tokens/s on the 0.6B); prefill reuses blocks from cache.
  t.prefetch = M == 1 ? 64 : 0;
  return t;
}

LinearTiling linearTilingOf(Operation *op, std::string &error) {
  auto dict = op->getAttrOfType<DictionaryAttr>("q3.lowering_config");
  if (!dict) return chooseLinearTiling(op);
  LinearTiling t;
  auto field = [&](StringRef name, int64_t &v, int64_t min) {
    auto a = dict.getAs<IntegerAttr>(name);
    if (!a || a.getInt() < min) {
      error = ("q3.lowering_config needs " + name + " >= " + std::to_string(min)).str();
      return false;
    }
    v = a.getInt();
    return true;
  };
  if (!field("tile_rows", t.rows, 1) || !field("tile_blocks", t.blocks, 1) || !field("prefetch", t.prefetch, 0))
    return t;
  if (!blocksFit(op, t.blocks))
    error = "q3.lowering_config: tile_blocks = " + std::to_string(t.blocks) +
            " does not divide every output part into whole 16-row blocks" +
            (llvm::isa<LinearSwiGLUOp>(op) ? " (and must be even for a gated weight)" : "");
  else if (t.rows * t.blocks > kMaxAccumulators)
    error = "q3.lowering_config: a " + std::to_string(t.rows) + " x " + std::to_string(t.blocks) +
            " tile needs more than " + std::to_string(kMaxAccumulators) + " accumulator registers";
  return t;
}

DictionaryAttr toAttr(MLIRContext *ctx, const LinearTiling &t) {
  Builder b(ctx);
  return b.getDictionaryAttr({b.getNamedAttr("prefetch", b.getI64IntegerAttr(t.prefetch)),
                              b.getNamedAttr("tile_blocks", b.getI64IntegerAttr(t.blocks)),
                              b.getNamedAttr("tile_rows", b.getI64IntegerAttr(t.rows))});
}

} // namespace q3
