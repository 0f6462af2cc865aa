//===- AMXProduct.cpp - products on AMX-BF16 tiles ---------------------------===//
//
// dot = amx / amx_emulated (#q3.lowering_config): y = x * W^T with the
// k16_pairs weights as AMX operands, generated with MLIR's amx dialect.
//
// A weight block's 16 pair rows of one 32-k step, Wp[nb][p .. p + 16][0, 32),
// are 16 rows of 64 bytes at a 64-byte stride: exactly tdpbf16ps's B tile
// (row p holds, for each of the 16 outputs, the pair k = 2p, 2p + 1), so
// the weights packed for vdpbf16ps need no second layout. The activations,
// rounded to bf16 once per product into [M rounded up to tile_rows, K]
// scratch, give A tiles of 16 rows x 32 k at a stride of K; the rows past M
// are scratch whose products no output keeps.
//
// A work item of the parallel loop is tile_blocks weight blocks over every
// row tile of tile_rows rows. Per 32-k step each input tile times each weight
// tile accumulates into its own f32 tile, carried through the k loop in tile
// registers (LLVM's tile configuration pass writes the ldtilecfg). The
// accumulators then go to a [tile_rows, tile_blocks * 16] f32 stack buffer
// and through the epilogue the vector tiles use (storeProductTile), one row
// at a time, rows past M skipped.
//
// amx_emulated runs the same loops with each tile product done by vector
// FMAs on that f32 buffer, adding each output's k pairs in k order, odd
// then even, as bf16_emulated does: its results are bit-identical to that
// family's, so a host without AMX checks the indexing, the padding and the
// epilogue exactly; only the tile instructions themselves differ.
//
//===----------------------------------------------------------------------===//
#include "passes/KernelEmitter.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace q3 {
namespace {
MemRefType memrefOf(Value v) { return llvm::cast<MemRefType>(v.getType()); }
} // namespace

