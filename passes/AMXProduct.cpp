//===- AMXProduct.cpp - products on AMX-BF16 tiles ---------------------------===//
//
// dot = amx / amx_emulated (#q3.lowering_config): y = x * W^T with the
// k16_pairs weights (or int8 / int4 ones, k16_q8 / k16_q4 or their quads, widened per work item, below) as AMX
// operands, generated with MLIR's amx dialect.
//
// A weight block's 16 pair rows of one 32-k step, Wp[nb][p .. p + 16][0, 32),
// are 16 rows of 64 bytes at a 64-byte stride: exactly tdpbf16ps's B tile
// (row p holds, for each of the 16 outputs, the pair k = 2p, 2p + 1), so
// the weights packed for vdpbf16ps need no second layout. The activations,
// rounded to bf16 once per product into [M rounded up to tile_rows, K]
// scratch packed tile by tile ([rows / 16, K / 32, 16, 32], each A tile 1
// KiB contiguous); the rows past M are scratch whose products no output
// keeps.
//
// A work item of the parallel loop is tile_blocks weight blocks over every
// row tile of tile_rows rows, k in blocks of k_block (all of k when 0):
// each block over every row tile before the next, so that the block's
// weight tiles stay in L1 for all the rows. Per 32-k step each input tile
// times each weight tile accumulates into its own f32 tile, carried through
// the block in tile registers (LLVM's tile configuration pass writes the
// ldtilecfg) and kept between blocks in a [rows, tile_blocks * 16] f32
// stack buffer, which then goes through the epilogue the vector tiles use
// (storeProductTile), one row at a time, rows past M skipped.
//
// int8 weights (k16_q8, llama.cpp's Q8_0; k16_q4, Q4_0, alike with (q - 8)
// * d): each work item first widens its blocks, q * d rounded to bf16,
// into k16_pairs tiles in stack scratch,
// which every row tile then reads as it would packed bf16 weights. The
// weights come from memory as int8, once per work item; the widening is
// amortised over all the rows of the chunk (one row, decode, keeps the
// exact f32 k16 tile). q * d is exact in f32 (8 and 11 significant bits),
// so the only rounding is the bf16 one, which the reference's
// --bf16-product-inputs models on the dequantised weights.
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
  const int64_t KB = f.tiling.kBlock ? f.tiling.kBlock : K;
  const bool emulated = f.tiling.dot == ProductDot::AMXEmulated;
  const bool quads = f.scales && memrefOf(wp).getShape().back() == 64; // k16_q8_quads / k16_q4_quads
  const ProductOutputs outs = productOutputs(f);
  // A folded norm is staged (the caller checks): tiles load whole rows.
  if (f.norm) {
    rmsNorm(x2, f.norm, f.eps, f.normalised);
    x2 = f.normalised;
  }
  // The activations rounded to bf16 into their tiles: packed[m / 16][k / 32]
  // is the 16 x 32 tile of rows m.. and k.. (1 KiB, rows 64 bytes apart).
  Value packed = f.rounded;
  const int64_t paddedRows = memrefOf(packed).getDimSize(0) * 16;
  auto at = [&](Value m, Value k) -> SmallVector<Value> {
    return {arith::DivUIOp::create(b, loc, m, idx(16)), arith::DivUIOp::create(b, loc, k, idx(kAMXTileDepth)),
            arith::RemUIOp::create(b, loc, m, idx(16)), arith::RemUIOp::create(b, loc, k, idx(kAMXTileDepth))};
  };
  loop(0, M, 1, [&](Value m) {
    loop(0, K, 16, [&](Value k) {
      vector::StoreOp::create(b, loc, roundToBF16(loadVec(x2, {m, k}, 16)), packed, at(m, k));
    });
  });
  auto f32 = b.getF32Type(), bf16 = b.getBF16Type();
  auto accTile = amx::TileType::get({16, 16}, f32), operandTile = amx::TileType::get({16, kAMXTileDepth}, bf16);
  auto add = [&](Value a, int64_t c) { return c ? Value(arith::AddIOp::create(b, loc, a, idx(c))) : a; };

  // Emulated tdpbf16ps: acc[c0 + m][c1 + n] += sum over the step's 16 pairs
  // q of x[row + m][k + 2q .. + 1] . Wp[blk][k / 2 + q][n][0 .. 1].
  auto emulatedProduct = [&](Value w, Value row, Value k, Value blk, Value acc, int64_t c1) {
    auto pairVt = VectorType::get({2 * VW}, bf16);
    Value p0 = arith::DivUIOp::create(b, loc, k, idx(2));
    loop(0, 16, 1, [&](Value m) {
      Value xm = arith::AddIOp::create(b, loc, row, m);
      SmallVector<Value> init;
      for (int64_t h = 0; h < H; ++h) init.push_back(loadVec(acc, {xm, idx(c1 + h * VW)}, VW));
      SmallVector<Value> sums = loopAcc(idx(0), idx(kAMXTileDepth / 2), 1, init, [&](Value q, ValueRange a) {
        Value k0 = arith::AddIOp::create(b, loc, k, arith::MulIOp::create(b, loc, q, idx(2)));
        auto vt = VectorType::get({VW}, f32);
        Value e = vector::BroadcastOp::create(b, loc, vt, loadScalar(packed, at(xm, k0)));
        Value o = vector::BroadcastOp::create(b, loc, vt, loadScalar(packed, at(xm, add(k0, 1))));
        Value p = arith::AddIOp::create(b, loc, p0, q);
        SmallVector<Value> next;
        for (int64_t h = 0; h < H; ++h) {
          auto [we, wo] = widenPairs(vector::LoadOp::create(b, loc, pairVt, w, ValueRange{blk, p, idx(h * 2 * VW)}));
          // Odd k, then even: the order of the bf16 family's emulation, so
          // the two emulations agree bit for bit (amx-dot.test checks it).
          next.push_back(vector::FMAOp::create(b, loc, we, e, vector::FMAOp::create(b, loc, wo, o, a[h])));
        }
        return next;
      });
      for (int64_t h = 0; h < H; ++h) storeVec(sums[h], acc, {xm, idx(c1 + h * VW)});
    });
  };

  // Widens int8 (int4) block `blk` (Wq[blk][k][n] or nibbles, Ws[blk][k / 32][n]) into
  // wd[r][k / 2][2n + k % 2] bf16: per pair of k, the two 16-lane rows
  // scaled by their group's 16 scales, rounded and interleaved.
  auto widenBlock = [&](Value blk, Value wd, Value r) {
    auto f32x16 = VectorType::get({16}, f32), bf16x16 = VectorType::get({16}, bf16);
    auto toBF16 = [&](Value v) -> Value {
      if (emulated) return roundToBF16(v); // any target, bit for bit what vcvtneps2bf16 gives these values
      return arith::TruncFOp::create(b, loc, bf16x16, v);
    };
    loop(0, K / kQ8Group, 1, [&](Value g) {
      Value half = vector::LoadOp::create(b, loc, VectorType::get({16}, b.getF16Type()), f.scales, ValueRange{blk, g, idx(0)});
      Value s = arith::ExtFOp::create(b, loc, f32x16, half);
      Value p0 = arith::MulIOp::create(b, loc, g, idx(kQ8Group / 2));
      if (quads) { // Wq[blk][k / 4][64] (int4: [k / 8][64]): a row's 4 (8) k from one load, 2 (4) pairs
        const int64_t perRow = f.int4 ? 8 : 4;
        Value q0 = arith::MulIOp::create(b, loc, g, idx(kQ8Group / perRow));
        loop(0, kQ8Group / perRow, 1, [&](Value q) {
          Value row = arith::AddIOp::create(b, loc, q0, q);
          SmallVector<Value> v = widenQuads(wp, {blk, row, idx(0)}, f.int4);
          for (int64_t pair = 0; pair < perRow / 2; ++pair) {
            Value even = arith::MulFOp::create(b, loc, v[size_t(2 * pair)], s);
            Value odd = arith::MulFOp::create(b, loc, v[size_t(2 * pair + 1)], s);
            Value p = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, row, idx(perRow / 2)), idx(pair));
            vector::StoreOp::create(b, loc, vector::InterleaveOp::create(b, loc, toBF16(even), toBF16(odd)), wd,
                                    ValueRange{r, p, idx(0)});
          }
        });
        return;
      }
      loop(0, kQ8Group / 2, 1, [&](Value q) {
        Value p = arith::AddIOp::create(b, loc, p0, q);
        Value k = arith::MulIOp::create(b, loc, p, idx(2));
        auto [qe, qo] = f.int4 ? widenNibbles(wp, {blk, p, idx(0)}, 16)
                               : std::pair{widenInt8(wp, {blk, k, idx(0)}, 16), widenInt8(wp, {blk, add(k, 1), idx(0)}, 16)};
        Value even = arith::MulFOp::create(b, loc, qe, s);
        Value odd = arith::MulFOp::create(b, loc, qo, s);
        vector::StoreOp::create(b, loc, vector::InterleaveOp::create(b, loc, toBF16(even), toBF16(odd)), wd,
                                ValueRange{r, p, idx(0)});
      });
    });
  };

  parallelLoop(0, NB, RB, [&](Value nb0) {
    SmallVector<Value> blocks;
    for (int64_t r = 0; r < RB; ++r) blocks.push_back(add(nb0, r));
    // The weight operand: the packed bf16 blocks, or int8 / int4 ones widened.
    Value w = wp;
    SmallVector<Value> wblocks(blocks);
    if (f.scales) {
      w = memref::AllocaOp::create(b, loc, MemRefType::get({RB, K / 2, 2 * 16}, bf16));
      for (int64_t r = 0; r < RB; ++r) {
        wblocks[r] = idx(r);
        widenBlock(blocks[r], w, wblocks[r]);
      }
    }
    // Every row's accumulators (k blocks go over all the row tiles).
    Value acc = memref::AllocaOp::create(b, loc, MemRefType::get({paddedRows, RB * 16}, f32));
    // k in [k0, k1) over every row tile; `first`: the accumulators start at 0.
    auto kBlock = [&](Value k0, Value k1, bool first) {
      loop(0, paddedRows, TR, [&](Value m0) {
        if (emulated) {
          loop(k0, k1, kAMXTileDepth, [&](Value k) {
            for (int64_t a = 0; a < inputTiles; ++a)
              for (int64_t r = 0; r < RB; ++r) emulatedProduct(w, add(m0, 16 * a), k, wblocks[r], acc, 16 * r);
          });
          return;
        }
        // Accumulator (a, r): input tile a times weight block r. Each its
        // own tile_zero or load: tile registers cannot share a value.
        SmallVector<Value> init;
        for (int64_t a = 0; a < inputTiles; ++a)
          for (int64_t r = 0; r < RB; ++r)
            init.push_back(first ? Value(amx::TileZeroOp::create(b, loc, accTile))
                                 : Value(amx::TileLoadOp::create(b, loc, accTile, acc,
                                                                 ValueRange{add(m0, 16 * a), idx(16 * r)})));
        Value tile0 = arith::DivUIOp::create(b, loc, m0, idx(16));
        SmallVector<Value> tiles = loopAcc(k0, k1, kAMXTileDepth, init, [&](Value k, ValueRange c) {
          Value p = arith::DivUIOp::create(b, loc, k, idx(2));
          Value ks = arith::DivUIOp::create(b, loc, k, idx(kAMXTileDepth));
          SmallVector<Value> in, wt, next;
          for (int64_t a = 0; a < inputTiles; ++a)
            in.push_back(amx::TileLoadOp::create(b, loc, operandTile, packed, ValueRange{add(tile0, a), ks, idx(0), idx(0)}));
          for (int64_t r = 0; r < RB; ++r)
            wt.push_back(amx::TileLoadOp::create(b, loc, operandTile, w, ValueRange{wblocks[r], p, idx(0)}));
          for (int64_t a = 0; a < inputTiles; ++a)
            for (int64_t r = 0; r < RB; ++r)
              next.push_back(amx::TileMulFOp::create(b, loc, accTile, in[a], wt[r], c[a * RB + r]));
          return next;
        });
        for (int64_t a = 0; a < inputTiles; ++a)
          for (int64_t r = 0; r < RB; ++r)
            amx::TileStoreOp::create(b, loc, acc, ValueRange{add(m0, 16 * a), idx(16 * r)}, tiles[a * RB + r]);
      });
    };
    if (emulated) zeroFill(acc);
    kBlock(idx(0), idx(KB), /*first=*/true);
    if (KB < K) loop(KB, K, KB, [&](Value k0) { kBlock(k0, add(k0, KB), /*first=*/false); });
    // The epilogue, row by row, for the rows below M.
    loop(0, M, 1, [&](Value m) {
      storeProductTile(f, outs, ProductTileValues{{m}, blocks, 0, H, [&](int64_t r, int64_t h, int64_t) {
                                                    return loadVec(acc, {m, idx(r * 16 + h * VW)}, VW);
                                                  }});
    });
  });
}

} // namespace q3
