//===- AttentionBlockedKeys.cpp - online softmax over a key-blocked cache -===//
//
// q3.attention when the strategy blocked the K cache (q3.key_cache_block):
// keys are stored [layers, kv_heads, capacity / 16, D, 16], so element d of
// 16 consecutive positions is one vector. A query row's scores for a block
// of 16 keys are then sum over d of q[d] (broadcast) * K[block][d][:], one
// vector FMA per d with no horizontal reduction, and the block's softmax
// (maximum, exp, sum) is one vector each; the values stay in rows (the
// output sums over positions, so V's rows are the vectors there).
//
// A work item is query_block consecutive query rows of head_block heads of
// one KV head ("tile rows": row i = r * head_block + g is query t0 + r,
// head h0 + g). Each key block is read once for all of them, and every
// row's 16-lane score accumulator is live at once (the strategy sizes the
// tile to the registers). The block's weighted values are then summed in
// passes of value_block output elements: each V vector is loaded (and
// widened) once and feeds every row's accumulator, and each weight is one
// broadcast load. Decode is the same kernel with one query row.
//
// With query_tiles = QT > 1 a work item is QT such register tiles of
// consecutive query rows: each key block is loaded once per item and fed
// to every tile in turn while it is in L1, so a long prompt reads the
// cache QT times less often (prefill at a long context is bound by that
// stream, not by the FMAs). A tile skips the blocks past its own last
// row's keys.
//
// Causality and the end of the context are one mask: lane l of block j0
// counts for row i when j0 + l < n_i = min(offset + t_i + 1, capacity); a
// masked score is -1e30, whose exp against the running maximum is 0 (the
// stale or zero V rows past n_i are then weighted by 0). The running
// maximum, sum and output rows (the flash-attention state) and a block's
// exp scores are per-item scratch.
//
// An int8 cache (QuantisedCache.cpp): the K vectors are int8 widened to f32
// and a block's 16 scores are multiplied by its 16 key scales once, after
// the d loop; the V rows are widened into a block scratch times their
// row scales, which the weighted sum then reads.
//
// With dot = bf16 (vdpbf16ps) or bf16_emulated (its FMA emulation), over a
// bf16 cache, both products take bf16 pairs, as the AMX kernel's tiles do:
// the item's query rows are rounded to bf16 once (scratch Qb), and a score
// step is two dims of every row at once, the block's K rows d and d + 1
// interleaved into (K[d][l], K[d + 1][l]) pairs (one word permute shared
// by the tile's rows) against each row's broadcast (q[d], q[d + 1]) word;
// the block's weights p are rounded to bf16 (scratch P, bf16 then) and a value step
// is two keys, V rows j and j + 1 interleaved likewise against each row's
// (p[j], p[j + 1]) word. Half the arithmetic instructions of the f32 FMAs,
// no widening of K or V. The running sum l adds the unrounded weights.
// Rounding q and p to bf16 (relative error 2^-9 each) is the numerics the
// AMX kernel and PyTorch's bf16 attention have; kernel_check.cpp bounds it.
//
// Decode with kv_split = S > 1 (flash-decoding): work item (item, s) runs
// the same loop over the s-th of S consecutive ranges of the key blocks
// the row sees, and leaves its unnormalised output rows, maximum and sum in
// `partials`; a second parallel loop combines each item's S states. A
// decode step then has items x S work items where it had one per KV head
// and head block (8 for the 0.6B), so more threads than KV heads share it.
//
//===----------------------------------------------------------------------===//
#include "passes/KernelEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/ErrorHandling.h"

#include <functional>
#include <tuple>

using namespace mlir;