void KernelEmitter::linearAMX(Value x, Value wp, const LinearFusion &f) {
  Value x2 = rows(x);
  int64_t M = memrefOf(x2).getDimSize(0), K = memrefOf(x2).getDimSize(1), NB = memrefOf(wp).getDimSize(0);
  const int64_t RB = f.tiling.blocks, TR = f.tiling.rows, inputTiles = TR / 16;
  const int64_t VW = f.tiling.vectorWidth, H = 16 / VW;
  const bool emulated = f.tiling.dot == ProductDot::AMXEmulated;
  const ProductOutputs outs = productOutputs(f);
  // A folded norm is staged (the caller checks): tiles load whole rows.
  if (f.norm) {
    rmsNorm(x2, f.norm, f.eps, f.normalised);
    x2 = f.normalised;
  }
  Value r2 = rows(f.rounded);
  const int64_t paddedRows = memrefOf(r2).getDimSize(0);
  roundRows(x2, r2, idx(M), Value());
  auto f32 = b.getF32Type(), bf16 = b.getBF16Type();
  auto accTile = amx::TileType::get({16, 16}, f32), operandTile = amx::TileType::get({16, kAMXTileDepth}, bf16);
  auto add = [&](Value a, int64_t c) { return c ? Value(arith::AddIOp::create(b, loc, a, idx(c))) : a; };

  // Emulated tdpbf16ps: acc[c0 + m][c1 + n] += sum over the step's 16 pairs
  // q of x[row + m][k + 2q .. + 1] . Wp[blk][k / 2 + q][n][0 .. 1].
  auto emulatedProduct = [&](Value row, Value k, Value blk, Value acc, int64_t c0, int64_t c1) {
    auto pairVt = VectorType::get({2 * VW}, bf16);
    Value p0 = arith::DivUIOp::create(b, loc, k, idx(2));
    loop(0, 16, 1, [&](Value m) {
      Value xm = arith::AddIOp::create(b, loc, row, m), cm = add(m, c0);
      SmallVector<Value> init;
      for (int64_t h = 0; h < H; ++h) init.push_back(loadVec(acc, {cm, idx(c1 + h * VW)}, VW));
      SmallVector<Value> sums = loopAcc(idx(0), idx(kAMXTileDepth / 2), 1, init, [&](Value q, ValueRange a) {
        Value k0 = arith::AddIOp::create(b, loc, k, arith::MulIOp::create(b, loc, q, idx(2)));
        auto vt = VectorType::get({VW}, f32);
        Value e = vector::BroadcastOp::create(b, loc, vt, loadScalar(r2, {xm, k0}));
        Value o = vector::BroadcastOp::create(b, loc, vt, loadScalar(r2, {xm, add(k0, 1)}));
        Value p = arith::AddIOp::create(b, loc, p0, q);
        SmallVector<Value> next;
        for (int64_t h = 0; h < H; ++h) {
          auto [we, wo] = widenPairs(vector::LoadOp::create(b, loc, pairVt, wp, ValueRange{blk, p, idx(h * 2 * VW)}));
          // Odd k, then even: the order of the bf16 family's emulation, so
          // the two emulations agree bit for bit (amx-dot.test checks it).
          next.push_back(vector::FMAOp::create(b, loc, we, e, vector::FMAOp::create(b, loc, wo, o, a[h])));
        }
        return next;
      });
      for (int64_t h = 0; h < H; ++h) storeVec(sums[h], acc, {cm, idx(c1 + h * VW)});
    });
  };

  parallelLoop(0, NB, RB, [&](Value nb0) {
    SmallVector<Value> blocks;
    for (int64_t r = 0; r < RB; ++r) blocks.push_back(add(nb0, r));
    Value acc = memref::AllocaOp::create(b, loc, MemRefType::get({TR, RB * 16}, f32));
    loop(0, paddedRows, TR, [&](Value m0) {
      if (emulated) {
        zeroFill(acc);
        loop(0, K, kAMXTileDepth, [&](Value k) {
          for (int64_t a = 0; a < inputTiles; ++a)
            for (int64_t r = 0; r < RB; ++r) emulatedProduct(add(m0, 16 * a), k, blocks[r], acc, 16 * a, 16 * r);
        });
      } else {
        // Accumulator (a, r): input tile a times weight block r. Each its
        // own tile_zero: tile registers cannot share a value.
        SmallVector<Value> init;
        for (int64_t i = 0; i < inputTiles * RB; ++i) init.push_back(amx::TileZeroOp::create(b, loc, accTile));
        SmallVector<Value> tiles = loopAcc(idx(0), idx(K), kAMXTileDepth, init, [&](Value k, ValueRange c) {
          Value p = arith::DivUIOp::create(b, loc, k, idx(2));
          SmallVector<Value> in, w, next;
          for (int64_t a = 0; a < inputTiles; ++a)
            in.push_back(amx::TileLoadOp::create(b, loc, operandTile, r2, ValueRange{add(m0, 16 * a), k}));
          for (int64_t r = 0; r < RB; ++r)
            w.push_back(amx::TileLoadOp::create(b, loc, operandTile, wp, ValueRange{blocks[r], p, idx(0)}));
          for (int64_t a = 0; a < inputTiles; ++a)
            for (int64_t r = 0; r < RB; ++r)
              next.push_back(amx::TileMulFOp::create(b, loc, accTile, in[a], w[r], c[a * RB + r]));
          return next;
        });
        for (int64_t a = 0; a < inputTiles; ++a)
          for (int64_t r = 0; r < RB; ++r)
            amx::TileStoreOp::create(b, loc, acc, ValueRange{idx(16 * a), idx(16 * r)}, tiles[a * RB + r]);
      }
      // The epilogue, row by row, for the rows of this tile below M.
      Value left = arith::SubIOp::create(b, loc, idx(M), m0);
      Value n = arith::MinSIOp::create(b, loc, left, idx(TR));
      loop(idx(0), n, 1, [&](Value i) {
        Value m = arith::AddIOp::create(b, loc, m0, i);
        storeProductTile(f, outs, ProductTileValues{{m}, blocks, 0, H, [&](int64_t r, int64_t h, int64_t) {
                                                      return loadVec(acc, {i, idx(r * 16 + h * VW)}, VW);
                                                    }});
      });
    });
  });
}

} // namespace q3
