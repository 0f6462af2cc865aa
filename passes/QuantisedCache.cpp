//===- QuantisedCache.cpp - the int8 KV cache's rows and scales -----------===//
//
// q3's i8 cache (dialect/Q3Ops.td) holds each row x (one position of one
// KV head, head_dim D values) as int8 q = roundeven(x * 127 / max|x|) and
// one f32 scale d = max|x| / 127, so x ~ q * d. The lowering gives the
// cache's rows D + 4 bytes: the D values, then the scale's 4 bytes, so a
// row and its scale stay together in every view of the buffer (the stacked
// caches of @decode_batch included). In the row layout [L, H, C, D + 4]
// the scale is bytes D..D+3 of the row. In the key-blocked layout
// [L, H, C / 16, D + 4, 16] byte rows D..D+3 of a block are 64 bytes that
// hold its 16 positions' scales in order (position l at bytes 4l..4l+3:
// byte row D + l / 4, column 4 (l % 4)), so one block's scales load as one
// vector<16xf32>, which multiplies its 16 scores at once.
//
//===----------------------------------------------------------------------===//
#include "passes/KernelEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace q3 {

bool KernelEmitter::isQuantisedCache(Value cache) {
  return llvm::cast<MemRefType>(cache.getType()).getElementType().isInteger(8);
}

void KernelEmitter::storeQuantisedRow(Value src, ValueRange srcAt, int64_t D, Value cache, Value layer, Value h,
                                      Value p) {
  const int64_t vw = vectorWidth(D);
  auto vt = VectorType::get({vw}, b.getF32Type());
  auto at = [&](Value d) {
    SmallVector<Value> i(srcAt.begin(), srcAt.end());
    i.push_back(d);
    return i;
  };
  // max|x| over the row, then its scale and the multiplier that maps it to 127.
  SmallVector<Value> init{zeros(vw)};
  Value amaxV = loopAcc(idx(0), idx(D), vw, init, [&](Value d, ValueRange a) {
    return SmallVector<Value>{arith::MaximumFOp::create(b, loc, a[0], math::AbsFOp::create(b, loc, loadVec(src, at(d), vw)))};
  })[0];
  Value amax = vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXIMUMF, amaxV);
  auto [scale, inv] = int8Scale(amax);
  Value invV = vector::BroadcastOp::create(b, loc, vt, inv);
  auto bytes = VectorType::get({vw}, b.getI8Type());
  loop(0, D, vw, [&](Value d) {
    Value q = math::RoundEvenOp::create(b, loc, arith::MulFOp::create(b, loc, loadVec(src, at(d), vw), invV));
    storeCacheVec(arith::FPToSIOp::create(b, loc, bytes, q), cache, layer, h, p, d);
  });
  const bool blocked = llvm::cast<MemRefType>(cache.getType()).getRank() == 5;
  Value scaleBytes = vector::BitCastOp::create(b, loc, VectorType::get({4}, b.getI8Type()),
                                               vector::BroadcastOp::create(b, loc, VectorType::get({1}, b.getF32Type()), scale));
  if (!blocked) {
    vector::StoreOp::create(b, loc, scaleBytes, cache, ValueRange{layer, h, p, idx(D)});
    return;
  }
  // Position l of the block: byte row D + l / (KB / 4), column 4 (l % (KB / 4)).
  const int64_t KB = llvm::cast<MemRefType>(cache.getType()).getDimSize(4), perRow = KB / kCacheScaleBytes;
  Value lane = arith::RemUIOp::create(b, loc, p, idx(KB));
  Value row = arith::AddIOp::create(b, loc, idx(D), arith::DivUIOp::create(b, loc, lane, idx(perRow)));
  Value col = arith::MulIOp::create(b, loc, arith::RemUIOp::create(b, loc, lane, idx(perRow)), idx(kCacheScaleBytes));
  vector::StoreOp::create(b, loc, scaleBytes, cache,
                          ValueRange{layer, h, arith::DivUIOp::create(b, loc, p, idx(KB)), row, col});
}

Value KernelEmitter::cacheRowScale(Value cache, Value layer, Value h, Value p) {
  const int64_t D = llvm::cast<MemRefType>(cache.getType()).getDimSize(3) - kCacheScaleBytes;
  Value bytes = vector::LoadOp::create(b, loc, VectorType::get({4}, b.getI8Type()), cache, ValueRange{layer, h, p, idx(D)});
  Value word = vector::BitCastOp::create(b, loc, VectorType::get({1}, b.getF32Type()), bytes);
  return vector::ExtractOp::create(b, loc, word, 0);
}

Value KernelEmitter::cacheBlockScales(Value cache, Value layer, Value h, Value block) {
  auto ct = llvm::cast<MemRefType>(cache.getType());
  const int64_t D = ct.getDimSize(3) - kCacheScaleBytes, KB = ct.getDimSize(4);
  SmallVector<Value> rows;
  for (int64_t r = 0; r < kCacheScaleBytes; ++r)
    rows.push_back(vector::LoadOp::create(b, loc, VectorType::get({KB}, b.getI8Type()), cache,
                                          ValueRange{layer, h, block, idx(D + r), idx(0)}));
  auto concat = [&](Value x, Value y) {
    int64_t n = llvm::cast<VectorType>(x.getType()).getDimSize(0);
    SmallVector<int64_t> mask;
    for (int64_t i = 0; i < 2 * n; ++i) mask.push_back(i);
    return Value(vector::ShuffleOp::create(b, loc, x, y, mask));
  };
  Value all = concat(concat(rows[0], rows[1]), concat(rows[2], rows[3]));
  return vector::BitCastOp::create(b, loc, VectorType::get({KB}, b.getF32Type()), all);
}

} // namespace q3