namespace q3 {

void KernelEmitter::attentionBlockedKeys(Value q, Value k, Value v, Value layer, Value offset, double scale,
                                         Value out, const AttentionTiling &tiling, Value partials) {
  auto qt = llvm::cast<MemRefType>(q.getType());
  auto kt = llvm::cast<MemRefType>(k.getType());
  const int64_t T = qt.getDimSize(0), Hq = qt.getDimSize(1), D = qt.getDimSize(2);
  const int64_t Hkv = kt.getDimSize(1), KB = kt.getDimSize(4), C = kt.getDimSize(2) * KB;
  const int64_t G = Hq / Hkv, vw = vectorWidth(D), nv = D / vw;
  const int64_t gb = tiling.headBlock, R = tiling.queryBlock, rowCount = gb * R;
  const int64_t blocks = G / gb, items = Hkv * blocks, S = tiling.kvSplit;
  if (S > 1 && (T != 1 || !partials || tiling.queryTiles != 1))
    llvm::report_fatal_error("attentionBlockedKeys: kv_split needs one row, one query tile and its partials");
  // One pass of the value sum: value_block output elements of every row,
  // oc vectors of vvw lanes each; and the d steps of one score-loop
  // iteration.
  const int64_t VB = tiling.valueBlock;
  if (VB <= 0 || D % VB != 0) llvm::report_fatal_error("attentionBlockedKeys: value_block must divide the head dim");
  const int64_t vvw = vectorWidth(VB), oc = VB / vvw;
  int64_t unroll = 1;
  for (int64_t u : {8, 4, 2})
    if (D % u == 0) {
      unroll = u;
      break;
    }
  const bool quantised = isQuantisedCache(k); // int8 rows: q times the row's scale
  const bool pairDot = isBF16Dot(tiling.dot), emulated = tiling.dot == ProductDot::BF16Emulated;
  if (pairDot && (quantised || !kt.getElementType().isBF16() ||
                  !llvm::cast<MemRefType>(v.getType()).getElementType().isBF16() || D % 2 != 0 || KB % 2 != 0))
    llvm::report_fatal_error("attentionBlockedKeys: the bf16 dot needs a bf16 cache and an even head dim");
  if (pairDot) unroll = std::max<int64_t>(1, unroll / 2); // d pairs per score-loop iteration
  Type f32t = b.getF32Type();
  auto vt = VectorType::get({vw}, f32t);
  auto vkb = VectorType::get({KB}, f32t), vvt = VectorType::get({vvw}, f32t);
  auto add = [&](Value a, Value c) { return Value(arith::AddIOp::create(b, loc, a, c)); };
  auto scratch = [&](ArrayRef<int64_t> shape, Type element = Type()) {
    return Value(memref::AllocaOp::create(b, loc, MemRefType::get(shape, element ? element : f32t)));
  };
  Type bf16t = b.getBF16Type();
  const auto noNaNFlags = arith::FastMathFlags::nnan | arith::FastMathFlags::nsz;
  auto noNaN = arith::FastMathFlagsAttr::get(b.getContext(), noNaNFlags);
  auto keyPairs = VectorType::get({2 * KB}, bf16t), valuePairs = VectorType::get({2 * vvw}, bf16t);

  // Work item wi: query rows t0.. (query_tiles register tiles of
  // query_block rows), item (heads), split s of its key blocks.
  const int64_t QT = tiling.queryTiles, itemQueries = R * QT, itemRows = rowCount * QT;
  parallelLoop(0, (T / itemQueries) * items * S, 1, [&](Value wis) {
    Value wi = S > 1 ? Value(arith::DivUIOp::create(b, loc, wis, idx(S))) : wis;
    Value t0 = arith::MulIOp::create(b, loc, arith::DivUIOp::create(b, loc, wi, idx(items)), idx(itemQueries));
    Value item = arith::RemUIOp::create(b, loc, wi, idx(items));
    Value kvh, h0; // (a structured binding could not be captured in C++17)
    std::tie(kvh, h0) = itemHeads(item, G, gb);
    // Register tile tq: its row i is query t0 + tq * R + i / gb of head
    // h0 + i % gb, and row tq * rowCount + i of the item's state.
    struct TileRows {
      SmallVector<Value> t, h, n, state; // query row, head, keys it sees, state row
    };
    auto tileRows = [&](Value tq) {
      TileRows rows;
      Value first = QT > 1 ? add(t0, arith::MulIOp::create(b, loc, tq, idx(R))) : t0;
      Value stateBase = QT > 1 ? Value(arith::MulIOp::create(b, loc, tq, idx(rowCount))) : Value();
      for (int64_t r = 0; r < R; ++r) {
        Value t = add(first, idx(r));
        Value n = arith::MinUIOp::create(b, loc, add(offset, add(t, idx(1))), idx(C));
        for (int64_t g = 0; g < gb; ++g) {
          rows.t.push_back(t);
          rows.h.push_back(add(h0, idx(g)));
          rows.n.push_back(n);
          rows.state.push_back(stateBase ? add(stateBase, idx(r * gb + g)) : idx(r * gb + g));
        }
      }
      return rows;
    };
    auto forEachTile = [&](const std::function<void(const TileRows &)> &body) {
      if (QT == 1) return body(tileRows(idx(0)));
      loop(0, QT, 1, [&](Value tq) { body(tileRows(tq)); });
    };
    // Per-item scratch (q3-hoist-parallel-scratch moves it to the region's
    // start): output rows, running maximum and sum of every row; a tile's
    // block weights and corrections; a block's values widened (int8).
    // L keeps each row's running sum as KB lane sums (one vector FMA a
    // block, reduced once at the end), not a scalar reduced every block.
    Value O = scratch({itemRows, D}), M = scratch({itemRows}), L = scratch({itemRows, KB});
    Value P = scratch({rowCount, KB}, pairDot ? bf16t : Type()), Corr = scratch({rowCount}),
          Vf = quantised ? scratch({KB, D}) : Value();
    Value Qb = pairDot ? scratch({itemRows, D}, bf16t) : Value(); // the item's queries in bf16
    auto rowSum = [&](Value i) {
      return Value(vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, loadVec(L, {i, idx(0)}, KB)));
    };
    forEachTile([&](const TileRows &rows) {
      for (Value i : rows.state) {
        storeScalar(f32(-1e30), M, {i}); // exp(-1e30 - m') is 0
        storeVec(zeros(KB), L, {i, idx(0)});
        for (int64_t c = 0; c < nv; ++c) storeVec(zeros(vw), O, {i, idx(c * vw)});
      }
      if (pairDot) // storeVec rounds to the scratch's bf16
        for (size_t i = 0; i < rows.state.size(); ++i)
          for (int64_t c = 0; c < nv; ++c)
            storeVec(loadVec(q, {rows.t[i], rows.h[i], idx(c * vw)}, vw), Qb, {rows.state[i], idx(c * vw)});
    });
    // Blocks up to the item's last row's keys (the rows before it mask the rest).
    Value nLast = arith::MinUIOp::create(b, loc, add(offset, add(t0, idx(itemQueries))), idx(C));
    Value nBlocks = arith::DivUIOp::create(b, loc, add(nLast, idx(KB - 1)), idx(KB));
    // Split s of S: blocks nBlocks * s / S .. nBlocks * (s + 1) / S (some
    // empty at short contexts: their state stays m = -1e30, l = 0, o = 0).
    Value firstBlock = idx(0), endBlock = nBlocks;
    if (S > 1) {
      Value s = arith::RemUIOp::create(b, loc, wis, idx(S));
      auto bound = [&](Value part) {
        return Value(arith::DivUIOp::create(b, loc, arith::MulIOp::create(b, loc, nBlocks, part), idx(S)));
      };
      firstBlock = bound(s);
      endBlock = bound(add(s, idx(1)));
    }
    // A V row's cache lines: the value passes read a block's rows a slice
    // at a time (strided), which the hardware prefetchers follow poorly, so
    // the next block's rows are asked for whole while this one is summed
    // (prefetch_values: not where the target's prefetchers do better alone).
    auto vCache = llvm::cast<MemRefType>(v.getType());
    const int64_t rowElems = vCache.getDimSize(3), lineElems = 64 / (vCache.getElementTypeBitWidth() / 8);
    loop(firstBlock, endBlock, 1, [&](Value jb) {
      Value j0 = arith::MulIOp::create(b, loc, jb, idx(KB));
      if (tiling.prefetchValues)
        for (int64_t jj = 0; jj < KB; ++jj) {
          Value j = arith::MinUIOp::create(b, loc, add(j0, idx(KB + jj)), idx(C - 1));
          for (int64_t e = 0; e < rowElems; e += lineElems)
            memref::PrefetchOp::create(b, loc, v, ValueRange{layer, kvh, j, idx(e)}, /*isWrite=*/false,
                                       /*localityHint=*/3, /*isDataCache=*/true);
        }
      Value ks = quantised ? cacheBlockScales(k, layer, kvh, jb) : Value(); // the block's 16 key scales
      if (quantised) // int8 V rows widened once, times their row scales
        for (int64_t jj = 0; jj < KB; ++jj) {
          Value j = add(j0, idx(jj));
          Value dv = vector::BroadcastOp::create(b, loc, vt, cacheRowScale(v, layer, kvh, j));
          for (int64_t c = 0; c < nv; ++c)
            storeVec(arith::MulFOp::create(b, loc, loadVec(v, {layer, kvh, j, idx(c * vw)}, vw), dv), Vf,
                     {idx(jj), idx(c * vw)});
        }
      // One register tile against the block (which stays in L1 for the
      // item's next tile).
      auto tileStep = [&](const TileRows &rows) {
        // Scores: every row's accumulator against one key vector per d.
        SmallVector<Value> init(rowCount, zeros(KB));
        SmallVector<Value> acc = loopAcc(idx(0), idx(pairDot ? D / 2 : D), unroll, init, [&](Value d0, ValueRange a) {
          SmallVector<Value> next(a.begin(), a.end());
          for (int64_t u = 0; u < unroll; ++u) {
            if (pairDot) { // dims 2p, 2p + 1 of every row
              Value d = arith::MulIOp::create(b, loc, u ? add(d0, idx(u)) : d0, idx(2));
              auto row = [&](Value dim) {
                return Value(vector::LoadOp::create(b, loc, VectorType::get({KB}, bf16t), k,
                                                    ValueRange{layer, kvh, jb, dim, idx(0)}));
              };
              Value kp = vector::InterleaveOp::create(b, loc, row(d), row(add(d, idx(1))));
              for (int64_t i = 0; i < rowCount; ++i)
                next[i] = dotPairs(next[i], kp, broadcastWord(Qb, {rows.state[i], d}, keyPairs), emulated);
              continue;
            }
            Value d = u ? add(d0, idx(u)) : d0;
            Value kv = loadVec(k, {layer, kvh, jb, d, idx(0)}, KB);
            for (int64_t i = 0; i < rowCount; ++i)
              next[i] = vector::FMAOp::create(
                  b, loc, vector::BroadcastOp::create(b, loc, vkb, loadScalar(q, {rows.t[i], rows.h[i], d})), kv,
                  next[i]);
          }
          return next;
        });
        if (quantised)
          for (Value &a : acc) a = arith::MulFOp::create(b, loc, a, ks);
        // Every row's softmax state first: its block weights p go to P,
        // its correction e^(m - m') to Corr, the rows' corrections one
        // vector exp. Scores are finite (masked ones -1e30) and the sign of
        // a zero maximum changes no weight: nnan/nsz make each maximum one
        // vmaxps, not IEEE maximum's NaN and signed-zero blends.
        SmallVector<Value> shifts, weights;
        for (int64_t i = 0; i < rowCount; ++i) {
          Value ii = idx(i), si = rows.state[i];
          Value s = maskedScores(acc[i], j0, rows.n[i], scale);
          Value m = loadScalar(M, {si});
          Value mNew = arith::MaximumFOp::create(
              b, loc, m, vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXIMUMF, s, noNaNFlags), noNaN);
          Value p = math::ExpOp::create(
              b, loc, arith::SubFOp::create(b, loc, s, vector::BroadcastOp::create(b, loc, vkb, mNew)));
          shifts.push_back(arith::SubFOp::create(b, loc, m, mNew));
          storeScalar(mNew, M, {si});
          weights.push_back(p);
          storeVec(p, P, {ii, idx(0)}); // (rounded to bf16 for the pair dot)
        }
        Value corr = math::ExpOp::create(
            b, loc, vector::FromElementsOp::create(b, loc, VectorType::get({rowCount}, f32t), shifts));
        vector::StoreOp::create(b, loc, corr, Corr, ValueRange{idx(0)});
        for (int64_t i = 0; i < rowCount; ++i) { // l = l * corr + p, lane by lane
          Value ci = vector::BroadcastOp::create(b, loc, vkb, vector::ExtractOp::create(b, loc, corr, ArrayRef<int64_t>{i}));
          storeVec(vector::FMAOp::create(b, loc, loadVec(L, {rows.state[i], idx(0)}, KB), ci, weights[size_t(i)]), L,
                   {rows.state[i], idx(0)});
        }
        // Then o_i = o_i * corr_i + sum_jj p_i[jj] V[j0 + jj] for all rows
        // at once, value_block elements of each row's output a pass: each
        // V vector is loaded (and widened) once for every row, and each
        // weight is one broadcast load. The passes are a loop, not
        // unrolled, so that the register allocator sees one pass's
        // accumulators at a time.
        loop(0, D / VB, 1, [&](Value pass) {
          Value c0 = arith::MulIOp::create(b, loc, pass, idx(VB));
          auto col = [&](int64_t u) { return u ? add(c0, idx(u * vvw)) : c0; };
          SmallVector<Value> o;
          for (int64_t i = 0; i < rowCount; ++i) {
            Value cv = vector::BroadcastOp::create(b, loc, vvt, loadScalar(Corr, {idx(i)}));
            for (int64_t u = 0; u < oc; ++u)
              o.push_back(arith::MulFOp::create(b, loc, loadVec(O, {rows.state[i], col(u)}, vvw), cv));
          }
          // The pair dot: keys (j, j + 1) a step, each V pair vector
          // feeding every row.
          auto pairStep = [&](Value jp, ValueRange a) {
            Value jj = arith::MulIOp::create(b, loc, jp, idx(2)), j = add(j0, jj);
            SmallVector<Value> vp;
            for (int64_t u = 0; u < oc; ++u) {
              auto row = [&](Value pos) {
                return Value(vector::LoadOp::create(b, loc, VectorType::get({vvw}, bf16t), v,
                                                    ValueRange{layer, kvh, pos, col(u)}));
              };
              vp.push_back(vector::InterleaveOp::create(b, loc, row(j), row(add(j, idx(1)))));
            }
            SmallVector<Value> next;
            for (int64_t i = 0; i < rowCount; ++i) {
              Value pw = broadcastWord(P, {idx(i), jj}, valuePairs);
              for (int64_t u = 0; u < oc; ++u) next.push_back(dotPairs(a[i * oc + u], vp[u], pw, emulated));
            }
            return next;
          };
          auto fmaStep = [&](Value jj, ValueRange a) {
            SmallVector<Value> vv;
            for (int64_t u = 0; u < oc; ++u)
              vv.push_back(quantised ? loadVec(Vf, {jj, col(u)}, vvw)
                                     : loadVec(v, {layer, kvh, add(j0, jj), col(u)}, vvw));
            SmallVector<Value> next;
            for (int64_t i = 0; i < rowCount; ++i) {
              Value pb = vector::BroadcastOp::create(b, loc, vvt, loadScalar(P, {idx(i), jj}));
              for (int64_t u = 0; u < oc; ++u)
                next.push_back(vector::FMAOp::create(b, loc, pb, vv[u], a[i * oc + u]));
            }
            return next;
          };
          o = pairDot ? loopAcc(idx(0), idx(KB / 2), 1, o, pairStep) : loopAcc(idx(0), idx(KB), 1, o, fmaStep);
          for (int64_t i = 0; i < rowCount; ++i)
            for (int64_t u = 0; u < oc; ++u) storeVec(o[i * oc + u], O, {rows.state[i], col(u)});
        });
      };
      if (QT == 1) return tileStep(tileRows(idx(0)));
      loop(0, QT, 1, [&](Value tq) {
        TileRows rows = tileRows(tq);
        // A tile whose rows see none of this block (causal) keeps its state.
        auto sees = scf::IfOp::create(b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, j0, rows.n.back()),
                                      /*withElseRegion=*/false);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(sees.thenBlock());
        tileStep(rows);
      });
    });
    if (S > 1) { // the split's state, for the combine below
      for (int64_t i = 0; i < rowCount; ++i) {
        for (int64_t c = 0; c < nv; ++c)
          storeVec(loadVec(O, {idx(i), idx(c * vw)}, vw), partials, {wis, idx(i), idx(c * vw)});
        storeScalar(loadScalar(M, {idx(i)}), partials, {wis, idx(i), idx(D)});
        storeScalar(rowSum(idx(i)), partials, {wis, idx(i), idx(D + 1)});
      }
      return;
    }
    forEachTile([&](const TileRows &rows) {
      for (int64_t i = 0; i < rowCount; ++i) {
        Value si = rows.state[i];
        Value inv = vector::BroadcastOp::create(b, loc, vt, arith::DivFOp::create(b, loc, f32(1.0), rowSum(si)));
        for (int64_t c = 0; c < nv; ++c)
          storeVec(arith::MulFOp::create(b, loc, loadVec(O, {si, idx(c * vw)}, vw), inv), out,
                   {rows.t[i], rows.h[i], idx(c * vw)});
      }
    });
  });
  if (S == 1) return;
  // The combine: m = max_s m_s, then o = sum_s o_s e^(m_s - m) over
  // l = sum_s l_s e^(m_s - m), per item and row (the split holding the
  // maximum adds at least e^0 = 1 to l; empty splits add e^(-1e30 - m) = 0).
  parallelLoop(0, items, 1, [&](Value item) {
    Value kvh, h0;
    std::tie(kvh, h0) = itemHeads(item, G, gb);
    Value first = arith::MulIOp::create(b, loc, item, idx(S));
    for (int64_t i = 0; i < rowCount; ++i) {
      Value ii = idx(i);
      auto part = [&](Value s) { return add(first, s); };
      SmallVector<Value> minit{f32(-1e30)};
      Value m = loopAcc(idx(0), idx(S), 1, minit, [&](Value s, ValueRange a) {
        return SmallVector<Value>{arith::MaximumFOp::create(b, loc, a[0], loadScalar(partials, {part(s), ii, idx(D)}))};
      })[0];
      SmallVector<Value> init{f32(0.0)};
      for (int64_t c = 0; c < nv; ++c) init.push_back(zeros(vw));
      SmallVector<Value> acc = loopAcc(idx(0), idx(S), 1, init, [&](Value s, ValueRange a) {
        Value w = math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, loadScalar(partials, {part(s), ii, idx(D)}), m));
        SmallVector<Value> next{arith::AddFOp::create(
            b, loc, a[0], arith::MulFOp::create(b, loc, w, loadScalar(partials, {part(s), ii, idx(D + 1)})))};
        Value wv = vector::BroadcastOp::create(b, loc, vt, w);
        for (int64_t c = 0; c < nv; ++c)
          next.push_back(vector::FMAOp::create(b, loc, wv, loadVec(partials, {part(s), ii, idx(c * vw)}, vw), a[1 + c]));
        return next;
      });
      Value inv = vector::BroadcastOp::create(b, loc, vt, arith::DivFOp::create(b, loc, f32(1.0), acc[0]));
      for (int64_t c = 0; c < nv; ++c)
        storeVec(arith::MulFOp::create(b, loc, acc[1 + c], inv), out, {idx(0), add(h0, ii), idx(c * vw)});
    }
  });
}

} // namespace q3
