//===- AttentionAMX.cpp - prompt attention on AMX-BF16 tiles ---------------===//
//
// q3.attention with dot = amx / amx_emulated (#q3.attention_config): the
// online softmax of AttentionBlockedKeys.cpp, with both of its products,
// the scores S = Q K^T and the weighted values O += P V, as tdpbf16ps tile
// products (generated with MLIR's amx dialect) and only the softmax in
// vectors. On the FMA kernel those products were ~90% of a 512-token
// prompt's attention time and ran at a fifth of the FMA peak (each FMA
// needs a broadcast load beside it); a tile product does 16 x 16 x 32
// multiply-adds.
//
// A work item is head_block heads x query_block consecutive queries of one
// KV head: rows i = r * head_block + g (query t0 + r, head h0 + g), 16 per
// row tile. Its scratch (per thread):
//   Qs [rows, D] bf16        the queries rounded to bf16: the A tiles of S;
//   Kv [2, D/2, 32] bf16     one step's 32 keys, two blocks of 16, with each
//                            key's dims (2p, 2p + 1) side by side: B tiles;
//   Vv [16, 2 D] bf16        the step's values, keys (2p, 2p + 1) side by
//                            side for each dim: the B tiles of P V;
//   S [rows, 32] f32, P [rows, 32] bf16 (the softmax weights, the A tiles
//   of P V), O [rows, D] f32 (the output accumulators), M, L [rows] f32.
// The cache layouts stay as decode reads them (keys blocked [D][16],
// values in rows): each step repacks its 32 keys and values once for all
// the item's row tiles (a few hundred vector moves against 2 x tiles x D/16
// tile products).
//
// Causality and the end of the context are the blocked kernel's mask: lane
// l of key j0 + l counts for row i when j0 + l < n_i; a masked score is
// -1e30, whose weight exp(-1e30 - m) is 0. A step past the cache's last
// block (32 keys, capacity a multiple of 16) reads the last block again,
// all of it masked.
//
// amx_emulated runs the same loops with each tile product computed from
// memory by vector FMAs, so a host without AMX checks the repacking, the
// masking and the tile indexing; the rounding (queries and weights to bf16)
// is the same in both.
//
//===----------------------------------------------------------------------===//
#include "passes/KernelEmitter.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <functional>
#include <tuple>

using namespace mlir;

