//===- FusionUtils.cpp ------------------------------------------------------===//
#include "passes/FusionUtils.h"

using namespace mlir;

namespace q3 {

bool stackable(ArrayRef<LinearOp> linears) {
  if (linears.empty()) return false;
  auto first = LinearOp(linears.front()).getWeight().getType();
  for (LinearOp l : SmallVector<LinearOp>(linears)) {
    auto w = l.getWeight().getType();
    if (l.getScales() || w.getRank() != 2 || !llvm::isa<FloatType>(w.getElementType()) ||
        w.getElementType() != first.getElementType() || w.getDimSize(1) != first.getDimSize(1))
      return false;
  }
  return true;
}

Value concatWeights(OpBuilder &b, ArrayRef<Value> weights) {
  SmallVector<Location> locs;
  for (Value w : weights) locs.push_back(w.getLoc());
  Location loc = b.getFusedLoc(locs);
  auto first = llvm::cast<RankedTensorType>(weights.front().getType());
  int64_t rows = 0;
  for (Value w : weights) rows += llvm::cast<RankedTensorType>(w.getType()).getDimSize(0);
  SmallVector<int64_t> shape(first.getShape());
  shape[0] = rows;
  return ConcatOp::create(b, loc, RankedTensorType::get(shape, first.getElementType()), weights);
}

} // namespace q3
