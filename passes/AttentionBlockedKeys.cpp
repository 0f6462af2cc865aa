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
// head h0 + g). Each key block is read once for all of them, the V block
// widened to f32 once (a bf16 cache), and every row's 16-lane score
// accumulator is live at once (the strategy sizes the tile to the
// registers). Decode is the same kernel with one query row.
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
// the d loop; the V rows are widened into the block's scratch times their
// row scales, so the weighted sum is the same loop.
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
#include "llvm/Support/ErrorHandling.h"

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
  if (S > 1 && (T != 1 || !partials)) llvm::report_fatal_error("attentionBlockedKeys: kv_split needs one row and its partials");
  // Output vectors accumulated in registers at once (8 ymm on AVX2), and
  // the d steps of one score-loop iteration.
  int64_t oc = 1, unroll = 1;
  for (int64_t c = 1; c <= std::min<int64_t>(nv, 4); ++c)
    if (nv % c == 0) oc = c;
  for (int64_t u : {8, 4, 2})
    if (D % u == 0) {
      unroll = u;
      break;
    }
  const bool widen = !llvm::cast<MemRefType>(v.getType()).getElementType().isF32();
  const bool quantised = isQuantisedCache(k); // int8 rows: q times the row's scale
  Type f32t = b.getF32Type();
  auto vt = VectorType::get({vw}, f32t);
  auto vkb = VectorType::get({KB}, f32t);
  auto add = [&](Value a, Value c) { return Value(arith::AddIOp::create(b, loc, a, c)); };
  auto scratch = [&](ArrayRef<int64_t> shape) {
    return Value(memref::AllocaOp::create(b, loc, MemRefType::get(shape, f32t)));
  };

  // Work item wi: query rows t0.., item (heads), split s of its key blocks.
  parallelLoop(0, (T / R) * items * S, 1, [&](Value wis) {
    Value wi = S > 1 ? Value(arith::DivUIOp::create(b, loc, wis, idx(S))) : wis;
    Value t0 = arith::MulIOp::create(b, loc, arith::DivUIOp::create(b, loc, wi, idx(items)), idx(R));
    Value item = arith::RemUIOp::create(b, loc, wi, idx(items));
    Value kvh, h0; // (a structured binding could not be captured in C++17)
    std::tie(kvh, h0) = itemHeads(item, G, gb);
    SmallVector<Value> rowT, rowH, rowN; // query row, head, keys it sees
    for (int64_t r = 0; r < R; ++r) {
      Value t = add(t0, idx(r));
      Value n = arith::MinUIOp::create(b, loc, add(offset, add(t, idx(1))), idx(C));
      for (int64_t g = 0; g < gb; ++g) {
        rowT.push_back(t);
        rowH.push_back(add(h0, idx(g)));
        rowN.push_back(n);
      }
    }
    // Per-item scratch (q3-hoist-parallel-scratch moves it to the region's
    // start): output rows, running maximum and sum, a block's values widened.
    Value O = scratch({rowCount, D}), M = scratch({rowCount}), L = scratch({rowCount});
    Value P = scratch({rowCount, KB}), Vf = widen ? scratch({KB, D}) : Value();
    for (int64_t i = 0; i < rowCount; ++i) {
      storeScalar(f32(-1e30), M, {idx(i)}); // exp(-1e30 - m') is 0
      storeScalar(f32(0.0), L, {idx(i)});
      for (int64_t c = 0; c < nv; ++c) storeVec(zeros(vw), O, {idx(i), idx(c * vw)});
    }
    // Blocks up to the last row's keys (the rows before it mask the rest).
    Value nLast = rowN.back();
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
    loop(firstBlock, endBlock, 1, [&](Value jb) {
      Value j0 = arith::MulIOp::create(b, loc, jb, idx(KB));
      // Scores: every row's accumulator against one key vector per d.
      SmallVector<Value> init(rowCount, zeros(KB));
      SmallVector<Value> acc = loopAcc(idx(0), idx(D), unroll, init, [&](Value d0, ValueRange a) {
        SmallVector<Value> next(a.begin(), a.end());
        for (int64_t u = 0; u < unroll; ++u) {
          Value d = u ? add(d0, idx(u)) : d0;
          Value kv = loadVec(k, {layer, kvh, jb, d, idx(0)}, KB);
          for (int64_t i = 0; i < rowCount; ++i)
            next[i] = vector::FMAOp::create(
                b, loc, vector::BroadcastOp::create(b, loc, vkb, loadScalar(q, {rowT[i], rowH[i], d})), kv, next[i]);
        }
        return next;
      });
      if (quantised) { // the block's 16 key scales times its 16 scores
        Value ks = cacheBlockScales(k, layer, kvh, jb);
        for (Value &a : acc) a = arith::MulFOp::create(b, loc, a, ks);
      }
      if (widen)
        for (int64_t jj = 0; jj < KB; ++jj) {
          Value j = add(j0, idx(jj));
          Value dv = quantised ? Value(vector::BroadcastOp::create(b, loc, vt, cacheRowScale(v, layer, kvh, j))) : Value();
          for (int64_t c = 0; c < nv; ++c) {
            Value row = loadVec(v, {layer, kvh, j, idx(c * vw)}, vw);
            storeVec(quantised ? Value(arith::MulFOp::create(b, loc, row, dv)) : row, Vf, {idx(jj), idx(c * vw)});
          }
        }
      for (int64_t i = 0; i < rowCount; ++i) {
        Value ii = idx(i);
        Value s = maskedScores(acc[i], j0, rowN[i], scale);
        Value m = loadScalar(M, {ii});
        Value mNew = arith::MaximumFOp::create(
            b, loc, m, vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXIMUMF, s));
        Value p = math::ExpOp::create(
            b, loc, arith::SubFOp::create(b, loc, s, vector::BroadcastOp::create(b, loc, vkb, mNew)));
        Value corr = math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, m, mNew));
        storeScalar(mNew, M, {ii});
        storeScalar(arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, loadScalar(L, {ii}), corr),
                                          vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, p)),
                    L, {ii});
        // o = o * corr + sum_jj p[jj] * V[j0 + jj], oc vectors at a time,
        // in a loop over the block's keys: p goes through scratch so that
        // each weight is one broadcast load (all 16 broadcast at once would
        // not fit the registers).
        vector::StoreOp::create(b, loc, p, P, ValueRange{ii, idx(0)});
        Value cv = vector::BroadcastOp::create(b, loc, vt, corr);
        for (int64_t c0 = 0; c0 < nv; c0 += oc) {
          SmallVector<Value> o;
          for (int64_t u = 0; u < oc; ++u)
            o.push_back(arith::MulFOp::create(b, loc, loadVec(O, {ii, idx((c0 + u) * vw)}, vw), cv));
          o = loopAcc(idx(0), idx(KB), 1, o, [&](Value jj, ValueRange a) {
            Value pb = vector::BroadcastOp::create(b, loc, vt, loadScalar(P, {ii, jj}));
            SmallVector<Value> next;
            for (int64_t u = 0; u < oc; ++u) {
              Value d = idx((c0 + u) * vw);
              Value vv = widen ? loadVec(Vf, {jj, d}, vw) : loadVec(v, {layer, kvh, add(j0, jj), d}, vw);
              next.push_back(vector::FMAOp::create(b, loc, pb, vv, a[u]));
            }
            return next;
          });
          for (int64_t u = 0; u < oc; ++u) storeVec(o[u], O, {ii, idx((c0 + u) * vw)});
        }
      }
    });
    if (S > 1) { // the split's state, for the combine below
      for (int64_t i = 0; i < rowCount; ++i) {
        for (int64_t c = 0; c < nv; ++c)
          storeVec(loadVec(O, {idx(i), idx(c * vw)}, vw), partials, {wis, idx(i), idx(c * vw)});
        storeScalar(loadScalar(M, {idx(i)}), partials, {wis, idx(i), idx(D)});
        storeScalar(loadScalar(L, {idx(i)}), partials, {wis, idx(i), idx(D + 1)});
      }
      return;
    }
    for (int64_t i = 0; i < rowCount; ++i) {
      Value inv = vector::BroadcastOp::create(
          b, loc, vt, arith::DivFOp::create(b, loc, f32(1.0), loadScalar(L, {idx(i)})));
      for (int64_t c = 0; c < nv; ++c)
        storeVec(arith::MulFOp::create(b, loc, loadVec(O, {idx(i), idx(c * vw)}, vw), inv), out,
                 {rowT[i], rowH[i], idx(c * vw)});
    }
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