namespace q3 {
namespace {
MemRefType memrefOf(Value v) { return llvm::cast<MemRefType>(v.getType()); }

// A tile operand: a memref and the indices of the tile's first element
// (its last two dims are the tile's rows and columns).
struct TileOperand {
  Value mem;
  SmallVector<Value> at;
};
} // namespace

void KernelEmitter::attentionAMX(Value q, Value k, Value v, Value layer, Value offset, double scale, Value out,
                                 const AttentionTiling &tiling) {
  auto qt = memrefOf(q), kt = memrefOf(k);
  const int64_t T = qt.getDimSize(0), Hq = qt.getDimSize(1), D = qt.getDimSize(2);
  const int64_t Hkv = kt.getDimSize(1), KB = kt.getDimSize(4), keyBlocks = kt.getDimSize(2), C = keyBlocks * KB;
  const int64_t G = Hq / Hkv, gb = tiling.headBlock, R = tiling.queryBlock, rows = gb * R, rowTiles = rows / 16;
  const int64_t items = Hkv * (G / gb), dSteps = D / kAMXTileDepth, dTiles = D / 16;
  constexpr int64_t kStep = 32; // keys per step: the depth of one P tile
  const bool emulated = tiling.dot == ProductDot::AMXEmulated;
  Type f32t = b.getF32Type(), bf16t = b.getBF16Type();
  auto v16 = VectorType::get({16}, f32t);
  auto h16 = VectorType::get({16}, bf16t), h32 = VectorType::get({32}, bf16t);
  auto accTile = amx::TileType::get({16, 16}, f32t), operandTile = amx::TileType::get({16, kAMXTileDepth}, bf16t);
  auto add = [&](Value a, Value c) { return Value(arith::AddIOp::create(b, loc, a, c)); };
  auto addc = [&](Value a, int64_t c) { return c ? add(a, idx(c)) : a; };
  auto minc = [&](Value a, int64_t c) { return Value(arith::MinUIOp::create(b, loc, a, idx(c))); };
  auto scratch = [&](ArrayRef<int64_t> shape, Type et) {
    return Value(memref::AllocaOp::create(b, loc, MemRefType::get(shape, et)));
  };
  // Rounds 16 f32 lanes to bf16 into mem: on the native path fptrunc (one
  // vcvtneps2bf16: every AMX-BF16 CPU has AVX512-BF16); emulated, the
  // integer rounding of storeVec, for any target.
  auto storeBF16 = [&](Value vec, Value mem, ValueRange at) {
    if (emulated) return storeVec(vec, mem, at);
    vector::StoreOp::create(b, loc, arith::TruncFOp::create(b, loc, h16, vec), mem, at);
  };
  auto shifted = [&](const TileOperand &o, Value dr, Value dc) {
    SmallVector<Value> at(o.at);
    at[at.size() - 2] = add(at[at.size() - 2], dr);
    at[at.size() - 1] = add(at[at.size() - 1], dc);
    return at;
  };

  // C[i][j] (the 16 x 16 f32 tile of cMem at (tileRows[i], tileCols[j])) =
  // C[i][j] (accumulate) or 0, plus the sum over the steps s of A(i, s) x
  // B(j, s) (A: 16 rows x 32 bf16; B: 16 rows of 16 (even, odd) pairs,
  // tdpbf16ps's operand layout). At most 2 x 2 accumulators: with their A
  // and B tiles all eight tile registers, so that independent products
  // overlap (tile registers are not renamed) and each operand tile is
  // loaded once per step for two products.
  using OperandAt = std::function<TileOperand(int64_t, int64_t)>;
  auto tileProducts = [&](Value cMem, ArrayRef<int64_t> tileRows, ArrayRef<int64_t> tileCols, bool accumulate,
                          int64_t steps, const OperandAt &aAt, const OperandAt &bAt) {
    if (!emulated) {
      SmallVector<Value> acc;
      for (int64_t cr : tileRows)
        for (int64_t cc : tileCols)
          acc.push_back(accumulate ? Value(amx::TileLoadOp::create(b, loc, accTile, cMem, ValueRange{idx(cr), idx(cc)}))
                                   : Value(amx::TileZeroOp::create(b, loc, accTile)));
      for (int64_t s = 0; s < steps; ++s) {
        SmallVector<Value> ta, tb;
        for (size_t i = 0; i < tileRows.size(); ++i) {
          TileOperand a = aAt(int64_t(i), s);
          ta.push_back(amx::TileLoadOp::create(b, loc, operandTile, a.mem, a.at));
        }
        for (size_t j = 0; j < tileCols.size(); ++j) {
          TileOperand w = bAt(int64_t(j), s);
          tb.push_back(amx::TileLoadOp::create(b, loc, operandTile, w.mem, w.at));
        }
        for (size_t i = 0; i < tileRows.size(); ++i)
          for (size_t j = 0; j < tileCols.size(); ++j) {
            Value &c = acc[i * tileCols.size() + j];
            c = amx::TileMulFOp::create(b, loc, accTile, ta[i], tb[j], c);
          }
      }
      for (size_t i = 0; i < tileRows.size(); ++i)
        for (size_t j = 0; j < tileCols.size(); ++j)
          amx::TileStoreOp::create(b, loc, cMem, ValueRange{idx(tileRows[i]), idx(tileCols[j])},
                                   acc[i * tileCols.size() + j]);
      return;
    }
    for (size_t i = 0; i < tileRows.size(); ++i)
      for (size_t j = 0; j < tileCols.size(); ++j)
        loop(0, 16, 1, [&](Value m) {
          Value row = addc(m, tileRows[i]), col = idx(tileCols[j]);
          SmallVector<Value> acc{accumulate ? loadVec(cMem, {row, col}, 16) : zeros(16)};
          for (int64_t s = 0; s < steps; ++s) {
            TileOperand a = aAt(int64_t(i), s), w = bAt(int64_t(j), s);
            acc = loopAcc(idx(0), idx(16), 1, acc, [&](Value p, ValueRange sum) {
              Value p2 = arith::MulIOp::create(b, loc, p, idx(2));
              auto [even, odd] = widenPairs(vector::LoadOp::create(b, loc, h32, w.mem, shifted(w, p, idx(0))));
              Value ae = vector::BroadcastOp::create(b, loc, v16, loadScalar(a.mem, shifted(a, m, p2)));
              Value ao = vector::BroadcastOp::create(b, loc, v16, loadScalar(a.mem, shifted(a, m, addc(p2, 1))));
              return SmallVector<Value>{
                  vector::FMAOp::create(b, loc, ao, odd, vector::FMAOp::create(b, loc, ae, even, sum[0]))};
            });
          }
          storeVec(acc[0], cMem, {row, col});
        });
  };
  // Row tiles in pairs (and a last one alone).
  auto rowTileGroups = [&](const std::function<void(ArrayRef<int64_t>)> &body) {
    for (int64_t a = 0; a < rowTiles; a += 2) {
      SmallVector<int64_t> group{a * 16};
      if (a + 1 < rowTiles) group.push_back((a + 1) * 16);
      body(group);
    }
  };

  const auto noNaNFlags = arith::FastMathFlags::nnan | arith::FastMathFlags::nsz;
  auto noNaN = arith::FastMathFlagsAttr::get(b.getContext(), noNaNFlags);

  parallelLoop(0, (T / R) * items, 1, [&](Value wi) {
    Value t0 = arith::MulIOp::create(b, loc, arith::DivUIOp::create(b, loc, wi, idx(items)), idx(R));
    Value item = arith::RemUIOp::create(b, loc, wi, idx(items));
    Value kvh, h0; // (a structured binding could not be captured in C++17)
    std::tie(kvh, h0) = itemHeads(item, G, gb);
    auto rowQuery = [&](Value i) { return add(t0, arith::DivUIOp::create(b, loc, i, idx(gb))); };
    auto rowHead = [&](Value i) { return add(h0, arith::RemUIOp::create(b, loc, i, idx(gb))); };
    // Per-item scratch (q3-hoist-parallel-scratch moves it to the region's start).
    Value Qs = scratch({rows, D}, bf16t), Kv = scratch({2, D / 2, kStep}, bf16t), Vv = scratch({16, 2 * D}, bf16t);
    Value S = scratch({rows, kStep}, f32t), P = scratch({rows, kStep}, bf16t), O = scratch({rows, D}, f32t);
    Value M = scratch({rows}, f32t), L = scratch({rows}, f32t);
    loop(0, rows, 1, [&](Value i) {
      Value t = rowQuery(i), h = rowHead(i);
      for (int64_t c = 0; c < dTiles; ++c) {
        storeBF16(loadVec(q, {t, h, idx(c * 16)}, 16), Qs, {i, idx(c * 16)});
        storeVec(zeros(16), O, {i, idx(c * 16)});
      }
      storeScalar(f32(-1e30), M, {i}); // exp(-1e30 - m') is 0
      storeScalar(f32(0.0), L, {i});
    });
    // Steps up to the last row's keys (the rows before it mask the rest).
    Value nLast = arith::MinUIOp::create(b, loc, add(offset, addc(t0, R)), idx(C));
    Value steps = arith::DivUIOp::create(b, loc, addc(nLast, kStep - 1), idx(kStep));
    loop(idx(0), steps, 1, [&](Value js) {
      Value j0 = arith::MulIOp::create(b, loc, js, idx(kStep));
      // Keys: dims (2p, 2p + 1) of each of 16 keys side by side.
      for (int64_t half = 0; half < 2; ++half) {
        Value kb = minc(addc(arith::MulIOp::create(b, loc, js, idx(2)), half), keyBlocks - 1);
        loop(0, D / 2, 1, [&](Value p) {
          Value d = arith::MulIOp::create(b, loc, p, idx(2));
          Value even = vector::LoadOp::create(b, loc, h16, k, ValueRange{layer, kvh, kb, d, idx(0)});
          Value odd = vector::LoadOp::create(b, loc, h16, k, ValueRange{layer, kvh, kb, addc(d, 1), idx(0)});
          vector::StoreOp::create(b, loc, vector::InterleaveOp::create(b, loc, even, odd), Kv,
                                  ValueRange{idx(half), p, idx(0)});
        });
      }
      // Values: keys (2p, 2p + 1) side by side for each dim.
      loop(0, 16, 1, [&](Value p) {
        Value je = minc(add(j0, arith::MulIOp::create(b, loc, p, idx(2))), C - 1);
        Value jo = minc(addc(je, 1), C - 1);
        for (int64_t c = 0; c < dTiles; ++c) {
          Value even = vector::LoadOp::create(b, loc, h16, v, ValueRange{layer, kvh, je, idx(c * 16)});
          Value odd = vector::LoadOp::create(b, loc, h16, v, ValueRange{layer, kvh, jo, idx(c * 16)});
          vector::StoreOp::create(b, loc, vector::InterleaveOp::create(b, loc, even, odd), Vv,
                                  ValueRange{p, idx(c * 32)});
        }
      });
      // S = Qs K^T: per pair of row tiles, both halves' 16 keys.
      rowTileGroups([&](ArrayRef<int64_t> group) {
        tileProducts(
            S, group, {0, 16}, /*accumulate=*/false, dSteps,
            [&](int64_t i, int64_t s) { return TileOperand{Qs, {idx(group[i]), idx(s * kAMXTileDepth)}}; },
            [&](int64_t half, int64_t s) { return TileOperand{Kv, {idx(half), idx(s * 16), idx(0)}}; });
      });
      // The online softmax, row by row: new maximum, weights, rescaled state.
      loop(0, rows, 1, [&](Value i) {
        Value n = arith::MinUIOp::create(b, loc, add(offset, addc(rowQuery(i), 1)), idx(C));
        Value m = loadScalar(M, {i});
        SmallVector<Value> s;
        for (int64_t half = 0; half < 2; ++half)
          s.push_back(maskedScores(loadVec(S, {i, idx(half * 16)}, 16), addc(j0, half * 16), n, scale));
        // Scores are finite (masked ones -1e30) and the sign of a zero
        // maximum changes no weight: nnan/nsz make each maximum one vmaxps
        // instead of IEEE maximum's NaN and signed-zero blends.
        Value both = arith::MaximumFOp::create(b, loc, s[0], s[1], noNaN);
        Value mNew = arith::MaximumFOp::create(
            b, loc, m, vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXIMUMF, both, noNaNFlags), noNaN);
        SmallVector<Value> p;
        for (int64_t half = 0; half < 2; ++half) {
          p.push_back(math::ExpOp::create(
              b, loc, arith::SubFOp::create(b, loc, s[half], vector::BroadcastOp::create(b, loc, v16, mNew))));
          storeBF16(p.back(), P, {i, idx(half * 16)});
        }
        Value sum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                                arith::AddFOp::create(b, loc, p[0], p[1]));
        storeScalar(mNew, M, {i});
        // The state is rescaled only when the maximum grew: past the first
        // steps of a row it rarely does, and the rescale is D / 16 loads,
        // multiplies and stores of the row's output.
        Value grew = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, mNew, m);
        auto rescaled = scf::IfOp::create(b, loc, TypeRange{f32t}, grew, /*withElseRegion=*/true);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(rescaled.thenBlock());
          Value corr = math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, m, mNew));
          Value cv = vector::BroadcastOp::create(b, loc, v16, corr);
          for (int64_t c = 0; c < dTiles; ++c)
            storeVec(arith::MulFOp::create(b, loc, loadVec(O, {i, idx(c * 16)}, 16), cv), O, {i, idx(c * 16)});
          scf::YieldOp::create(b, loc, ValueRange{arith::MulFOp::create(b, loc, loadScalar(L, {i}), corr)});
          b.setInsertionPointToStart(rescaled.elseBlock());
          scf::YieldOp::create(b, loc, ValueRange{loadScalar(L, {i})});
        }
        storeScalar(arith::AddFOp::create(b, loc, rescaled.getResult(0), sum), L, {i});
      });
      // O += P V: per pair of row tiles, 32 of the D dims at a time.
      rowTileGroups([&](ArrayRef<int64_t> group) {
        for (int64_t c = 0; c < dTiles; c += 2) {
          SmallVector<int64_t> cols{c * 16};
          if (c + 1 < dTiles) cols.push_back((c + 1) * 16);
          tileProducts(
              O, group, cols, /*accumulate=*/true, 1,
              [&](int64_t i, int64_t) { return TileOperand{P, {idx(group[i]), idx(0)}}; },
              [&](int64_t j, int64_t) { return TileOperand{Vv, {idx(0), idx(cols[j] * 2)}}; });
        }
      });
    });
    loop(0, rows, 1, [&](Value i) {
      Value inv = vector::BroadcastOp::create(b, loc, v16, arith::DivFOp::create(b, loc, f32(1.0), loadScalar(L, {i})));
      Value t = rowQuery(i), h = rowHead(i);
      for (int64_t c = 0; c < dTiles; ++c)
        storeVec(arith::MulFOp::create(b, loc, loadVec(O, {i, idx(c * 16)}, 16), inv), out, {t, h, idx(c * 16)});
    });
  });
}

} // namespace q3
