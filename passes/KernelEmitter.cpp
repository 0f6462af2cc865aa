//===- KernelEmitter.cpp - q3 ops as loop nests on memrefs ------------------===//
//
// Numerics follow eager/Kernels.cpp (the oracle) op for op: the same
// reduction formulas, RoPE frequencies from the same f32 expression, softmax
// with max subtraction, router ties to the lower expert.
//
//===----------------------------------------------------------------------===//
#include "passes/KernelEmitter.h"

#include "passes/TargetInfo.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"

#include <cmath>
#include <limits>
#include <tuple>

using namespace mlir;

namespace q3 {

int64_t vectorWidth(int64_t size) {
  for (int64_t w : {16, 8, 4, 2})
    if (size % w == 0) return w;
  return 1;
}

namespace {
MemRefType memrefOf(Value v) { return llvm::cast<MemRefType>(v.getType()); }
} // namespace

// --- building blocks -------------------------------------------------------

Value KernelEmitter::idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

Value KernelEmitter::f32(double v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(float(v)));
}

Value KernelEmitter::zeros(int64_t width) {
  auto vt = VectorType::get({width}, b.getF32Type());
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vt, b.getF32FloatAttr(0.0f)));
}

void KernelEmitter::loop(Value lb, Value ub, int64_t step, const Body &body) {
  auto forOp = scf::ForOp::create(b, loc, lb, ub, idx(step));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forOp.getBody());
  body(forOp.getInductionVar());
}

void KernelEmitter::loop(int64_t lb, int64_t ub, int64_t step, const Body &body) {
  loop(idx(lb), idx(ub), step, body);
}

void KernelEmitter::parallelLoop(int64_t lb, int64_t ub, int64_t step, const Body &body) {
  if ((ub - lb) / step < 2) return loop(lb, ub, step, body);
  auto par = scf::ParallelOp::create(b, loc, ValueRange{idx(lb)}, ValueRange{idx(ub)},
                                     ValueRange{idx(step)});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(par.getBody());
  body(par.getInductionVars()[0]);
}

SmallVector<Value> KernelEmitter::loopAcc(Value lb, Value ub, int64_t step, ValueRange init,
                                          const AccBody &body) {
  auto forOp = scf::ForOp::create(
      b, loc, lb, ub, idx(step), init, [&](OpBuilder &nb, Location l, Value iv, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        SmallVector<Value> next = body(iv, acc);
        scf::YieldOp::create(b, l, next);
      });
  return SmallVector<Value>(forOp.getResults());
}

Value KernelEmitter::loadVec(Value mem, ValueRange indices, int64_t width) {
  Type et = memrefOf(mem).getElementType();
  Value v = vector::LoadOp::create(b, loc, VectorType::get({width}, et), mem, indices);
  auto ft = VectorType::get({width}, b.getF32Type());
  if (llvm::isa<IntegerType>(et)) return arith::SIToFPOp::create(b, loc, ft, v); // an int8 cache's q
  if (!et.isF32()) v = arith::ExtFOp::create(b, loc, ft, v);
  return v;
}

void KernelEmitter::storeVec(Value vec, Value mem, ValueRange indices) {
  Type et = memrefOf(mem).getElementType();
  auto vt = llvm::cast<VectorType>(vec.getType());
  // bf16 in integer arithmetic: fptrunc would be a libcall without AVX512-BF16.
  // A vector already of the memory's type (an int8 cache's q) is stored as it is.
  if (vt.getElementType() != et) {
    if (et.isBF16()) vec = roundToBF16(vec);
    else vec = arith::TruncFOp::create(b, loc, VectorType::get(vt.getShape(), et), vec);
  }
  vector::StoreOp::create(b, loc, vec, mem, indices);
}

Value KernelEmitter::loadScalar(Value mem, ValueRange indices) {
  Value v = memref::LoadOp::create(b, loc, mem, indices);
  if (llvm::isa<FloatType>(v.getType()) && !v.getType().isF32())
    v = arith::ExtFOp::create(b, loc, b.getF32Type(), v);
  return v;
}

void KernelEmitter::storeScalar(Value v, Value mem, ValueRange indices) {
  Type et = memrefOf(mem).getElementType();
  if (et.isBF16()) v = roundToBF16(v);
  else if (llvm::isa<FloatType>(et) && !et.isF32()) v = arith::TruncFOp::create(b, loc, et, v);
  memref::StoreOp::create(b, loc, v, mem, indices);
}

Value KernelEmitter::dot(Value a, ValueRange aPrefix, Value bm, ValueRange bPrefix, int64_t K) {
  int64_t vw = vectorWidth(K);
  // U independent accumulators hide the FMA latency (a single chain runs at
  // a quarter of the throughput); their sum is reduced once at the end.
  int64_t U = (K / vw) % 4 == 0 ? 4 : (K / vw) % 2 == 0 ? 2 : 1;
  SmallVector<Value> init(U, zeros(vw));
  auto acc = loopAcc(idx(0), idx(K), vw * U, init, [&](Value k, ValueRange s) {
    SmallVector<Value> next;
    for (int64_t u = 0; u < U; ++u) {
      Value ku = u ? Value(arith::AddIOp::create(b, loc, k, idx(u * vw))) : k;
      SmallVector<Value> ai(aPrefix.begin(), aPrefix.end()), bi(bPrefix.begin(), bPrefix.end());
      ai.push_back(ku);
      bi.push_back(ku);
      next.push_back(vector::FMAOp::create(b, loc, loadVec(a, ai, vw), loadVec(bm, bi, vw), s[u]));
    }
    return next;
  });
  Value sum = acc[0];
  for (int64_t u = 1; u < U; ++u) sum = arith::AddFOp::create(b, loc, sum, acc[u]);
  return vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, sum);
}

Value KernelEmitter::flatten(Value mem) {
  auto t = memrefOf(mem);
  if (t.getRank() == 1) return mem;
  ReassociationIndices all;
  for (int64_t i = 0; i < t.getRank(); ++i) all.push_back(i);
  return memref::CollapseShapeOp::create(b, loc, mem, ArrayRef<ReassociationIndices>{all});
}

Value KernelEmitter::rows(Value mem) {
  auto t = memrefOf(mem);
  if (t.getRank() == 2) return mem;
  if (t.getRank() == 1)
    return memref::ExpandShapeOp::create(b, loc, MemRefType::get({1, t.getDimSize(0)}, t.getElementType()),
                                         mem, ArrayRef<ReassociationIndices>{{0, 1}});
  ReassociationIndices lead;
  for (int64_t i = 0; i + 1 < t.getRank(); ++i) lead.push_back(i);
  return memref::CollapseShapeOp::create(
      b, loc, mem, ArrayRef<ReassociationIndices>{lead, {t.getRank() - 1}});
}

Value KernelEmitter::silu(Value x) {
  Type t = x.getType();
  Value one = llvm::isa<VectorType>(t)
                  ? Value(vector::BroadcastOp::create(b, loc, t, f32(1.0)))
                  : f32(1.0);
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  return arith::DivFOp::create(b, loc, x, arith::AddFOp::create(b, loc, one, e));
}

Value KernelEmitter::constantTable(StringRef name, ArrayRef<float> values) {
  auto type = MemRefType::get({int64_t(values.size())}, b.getF32Type());
  if (!module.lookupSymbol(name)) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    auto tensorType = RankedTensorType::get({int64_t(values.size())}, b.getF32Type());
    memref::GlobalOp::create(b, loc, name, b.getStringAttr("private"), type,
                             DenseElementsAttr::get(tensorType, values), /*constant=*/true,
                             /*alignment=*/b.getI64IntegerAttr(64));
  }
  return memref::GetGlobalOp::create(b, loc, type, name);
}

// --- kernels ---------------------------------------------------------------

void KernelEmitter::embedding(Value table, Value ids, Value out, Value scales, bool int4) {
  auto ot = memrefOf(out);
  int64_t T = ot.getDimSize(0), H = ot.getDimSize(1), vw = vectorWidth(H);
  bool packed = memrefOf(table).getRank() == 3; // k16 or k16_pairs: shared with a tied LM head
  bool pairs = packed && memrefOf(table).getShape().back() == 32;
  loop(0, T, 1, [&](Value t) {
    Value row = loadIndex(ids, {t});
    if (!packed) {
      loop(0, H, vw, [&](Value h) { storeVec(loadVec(table, {row, h}, vw), out, {t, h}); });
      return;
    }
    Value block = arith::DivUIOp::create(b, loc, row, idx(16));
    Value lane = arith::RemUIOp::create(b, loc, row, idx(16));
    if (pairs) { // Wp[n / 16][k / 2][n % 16][k % 2]
      Value lane2 = arith::MulIOp::create(b, loc, lane, idx(2));
      loop(0, H, 2, [&](Value h) {
        Value p = arith::DivUIOp::create(b, loc, h, idx(2));
        storeScalar(loadScalar(table, {block, p, lane2}), out, {t, h});
        storeScalar(loadScalar(table, {block, p, arith::AddIOp::create(b, loc, lane2, idx(1))}), out,
                    {t, arith::AddIOp::create(b, loc, h, idx(1))});
      });
      return;
    }
    // Quads: [n / 16][k / 4][64] int8, or int4 [n / 16][k / 8][64] with k
    // = 8p + j in byte j's low nibble and 8p + 4 + j in its high one.
    const bool quadRows = scales && memrefOf(table).getShape().back() == 64;
    if (scales) { // k16_q8: q * d, the value the products compute with; k16_q4: (q - 8) * d
      loop(0, H, 1, [&](Value h) {
        Value q;
        auto i32 = [&](int64_t c) { return arith::ConstantIntOp::create(b, loc, c, 32); };
        auto nibble = [&](Value byte, Value high) { // (high ? byte >> 4 : byte) & 15, minus 8
          Value wide = arith::ExtUIOp::create(b, loc, b.getI32Type(), byte);
          Value shift = arith::MulIOp::create(b, loc, arith::IndexCastOp::create(b, loc, b.getI32Type(), high), i32(4));
          return arith::SubIOp::create(b, loc, arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, wide, shift), i32(15)),
                                       i32(8));
        };
        if (quadRows) {
          const int64_t perRow = int4 ? 8 : 4;
          Value byte = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, lane, idx(4)),
                                             arith::RemUIOp::create(b, loc, h, idx(4)));
          Value v = memref::LoadOp::create(b, loc, table, ValueRange{block, arith::DivUIOp::create(b, loc, h, idx(perRow)), byte});
          q = int4 ? nibble(v, arith::DivUIOp::create(b, loc, arith::RemUIOp::create(b, loc, h, idx(8)), idx(4))) : v;
        } else if (int4) {
          Value byte = memref::LoadOp::create(b, loc, table, ValueRange{block, arith::DivUIOp::create(b, loc, h, idx(2)), lane});
          q = nibble(byte, arith::RemUIOp::create(b, loc, h, idx(2)));
        } else {
          q = memref::LoadOp::create(b, loc, table, ValueRange{block, h, lane});
        }
        Value qf = arith::SIToFPOp::create(b, loc, b.getF32Type(), q);
        Value g = arith::DivUIOp::create(b, loc, h, idx(kQ8Group));
        storeScalar(arith::MulFOp::create(b, loc, qf, loadScalar(scales, {block, g, lane})), out, {t, h});
      });
      return;
    }
    loop(0, H, 1, [&](Value h) { storeScalar(loadScalar(table, {block, h, lane}), out, {t, h}); });
  });
}

Value KernelEmitter::inverseRms(Value mem, ValueRange prefix, int64_t N, double eps) {
  int64_t vw = vectorWidth(N);
  auto acc = loopAcc(idx(0), idx(N), vw, {zeros(vw)}, [&](Value k, ValueRange a) {
    SmallVector<Value> at(prefix.begin(), prefix.end());
    at.push_back(k);
    Value v = loadVec(mem, at, vw);
    return SmallVector<Value>{vector::FMAOp::create(b, loc, v, v, a[0])};
  });
  Value ss = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc[0]);
  Value mean = arith::DivFOp::create(b, loc, ss, f32(double(N)));
  return math::RsqrtOp::create(b, loc, arith::AddFOp::create(b, loc, mean, f32(eps)));
}

void KernelEmitter::rmsNorm(Value x, Value w, double eps, Value out) {
  Value x2 = rows(x), o2 = rows(out);
  int64_t R = memrefOf(x2).getDimSize(0), N = memrefOf(x2).getDimSize(1), vw = vectorWidth(N);
  auto vt = VectorType::get({vw}, b.getF32Type());
  loop(0, R, 1, [&](Value r) {
    Value inv = inverseRms(x2, {r}, N, eps);
    Value invv = vector::BroadcastOp::create(b, loc, vt, inv);
    loop(0, N, vw, [&](Value k) {
      Value scaled = arith::MulFOp::create(b, loc, loadVec(x2, {r, k}, vw), invv);
      storeVec(arith::MulFOp::create(b, loc, loadVec(w, {k}, vw), scaled), o2, {r, k});
    });
  });
}

void KernelEmitter::linear(Value x, Value w, Value out) {
  Value x2 = rows(x), o2 = rows(out);
  int64_t M = memrefOf(x2).getDimSize(0), K = memrefOf(x2).getDimSize(1);
  int64_t N = memrefOf(w).getDimSize(0), vw = vectorWidth(K);
  int64_t RB = N % 4 == 0 ? 4 : N % 2 == 0 ? 2 : 1;
  // RB weight rows outermost: they stay in cache while every token uses them,
  // and give RB independent accumulator chains per token.
  parallelLoop(0, N, RB, [&](Value n0) {
    SmallVector<Value> n;
    for (int64_t r = 0; r < RB; ++r) n.push_back(arith::AddIOp::create(b, loc, n0, idx(r)));
    loop(0, M, 1, [&](Value m) {
      SmallVector<Value> init(RB, zeros(vw));
      auto acc = loopAcc(idx(0), idx(K), vw, init, [&](Value k, ValueRange a) {
        Value xv = loadVec(x2, {m, k}, vw);
        SmallVector<Value> next;
        for (int64_t r = 0; r < RB; ++r)
          next.push_back(vector::FMAOp::create(b, loc, xv, loadVec(w, {n[r], k}, vw), a[r]));
        return next;
      });
      for (int64_t r = 0; r < RB; ++r)
        storeScalar(vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc[r]), o2,
                    {m, n[r]});
    });
  });
}

// Row-layout weights: the fused op runs as the ops it replaced (the k16
// tile is where the fusions live; a weight whose rows are not a multiple of
// 16 never gets one).
void KernelEmitter::fusedLinear(Value x, Value w, const LinearFusion &f) {
  if (memrefOf(w).getRank() == 3) return isAMXDot(f.tiling.dot) ? linearAMX(x, w, f) : linearK16(x, w, f);
  if (f.norm) {
    rmsNorm(x, f.norm, f.eps, f.normalised);
    x = f.normalised;
  }
  if (!f.gated && f.outs.size() == 1) {
    linear(x, w, f.outs[0]);
    if (f.residual) elementwise(Elementwise::Add, f.outs[0], f.residual, f.outs[0]);
    return;
  }
  linear(x, w, f.product);
  Value p2 = rows(f.product);
  int64_t M = memrefOf(p2).getDimSize(0);
  if (f.gated) {
    Value o2 = rows(f.outs[0]);
    int64_t I = memrefOf(o2).getDimSize(1), vw = vectorWidth(I);
    loop(0, M, 1, [&](Value m) {
      loop(0, I, vw, [&](Value i) {
        Value up = loadVec(p2, {m, arith::AddIOp::create(b, loc, i, idx(I))}, vw);
        storeVec(arith::MulFOp::create(b, loc, silu(loadVec(p2, {m, i}, vw)), up), o2, {m, i});
      });
    });
    return;
  }
  int64_t start = 0;
  for (Value out : f.outs) {
    Value o2 = rows(out);
    int64_t N = memrefOf(o2).getDimSize(1), vw = vectorWidth(N);
    loop(0, M, 1, [&](Value m) {
      loop(0, N, vw, [&](Value n) {
        storeVec(loadVec(p2, {m, arith::AddIOp::create(b, loc, n, idx(start))}, vw), o2, {m, n});
      });
    });
    start += N;
  }
}

void KernelEmitter::invRmsRows(Value x2, double eps, Value invRms) {
  int64_t M = memrefOf(x2).getDimSize(0), K = memrefOf(x2).getDimSize(1);
  loop(0, M, 1, [&](Value m) { storeScalar(inverseRms(x2, {m}, K, eps), invRms, {m}); });
}

// f32 -> bf16 rounded to nearest even in integer arithmetic (NaN -> the
// quiet NaN 0x7FC0), bit for bit what PyTorch's bf16 conversion does;
// fptrunc would be a libcall (__truncsfbf2) on targets without AVX512-BF16.
Value KernelEmitter::roundToBF16(Value v) {
  // Scalars and vectors alike: the integer and bf16 types take v's shape.
  auto like = [&](Type element) -> Type {
    if (auto vt = llvm::dyn_cast<VectorType>(v.getType())) return VectorType::get(vt.getShape(), element);
    return element;
  };
  Type it = like(b.getI32Type());
  auto splat = [&](int32_t c) -> Value {
    if (auto vt = llvm::dyn_cast<VectorType>(it))
      return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vt, c));
    return arith::ConstantIntOp::create(b, loc, c, 32);
  };
  auto bitcast = [&](Type to, Value x) -> Value {
    if (llvm::isa<VectorType>(to)) return vector::BitCastOp::create(b, loc, to, x);
    return arith::BitcastOp::create(b, loc, to, x);
  };
  Value bits = bitcast(it, v);
  Value lsb = arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, bits, splat(16)), splat(1));
  Value rounded = arith::ShRUIOp::create(
      b, loc, arith::AddIOp::create(b, loc, arith::AddIOp::create(b, loc, bits, splat(0x7FFF)), lsb), splat(16));
  Value nan = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, v, v);
  Value word = arith::SelectOp::create(b, loc, nan, splat(0x7FC0), rounded);
  Value half = arith::TruncIOp::create(b, loc, like(b.getI16Type()), word);
  return bitcast(like(b.getBF16Type()), half);
}

Value KernelEmitter::widenInt8(Value mem, ValueRange indices, int64_t width) {
  Value q = vector::LoadOp::create(b, loc, VectorType::get({width}, b.getI8Type()), mem, indices);
  Value wide = arith::ExtSIOp::create(b, loc, VectorType::get({width}, b.getI32Type()), q);
  return arith::SIToFPOp::create(b, loc, VectorType::get({width}, b.getF32Type()), wide);
}

SmallVector<Value> KernelEmitter::widenQuads(Value mem, ValueRange indices, bool int4) {
  auto i32 = VectorType::get({16}, b.getI32Type()), f32 = VectorType::get({16}, b.getF32Type());
  Value words = vector::BitCastOp::create(b, loc, i32, vector::LoadOp::create(b, loc, VectorType::get({64}, b.getI8Type()), mem, indices));
  auto splat = [&](int32_t c) { return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(i32, c)); };
  SmallVector<Value> out;
  if (int4) { // k = 8p + j: nibble j of the low ones, then of the high ones; q - 8
    for (int32_t n = 0; n < 8; ++n) {
      int32_t shift = 8 * (n % 4) + 4 * (n / 4);
      Value q = arith::AndIOp::create(b, loc, shift ? Value(arith::ShRUIOp::create(b, loc, words, splat(shift))) : words, splat(15));
      out.push_back(arith::SIToFPOp::create(b, loc, f32, arith::SubIOp::create(b, loc, q, splat(8))));
    }
    return out;
  }
  for (int32_t j = 0; j < 4; ++j) { // byte j: shifted to the top, then arithmetically back down
    Value top = j == 3 ? words : Value(arith::ShLIOp::create(b, loc, words, splat(24 - 8 * j)));
    out.push_back(arith::SIToFPOp::create(b, loc, f32, arith::ShRSIOp::create(b, loc, top, splat(24))));
  }
  return out;
}

bool KernelEmitter::targetHas(llvm::StringRef feature) {
  if (!targetRead) { // a bare input without q3.target has no features
    targetRead = true;
    if (module->hasAttr(kTargetAttrName))
      if (FailureOr<TargetInfo> t = TargetInfo::fromModule(module); succeeded(t)) target = *t;
  }
  return target && target->has(feature.str());
}

std::pair<Value, Value> KernelEmitter::widenNibbles(Value mem, ValueRange indices, int64_t width) {
  auto i32 = VectorType::get({width}, b.getI32Type()), f32 = VectorType::get({width}, b.getF32Type());
  Value bytes = vector::LoadOp::create(b, loc, VectorType::get({width}, b.getI8Type()), mem, indices);
  Value wide = arith::ExtUIOp::create(b, loc, i32, bytes);
  auto splat = [&](int32_t c) { return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(i32, c)); };
  // Instruction selection, the same values either way. On AVX-512, 16
  // lanes: vpermps looks each lane's q - 8 up in a register of the 16
  // values, reading only the index's low 4 bits, so the low nibble needs no
  // mask and each nibble costs one instruction.
  if (width == 16 && targetHas("avx512f")) {
    SmallVector<float> values;
    for (int q = 0; q < 16; ++q) values.push_back(float(q - 8));
    Value table = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(f32, llvm::ArrayRef<float>(values)));
    auto lookUp = [&](Value index) -> Value {
      return LLVM::CallIntrinsicOp::create(b, loc, f32, b.getStringAttr("llvm.x86.avx512.permvar.sf.512"),
                                           ValueRange{table, index})
          .getResult(0);
    };
    return {lookUp(wide), lookUp(arith::ShRUIOp::create(b, loc, wide, splat(4)))};
  }
  // Elsewhere q in [0, 16) as the f32 2^23 + q (its bits 0x4B000000 | q),
  // minus 2^23 + 8: exactly q - 8, in an or and a subtraction instead of a
  // subtraction and a conversion.
  Value magic = splat(0x4B000000);
  Value bias = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(f32, 8388616.0f));
  auto value = [&](Value nibble) -> Value {
    Value bits = vector::BitCastOp::create(b, loc, f32, arith::OrIOp::create(b, loc, nibble, magic));
    return arith::SubFOp::create(b, loc, bits, bias);
  };
  return {value(arith::AndIOp::create(b, loc, wide, splat(15))), value(arith::ShRUIOp::create(b, loc, wide, splat(4)))};
}

void KernelEmitter::quantiseRows(Value x2, Value norm, const Int8Rows &out, Value count, Value inRows) {
  const int64_t K = memrefOf(x2).getDimSize(1), G = kQ8Group;
  auto vt = VectorType::get({G}, b.getF32Type()), it = VectorType::get({G}, b.getI32Type());
  loop(idx(0), count, 1, [&](Value m) {
    Value src = inRows ? loadIndex(inRows, {m}) : m;
    loop(0, K / G, 1, [&](Value g) {
      Value k0 = arith::MulIOp::create(b, loc, g, idx(G));
      Value v = loadVec(x2, {src, k0}, G);
      if (norm) v = arith::MulFOp::create(b, loc, v, loadVec(norm, {k0}, G));
      Value amax = vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXNUMF, math::AbsFOp::create(b, loc, v));
      auto [scale, inv] = int8Scale(amax);
      Value scaled = arith::MulFOp::create(b, loc, v, vector::BroadcastOp::create(b, loc, vt, inv));
      Value qi = arith::FPToSIOp::create(b, loc, it, math::RoundEvenOp::create(b, loc, scaled));
      vector::StoreOp::create(b, loc, arith::TruncIOp::create(b, loc, VectorType::get({G}, b.getI8Type()), qi),
                              out.values, ValueRange{src, k0});
      Value sum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, qi);
      memref::StoreOp::create(b, loc, sum, out.sums, ValueRange{src, g});
      storeScalar(scale, out.scales, {src, g});
    });
  });
}

std::pair<Value, Value> KernelEmitter::int8Scale(Value amax) {
  Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, amax, f32(0));
  return {arith::DivFOp::create(b, loc, amax, f32(127)),
          arith::SelectOp::create(b, loc, positive, arith::DivFOp::create(b, loc, f32(127), amax), f32(0))};
}

Value KernelEmitter::broadcastWord(Value mem, ValueRange indices, VectorType type) {
  Type element = memrefOf(mem).getElementType();
  const int64_t perWord = 32 / element.getIntOrFloatBitWidth();
  Value narrow = vector::LoadOp::create(b, loc, VectorType::get({perWord}, element), mem, indices);
  Value word = vector::ExtractOp::create(
      b, loc, vector::BitCastOp::create(b, loc, VectorType::get({1}, b.getI32Type()), narrow), ArrayRef<int64_t>{0});
  auto words = VectorType::get({type.getNumElements() / perWord}, b.getI32Type());
  return vector::BitCastOp::create(b, loc, type, vector::BroadcastOp::create(b, loc, words, word));
}

Value KernelEmitter::dotBytes(Value acc, Value u, Value s, bool emulated) {
  auto accVt = llvm::cast<VectorType>(acc.getType());
  if (!emulated)
    return LLVM::CallIntrinsicOp::create(b, loc, accVt, b.getStringAttr("llvm.x86.avx512.vpdpbusd.512"),
                                         ValueRange{acc, u, s})
        .getResult(0);
  const int64_t lanes = accVt.getDimSize(0);
  auto wide = VectorType::get({4 * lanes}, b.getI32Type());
  Value products = arith::MulIOp::create(b, loc, arith::ExtUIOp::create(b, loc, wide, u), arith::ExtSIOp::create(b, loc, wide, s));
  // Lane n's products are 4n .. 4n + 3: four strided shuffles, added.
  Value sum = acc;
  for (int64_t j = 0; j < 4; ++j) {
    SmallVector<int64_t> mask;
    for (int64_t n = 0; n < lanes; ++n) mask.push_back(4 * n + j);
    sum = arith::AddIOp::create(b, loc, sum, vector::ShuffleOp::create(b, loc, products, products, mask));
  }
  return sum;
}

// |w|'s partner for vpmaddubsw: x with the sign of w (0 where w is 0).
Value KernelEmitter::signBytes(Value x, Value w) {
  return LLVM::CallIntrinsicOp::create(b, loc, x.getType(), b.getStringAttr("llvm.x86.avx2.psign.b"), ValueRange{x, w})
      .getResult(0);
}

// acc + the i32 sums of each lane's four byte products over the given
// (unsigned, signed) operand pairs: vpmaddubsw per pair into i16 sums of two
// products, the pairs' i16 vectors added (the callers' operands keep every
// such sum within i16), one vpmaddwd with ones into i32.
Value KernelEmitter::maddPairs(Value acc, ArrayRef<std::pair<Value, Value>> operands) {
  auto accVt = llvm::cast<VectorType>(acc.getType());
  auto halves = VectorType::get({2 * accVt.getDimSize(0)}, b.getI16Type());
  Value sum;
  for (auto [u, s] : operands) {
    Value pairs = LLVM::CallIntrinsicOp::create(b, loc, halves, b.getStringAttr("llvm.x86.avx2.pmadd.ub.sw"), ValueRange{u, s})
                      .getResult(0);
    sum = sum ? Value(arith::AddIOp::create(b, loc, sum, pairs)) : pairs;
  }
  Value ones = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(halves, b.getI16IntegerAttr(1).getValue()));
  Value words = LLVM::CallIntrinsicOp::create(b, loc, accVt, b.getStringAttr("llvm.x86.avx2.pmadd.wd"), ValueRange{sum, ones})
                    .getResult(0);
  return arith::AddIOp::create(b, loc, acc, words);
}

void KernelEmitter::roundRows(Value x2, Value r2, Value count, Value inRows) {
  int64_t K = memrefOf(x2).getDimSize(1), vw = vectorWidth(K);
  loop(idx(0), count, 1, [&](Value m) {
    Value src = inRows ? loadIndex(inRows, {m}) : m;
    loop(0, K, vw, [&](Value k) {
      vector::StoreOp::create(b, loc, roundToBF16(loadVec(x2, {src, k}, vw)), r2, ValueRange{src, k});
    });
  });
}

Value KernelEmitter::loadIndex(Value mem, ValueRange indices) {
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), memref::LoadOp::create(b, loc, mem, indices));
}

// bf16 -> f32 is the bf16 bits in the upper half of a word: of each
// lane's (even, odd) pair, the even element shifted up, the odd one masked.
std::pair<Value, Value> KernelEmitter::widenPairs(Value pairs) {
  int64_t VW = llvm::cast<VectorType>(pairs.getType()).getDimSize(0) / 2;
  auto wordVt = VectorType::get({VW}, b.getI32Type());
  auto vt = VectorType::get({VW}, b.getF32Type());
  auto splat = [&](uint32_t c) { return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(wordVt, int32_t(c))); };
  Value words = vector::BitCastOp::create(b, loc, wordVt, pairs);
  Value even = vector::BitCastOp::create(b, loc, vt, arith::ShLIOp::create(b, loc, words, splat(16)));
  Value odd = vector::BitCastOp::create(b, loc, vt, arith::AndIOp::create(b, loc, words, splat(0xFFFF0000u)));
  return {even, odd};
}

Value KernelEmitter::dotPairs(Value acc, Value x, Value y, bool emulated) {
  if (!emulated) return x86vector::DotBF16Op::create(b, loc, acc.getType(), acc, x, y);
  auto [xe, xo] = widenPairs(x);
  auto [ye, yo] = widenPairs(y);
  return vector::FMAOp::create(b, loc, xe, ye, vector::FMAOp::create(b, loc, xo, yo, acc));
}

KernelEmitter::ProductOutputs KernelEmitter::productOutputs(const LinearFusion &f) {
  ProductOutputs o;
  for (Value out : f.outs) {
    o.outs.push_back(rows(out));
    int64_t blocks = memrefOf(o.outs.back()).getDimSize(1) / 16;
    o.partEnd.push_back((o.partEnd.empty() ? 0 : o.partEnd.back()) + (f.gated ? 2 * blocks : blocks));
  }
  if (f.residual) o.residual = rows(f.residual);
  return o;
}

// The epilogue of every product tile, as its values leave the registers
// (or an AMX tile's f32 scratch): + residual; for a gated weight, blocks
// 2j and 2j + 1 are gate and up of the same 16 outputs, stored as
// silu(gate) * up; for a split product, the tile's blocks all belong to one
// part (blocks divide every part), chosen by an scf.if chain on the first
// block; expert products scatter each row, scaled by its router weight,
// into its token's output row.
void KernelEmitter::storeProductTile(const LinearFusion &f, const ProductOutputs &po, const ProductTileValues &t) {
  const int64_t VW = f.tiling.vectorWidth, RB = int64_t(t.blocks.size()), tileRows = int64_t(t.rows.size());
  auto vt = VectorType::get({VW}, b.getF32Type());
  // Output rows and their scales (a scattered, scaled accumulation).
  SmallVector<Value> os, scale;
  for (int64_t i = 0; i < tileRows; ++i) {
    os.push_back(f.outRows ? loadIndex(f.outRows, {t.rows[i]}) : t.rows[i]);
    if (f.outScale) scale.push_back(vector::BroadcastOp::create(b, loc, vt, loadScalar(f.outScale, {t.rows[i]})));
  }
  // Stores the tile into output `p`, whose first block is `first`.
  auto store = [&](int64_t p, int64_t first) {
    Value out = po.outs[size_t(p)];
    for (int64_t r = 0; r < RB; r += f.gated ? 2 : 1) {
      Value blk = first ? Value(arith::SubIOp::create(b, loc, t.blocks[r], idx(first))) : t.blocks[r];
      if (f.gated) blk = arith::DivUIOp::create(b, loc, blk, idx(2));
      Value col0 = arith::MulIOp::create(b, loc, blk, idx(16));
      for (int64_t h = 0; h < t.hn; ++h) {
        Value col = t.h0 + h ? Value(arith::AddIOp::create(b, loc, col0, idx((t.h0 + h) * VW))) : col0;
        for (int64_t i = 0; i < tileRows; ++i) {
          Value v = t.value(r, h, i);
          if (f.gated) v = arith::MulFOp::create(b, loc, silu(v), t.value(r + 1, h, i));
          if (po.residual) v = arith::AddFOp::create(b, loc, v, loadVec(po.residual, {t.rows[i], col}, VW));
          if (f.outScale) v = vector::FMAOp::create(b, loc, scale[i], v, loadVec(out, {os[i], col}, VW));
          storeVec(v, out, {os[i], col});
        }
      }
    }
  };
  // Parts in order: if (nb0 < end_0) part 0 else if (nb0 < end_1) ...
  std::function<void(size_t)> chain = [&](size_t p) {
    int64_t first = p ? po.partEnd[p - 1] : 0;
    if (p + 1 == po.outs.size()) return store(int64_t(p), first);
    Value inPart = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, t.blocks[0], idx(po.partEnd[p]));
    auto ifOp = scf::IfOp::create(b, loc, inPart, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    store(int64_t(p), first);
    b.setInsertionPointToStart(ifOp.elseBlock());
    chain(p + 1);
  };
  chain(0);
}

// Wp[n / 16][k][n % 16]: per 16-row block one contiguous stream; each k
// broadcasts x[m, k] and accumulates 16 outputs in one register, so the
// result is stored as a vector with no horizontal reduction. RB blocks in
// flight give RB independent FMA chains. With several rows (prefill) a
// register tile of MB rows x RB blocks reuses each weight vector MB times and
// each broadcast RB times (16 accumulators for 4 x 4). A block is
// 16 / VW vectors of VW lanes (the config's vector_width: 16 in one zmm, 8 in
// two ymm), so AVX2 code holds the same tile in ymm registers. Every output
// still sums over k in order, so the results are bit-identical to one row at
// a time and for any vector width.
//
// The fusions sit at the two ends of the tile. Prologue: a folded RMSNorm
// computes each row's 1/rms once (invRmsRows), multiplies x[m, k] by the
// norm weight as it is broadcast and the accumulators by 1/rms at the end.
// Epilogue, as the accumulators leave the registers: + residual; for a
// gated (k16-gated) weight, blocks 2j and 2j + 1 are gate and up of the same
// 16 outputs, stored as silu(gate) * up; for a split product, the tile's
// blocks all belong to one part (RB divides every part), chosen by an
// scf.if chain on the first block.
//
// The same tile serves the MoE experts (one expert's weights, gathered input
// rows, scaled scattered output rows: LinearFusion's expert fields) and, on
// k16_pairs weights, steps over k in pairs: two FMAs per pair (f32, or the
// bf16 family emulated) or one vdpbf16ps on the rounded activations.
void KernelEmitter::linearK16(Value x, Value wp, const LinearFusion &f) {
  Value x2 = rows(x);
  int64_t M = memrefOf(x2).getDimSize(0), K = memrefOf(x2).getDimSize(1);
  // Blocks of 16 outputs the tile loop runs over (a pair from two weights
  // counts both).
  const bool perExpert = bool(f.expert);
  int64_t NB = memrefOf(wp).getDimSize(perExpert ? 1 : 0) * (f.up ? 2 : 1);
  const ProductOutputs outs = productOutputs(f);
  // The tile comes from q3.lowering_config (checked legal by the caller).
  int64_t RB = f.tiling.blocks, MB = std::min<int64_t>(f.tiling.rows, M), ahead = f.tiling.prefetch;
  const int64_t VW = f.tiling.vectorWidth, H = 16 / VW; // H vectors per 16-output block
  auto vt = VectorType::get({VW}, b.getF32Type());
  // A folded norm (see stagesFoldedNorm). Applied on load: 1/rms first, the
  // norm weight as x is broadcast, 1/rms on the accumulators. Staged: the
  // normalised rows, as q3.rms_norm writes them, read by a plain tile
  // (bit-identical to unfused).
  Value norm = f.norm;
  if (norm && f.tiling.stageNorm) {
    rmsNorm(x2, norm, f.eps, f.normalised);
    x2 = f.normalised;
    norm = Value();
  }
  if (norm) invRmsRows(x2, f.eps, f.invRms);
  // Paired weights (Wp[n / 16][k / 2][n % 16][k % 2], a last dim of 32) and
  // the inner step's arithmetic. The bf16 families read the activations
  // rounded to bf16 once per product (round to nearest even, as PyTorch's
  // bf16 matmul inputs); fma reads them in f32.
  const bool pairs = memrefOf(wp).getShape().back() == 32;
  const ProductDot dot = f.tiling.dot;
  const bool quads = isI8Dot(dot); // k16_q8_quads (the config's legality check pairs them)
  Value xin = x2;
  if (quads) {
    // Applied on load, the norm weight goes into the quantised values and
    // 1/rms onto the accumulators, as for f32 rows (a group's int8 values
    // do not change with a common factor).
    quantiseRows(x2, norm, f.int8Rows, f.rowCount ? f.rowCount : idx(M), f.inRows);
  } else if (dot != ProductDot::FMA) {
    xin = rows(f.rounded);
    roundRows(x2, xin, f.rowCount ? f.rowCount : idx(M), f.inRows);
  }
  parallelLoop(0, NB, RB, [&](Value nb0) {
    SmallVector<Value> nb;
    for (int64_t r = 0; r < RB; ++r) nb.push_back(arith::AddIOp::create(b, loc, nb0, idx(r)));
    // Where block r of the tile is read: (weight, indices before k).
    Value pair0 = f.up ? Value(arith::DivUIOp::create(b, loc, nb0, idx(2))) : Value();
    SmallVector<std::pair<Value, SmallVector<Value>>> source;
    for (int64_t r = 0; r < RB; ++r) {
      Value w = f.up && r % 2 ? f.up : wp;
      Value blk = f.up ? (r / 2 ? Value(arith::AddIOp::create(b, loc, pair0, idx(r / 2))) : pair0) : nb[r];
      SmallVector<Value> at;
      if (perExpert) at.push_back(f.expert);
      at.push_back(blk);
      source.push_back({w, at});
    }
    auto weightIndices = [&](int64_t r, Value k, Value lane) {
      SmallVector<Value> i = source[size_t(r)].second;
      i.append({k, lane});
      return i;
    };
    // Rows m0 .. m0 + rows - 1 against the RB blocks.
    // Vectors h0 .. h0 + hn - 1 of each block (all H at once, or one per
    // pass with split_blocks).
    auto tile = [&](Value m0, int64_t rows, int64_t h0, int64_t hn) {
      SmallVector<Value> ms, xs; // tile rows, and the input rows they read
      for (int64_t i = 0; i < rows; ++i) {
        ms.push_back(i ? arith::AddIOp::create(b, loc, m0, idx(i)) : m0);
        xs.push_back(f.inRows ? loadIndex(f.inRows, {ms.back()}) : ms.back());
      }
      // Accumulator of block r, vector h0 + h, row i.
      auto at = [&](int64_t r, int64_t h, int64_t i) { return size_t((r * hn + h) * rows + i); };
      SmallVector<Value> init(RB * hn * rows, zeros(VW));
      SmallVector<Value> acc;
      if (quads) {
        // Per group of 32 k, int8: 8 rows of 4 k, each one 64-byte load per
        // block (its 16 outputs' quads; i8_madd: two 32-byte halves), one
        // 32-bit broadcast of four int8 activations per row, and per block
        // and row an integer dot into an i32 partial sum: vpdpbusd on the
        // weights made unsigned (q + 128, an xor with 0x80); i8_madd,
        // vpmaddubsw + vpmaddwd on |q_w| (-128 too: 128 is a u8) and q_x
        // with q_w's sign (q_x is never -128).
        // int4: 4 rows of 8 k, each load's low nibbles (q in [0, 16), already
        // unsigned) one quad and its high nibbles the next: two broadcasts
        // and two dots. Then per block and row, acc += float(partial -
        // c * sum(q_x)) * (d_w * d_x), c the offset of the unsigned values
        // (vpdpbusd 128, i8_madd 0; int4 8). The integer part is exact, so
        // every family agrees bit for bit.
        auto i32v = VectorType::get({VW}, b.getI32Type()), bytesVt = VectorType::get({4 * VW}, b.getI8Type());
        auto byteSplat = [&](int8_t c) {
          return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(bytesVt, b.getI8IntegerAttr(c).getValue()));
        };
        Value flip = byteSplat(-128), low = byteSplat(0x0F), four = byteSplat(4);
        Value zero32 = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(i32v, b.getI32IntegerAttr(0).getValue()));
        const bool madd = dot == ProductDot::I8Madd, emulated = dot == ProductDot::I8Emulated;
        const int64_t kPerRow = f.int4 ? 8 : 4, steps = kQ8Group / kPerRow;
        // Four activation bytes of row xs[i] from k, in every lane.
        auto activations = [&](int64_t i, Value k) { return broadcastWord(f.int8Rows.values, {xs[i], k}, bytesVt); };
        acc = loopAcc(idx(0), idx(K / kQ8Group), 1, init, [&](Value g, ValueRange a) {
          Value p0 = arith::MulIOp::create(b, loc, g, idx(steps));
          // One row of quads (4 k; int4 8) for the whole tile.
          auto quadStep = [&](Value p, SmallVector<Value> &partial) {
            Value k = arith::MulIOp::create(b, loc, p, idx(kPerRow));
            SmallVector<Value> xb, xbHigh;
            for (int64_t i = 0; i < rows; ++i) {
              xb.push_back(activations(i, k));
              if (f.int4) xbHigh.push_back(activations(i, arith::AddIOp::create(b, loc, k, idx(4))));
            }
            if (ahead > 0) // one line per block and row
              for (int64_t r = 0; r < RB; ++r)
                memref::PrefetchOp::create(b, loc, source[size_t(r)].first,
                                           weightIndices(r, arith::AddIOp::create(b, loc, p, idx(ahead / kPerRow)), idx(0)),
                                           /*isWrite=*/false, /*localityHint=*/3, /*isDataCache=*/true);
            for (int64_t r = 0; r < RB; ++r)
              for (int64_t h = 0; h < hn; ++h) {
                Value w = vector::LoadOp::create(b, loc, bytesVt, source[size_t(r)].first,
                                                 weightIndices(r, p, idx((h0 + h) * 4 * VW)));
                if (!f.int4) {
                  Value u = madd ? Value(math::AbsIOp::create(b, loc, w)) : Value(arith::XOrIOp::create(b, loc, w, flip));
                  for (int64_t i = 0; i < rows; ++i) {
                    Value &sum = partial[at(r, h, i)];
                    sum = madd ? maddPairs(sum, {{u, signBytes(xb[i], w)}}) : dotBytes(sum, u, xb[i], emulated);
                  }
                  continue;
                }
                Value lo = arith::AndIOp::create(b, loc, w, low);
                Value hi = arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, w, four), low);
                for (int64_t i = 0; i < rows; ++i) {
                  Value &sum = partial[at(r, h, i)];
                  sum = madd ? maddPairs(sum, {{lo, xb[i]}, {hi, xbHigh[i]}})
                             : dotBytes(dotBytes(sum, lo, xb[i], emulated), hi, xbHigh[i], emulated);
                }
              }
          };
          SmallVector<Value> partial(size_t(RB * hn * rows), zero32);
          if (!madd) {
            for (int64_t step = 0; step < steps; ++step)
              quadStep(step ? Value(arith::AddIOp::create(b, loc, p0, idx(step))) : p0, partial);
          } else {
            // AVX2's 16 ymm: a group's steps fully unrolled let LLVM hoist
            // every load and abs of the group and spill them (seen in the
            // 0.6B's decode products); a loop of two steps an iteration keeps
            // each step's values in registers.
            partial = loopAcc(p0, arith::AddIOp::create(b, loc, p0, idx(steps)), 2, partial, [&](Value s, ValueRange cur) {
              SmallVector<Value> v(cur.begin(), cur.end());
              quadStep(s, v);
              quadStep(arith::AddIOp::create(b, loc, s, idx(1)), v);
              return v;
            });
          }
          SmallVector<Value> next(a.begin(), a.end());
          SmallVector<Value> dx, comp;
          const int64_t offset = f.int4 ? 8 : madd ? 0 : 128;
          for (int64_t i = 0; i < rows; ++i) {
            dx.push_back(vector::BroadcastOp::create(b, loc, vt, loadScalar(f.int8Rows.scales, {xs[i], g})));
            if (!offset) continue;
            Value sum = memref::LoadOp::create(b, loc, f.int8Rows.sums, ValueRange{xs[i], g});
            comp.push_back(vector::BroadcastOp::create(
                b, loc, i32v, arith::MulIOp::create(b, loc, sum, arith::ConstantIntOp::create(b, loc, offset, 32))));
          }
          for (int64_t r = 0; r < RB; ++r)
            for (int64_t h = 0; h < hn; ++h) {
              SmallVector<Value> at0 = source[size_t(r)].second;
              at0.append({g, idx((h0 + h) * VW)});
              Value dw = loadVec(f.up && r % 2 ? f.upScales : f.scales, at0, VW);
              for (int64_t i = 0; i < rows; ++i) {
                Value exact = partial[at(r, h, i)];
                if (offset) exact = arith::SubIOp::create(b, loc, exact, comp[i]);
                next[at(r, h, i)] = vector::FMAOp::create(b, loc, arith::SIToFPOp::create(b, loc, vt, exact),
                                                          arith::MulFOp::create(b, loc, dw, dx[i]), a[at(r, h, i)]);
              }
            }
          return next;
        });
      } else if (!pairs) {
        // One k step: each row's x broadcast, weight(r, h) each block vector
        // (widened from bf16, or from int8 / int4 without its scale), RB * hn
        // * rows FMAs; the blocks prefetched at index `prefetchAt` when given.
        auto kStepWith = [&](Value k, ValueRange a, Value prefetchAt,
                             llvm::function_ref<Value(int64_t, int64_t)> weight) -> SmallVector<Value> {
          Value g = norm ? loadScalar(norm, {k}) : Value();
          SmallVector<Value> xb;
          for (int64_t i = 0; i < rows; ++i) {
            Value xv = loadScalar(x2, {xs[i], k});
            if (g) xv = arith::MulFOp::create(b, loc, xv, g);
            xb.push_back(vector::BroadcastOp::create(b, loc, vt, xv));
          }
          SmallVector<Value> next(a.begin(), a.end());
          if (prefetchAt)
            for (int64_t r = 0; r < RB; ++r)
              memref::PrefetchOp::create(b, loc, source[size_t(r)].first, weightIndices(r, prefetchAt, idx(0)),
                                         /*isWrite=*/false, /*localityHint=*/3, /*isDataCache=*/true);
          for (int64_t r = 0; r < RB; ++r)
            for (int64_t h = 0; h < hn; ++h) {
              Value wv = weight(r, h);
              for (int64_t i = 0; i < rows; ++i) next[at(r, h, i)] = vector::FMAOp::create(b, loc, wv, xb[i], a[at(r, h, i)]);
            }
          return next;
        };
        // Streaming each block once (decode): ask for it `ahead` k steps early
        // (`prefetch` false: a step whose line an earlier one asked for).
        auto kStepPrefetching = [&](Value k, ValueRange a, bool prefetch) {
          Value prefetchAt = prefetch && ahead > 0 ? Value(arith::AddIOp::create(b, loc, k, idx(ahead))) : Value();
          return kStepWith(k, a, prefetchAt, [&](int64_t r, int64_t h) {
            SmallVector<Value> i = weightIndices(r, k, idx((h0 + h) * VW));
            return f.scales ? widenInt8(source[size_t(r)].first, i, VW) : loadVec(source[size_t(r)].first, i, VW);
          });
        };
        auto kStep = [&](Value k, ValueRange a) { return kStepPrefetching(k, a, true); };
        // int4: byte row p holds k = 2p (low nibbles) and 2p + 1 (high): two
        // k steps on one load.
        auto nibbleStep = [&](Value p, ValueRange a, bool prefetch) {
          SmallVector<Value> low, high;
          for (int64_t r = 0; r < RB; ++r)
            for (int64_t h = 0; h < hn; ++h) {
              auto [l, u] = widenNibbles(source[size_t(r)].first, weightIndices(r, p, idx((h0 + h) * VW)), VW);
              low.push_back(l);
              high.push_back(u);
            }
          Value k0 = arith::MulIOp::create(b, loc, p, idx(2));
          Value prefetchAt = prefetch && ahead > 0 ? Value(arith::AddIOp::create(b, loc, p, idx(ahead / 2))) : Value();
          SmallVector<Value> even =
              kStepWith(k0, a, prefetchAt, [&](int64_t r, int64_t h) { return low[size_t(r * hn + h)]; });
          return kStepWith(arith::AddIOp::create(b, loc, k0, idx(1)), even, Value(),
                           [&](int64_t r, int64_t h) { return high[size_t(r * hn + h)]; });
        };
        if (!f.scales) {
          acc = loopAcc(idx(0), idx(K), 1, init, kStep);
        } else {
          // int8 / int4: per group of 32 k, the partial sums of q * x, then
          // acc += scale * partial (one FMA per group, not a multiply per k).
          acc = loopAcc(idx(0), idx(K / kQ8Group), 1, init, [&](Value g, ValueRange a) {
            const int64_t steps = f.int4 ? kQ8Group / 2 : kQ8Group;
            Value s0 = arith::MulIOp::create(b, loc, g, idx(steps));
            // An int8 step reads 16 bytes of each block: four steps to a
            // 64-byte line, so four steps an iteration and one prefetch per
            // line (tg64 +3-5% at 1 thread on the 0.6B). int4 stays one
            // step an iteration: unrolled so it measured 10% slower.
            const int64_t unroll = f.int4 ? 1 : 4;
            SmallVector<Value> partial = loopAcc(
                s0, arith::AddIOp::create(b, loc, s0, idx(steps)), unroll, init, [&](Value s, ValueRange p) {
                  SmallVector<Value> cur(p.begin(), p.end());
                  for (int64_t u = 0; u < unroll; ++u) {
                    Value su = u ? Value(arith::AddIOp::create(b, loc, s, idx(u))) : s;
                    cur = f.int4 ? nibbleStep(su, cur, u == 0) : kStepPrefetching(su, cur, u == 0);
                  }
                  return cur;
                });
            SmallVector<Value> next(a.begin(), a.end());
            for (int64_t r = 0; r < RB; ++r)
              for (int64_t h = 0; h < hn; ++h) {
                SmallVector<Value> at0 = source[size_t(r)].second;
                at0.append({g, idx((h0 + h) * VW)});
                Value scale = loadVec(f.up && r % 2 ? f.upScales : f.scales, at0, VW);
                for (int64_t i = 0; i < rows; ++i)
                  next[at(r, h, i)] = vector::FMAOp::create(b, loc, partial[at(r, h, i)], scale, a[at(r, h, i)]);
              }
            return next;
          });
        }
      } else {
        // k16_pairs: step p covers k = 2p (even) and 2p + 1 (odd); a
        // block's vector h is 2 * VW bf16, each lane's (even, odd) pair.
        auto pairVt = VectorType::get({2 * VW}, b.getBF16Type());
        acc = loopAcc(idx(0), idx(K / 2), 1, init, [&](Value p, ValueRange a) {
          Value k0 = arith::MulIOp::create(b, loc, p, idx(2));
          Value k1 = arith::AddIOp::create(b, loc, k0, idx(1));
          // Per row: the activation pair, as two f32 broadcasts (even, odd)
          // or one broadcast 32-bit word of two bf16 (vdpbf16ps).
          SmallVector<Value> xe, xo, xw;
          for (int64_t i = 0; i < rows; ++i) {
            if (dot == ProductDot::BF16) {
              xw.push_back(broadcastWord(xin, {xs[i], k0}, pairVt));
              continue;
            }
            Value e = loadScalar(xin, {xs[i], k0}), o = loadScalar(xin, {xs[i], k1});
            if (norm) {
              e = arith::MulFOp::create(b, loc, e, loadScalar(norm, {k0}));
              o = arith::MulFOp::create(b, loc, o, loadScalar(norm, {k1}));
            }
            xe.push_back(vector::BroadcastOp::create(b, loc, vt, e));
            xo.push_back(vector::BroadcastOp::create(b, loc, vt, o));
          }
          SmallVector<Value> next(a.begin(), a.end());
          if (ahead > 0)
            for (int64_t r = 0; r < RB; ++r)
              memref::PrefetchOp::create(b, loc, source[size_t(r)].first,
                                         weightIndices(r, arith::AddIOp::create(b, loc, p, idx((ahead + 1) / 2)), idx(0)),
                                         /*isWrite=*/false, /*localityHint=*/3, /*isDataCache=*/true);
          for (int64_t r = 0; r < RB; ++r)
            for (int64_t h = 0; h < hn; ++h) {
              Value wv = vector::LoadOp::create(b, loc, pairVt, source[size_t(r)].first,
                                                weightIndices(r, p, idx((h0 + h) * 2 * VW)));
              if (dot == ProductDot::BF16) {
                for (int64_t i = 0; i < rows; ++i)
                  next[at(r, h, i)] = x86vector::DotBF16Op::create(b, loc, vt, a[at(r, h, i)], wv, xw[i]);
                continue;
              }
              auto [even, odd] = widenPairs(wv);
              for (int64_t i = 0; i < rows; ++i) {
                Value acc0 = a[at(r, h, i)];
                if (dot == ProductDot::FMA) // k order: even, then odd (as k16)
                  next[at(r, h, i)] = vector::FMAOp::create(b, loc, odd, xo[i], vector::FMAOp::create(b, loc, even, xe[i], acc0));
                else // vdpbf16ps' order: odd, then even
                  next[at(r, h, i)] = vector::FMAOp::create(b, loc, even, xe[i], vector::FMAOp::create(b, loc, odd, xo[i], acc0));
              }
            }
          return next;
        });
      }
      SmallVector<Value> res(acc.begin(), acc.end());
      if (norm)
        for (int64_t i = 0; i < rows; ++i) {
          Value inv = vector::BroadcastOp::create(b, loc, vt, loadScalar(f.invRms, {xs[i]}));
          for (int64_t r = 0; r < RB; ++r)
            for (int64_t h = 0; h < hn; ++h) res[at(r, h, i)] = arith::MulFOp::create(b, loc, res[at(r, h, i)], inv);
        }
      storeProductTile(f, outs, ProductTileValues{ms, nb, h0, hn, [&](int64_t r, int64_t h, int64_t i) {
                                                      return res[at(r, h, i)];
                                                    }});
    };
    auto passes = [&](Value m0, int64_t rows) {
      if (!f.tiling.splitBlocks) return tile(m0, rows, 0, H);
      for (int64_t h0 = 0; h0 < H; ++h0) tile(m0, rows, h0, 1);
    };
    if (f.rowCount) { // rows known at run time: whole tiles, then one row at a time
      Value tiled = MB > 1 ? Value(arith::MulIOp::create(b, loc, arith::DivUIOp::create(b, loc, f.rowCount, idx(MB)), idx(MB)))
                           : f.rowCount;
      loop(idx(0), tiled, MB, [&](Value m0) { passes(m0, MB); });
      if (MB > 1) loop(tiled, f.rowCount, 1, [&](Value m) { passes(m, 1); });
      return;
    }
    int64_t tiled = M / MB * MB;
    if (tiled > 0) loop(0, tiled, MB, [&](Value m0) { passes(m0, MB); });
    if (tiled < M) loop(tiled, M, 1, [&](Value m) { passes(m, 1); });
  });
}

void KernelEmitter::normRope(Value x, Value norm, double eps, Value offset, const RopeSpec &spec, bool splitHalves,
                             Value table, Value out, Value cache, Value layer, Value row) {
  auto t = memrefOf(x);
  int64_t T = t.getDimSize(0), heads = t.getDimSize(1), D = t.getDimSize(2), half = D / 2;
  int64_t hw = vectorWidth(half);
  Value freqs = ropeInverseFrequencies(D, spec);
  int64_t C = cache ? cacheCapacity(cache) : 0;
  auto vt = VectorType::get({hw}, b.getF32Type());
  loop(0, T, 1, [&](Value tok) {
    Value p = arith::AddIOp::create(b, loc, offset, tok);
    Value pos = arith::SIToFPOp::create(b, loc, b.getF32Type(), arith::IndexCastOp::create(b, loc, b.getI64Type(), p));
    // cos and sin of this position, once for all heads.
    loop(0, half, 1, [&](Value i) {
      Value angle = arith::MulFOp::create(b, loc, pos, memref::LoadOp::create(b, loc, freqs, ValueRange{i}));
      storeScalar(ropeScaled(math::CosOp::create(b, loc, angle), spec), table, {idx(0), i});
      storeScalar(ropeScaled(math::SinOp::create(b, loc, angle), spec), table, {idx(1), i});
    });
    auto body = [&] {
      const bool quantised = cache && isQuantisedCache(cache);
      if (quantised && !row) llvm::report_fatal_error("normRope: an int8 cache needs the row scratch");
      loop(0, heads, 1, [&](Value h) {
        Value inv = inverseRms(x, {tok, h}, D, eps);
        auto put = [&](Value v, Value d) {
          if (quantised) storeVec(v, row, {d});
          else if (cache) storeCacheVec(v, cache, layer, h, p, d);
          else storeVec(v, out, {tok, h, d});
        };
        if (splitHalves) {
          Value invv = vector::BroadcastOp::create(b, loc, vt, inv);
          loop(0, half, hw, [&](Value i) {
            Value j = arith::AddIOp::create(b, loc, i, idx(half));
            // As q3.rms_norm computes it: weight * (x * inv).
            Value va = arith::MulFOp::create(b, loc, loadVec(norm, {i}, hw),
                                             arith::MulFOp::create(b, loc, loadVec(x, {tok, h, i}, hw), invv));
            Value vb = arith::MulFOp::create(b, loc, loadVec(norm, {j}, hw),
                                             arith::MulFOp::create(b, loc, loadVec(x, {tok, h, j}, hw), invv));
            Value c = loadVec(table, {idx(0), i}, hw), s = loadVec(table, {idx(1), i}, hw);
            put(arith::SubFOp::create(b, loc, arith::MulFOp::create(b, loc, va, c), arith::MulFOp::create(b, loc, vb, s)), i);
            put(arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, vb, c), arith::MulFOp::create(b, loc, va, s)), j);
          });
          if (quantised) storeQuantisedRow(row, {}, D, cache, layer, h, p);
          return;
        }
        loop(0, half, 1, [&](Value i) { // interleaved pairs (2i, 2i + 1), scalar
          Value ia = arith::MulIOp::create(b, loc, i, idx(2));
          Value ib = arith::AddIOp::create(b, loc, ia, idx(1));
          Value va = arith::MulFOp::create(b, loc, loadScalar(norm, {ia}),
                                           arith::MulFOp::create(b, loc, loadScalar(x, {tok, h, ia}), inv));
          Value vb = arith::MulFOp::create(b, loc, loadScalar(norm, {ib}),
                                           arith::MulFOp::create(b, loc, loadScalar(x, {tok, h, ib}), inv));
          Value c = loadScalar(table, {idx(0), i}), s = loadScalar(table, {idx(1), i});
          Value ra = arith::SubFOp::create(b, loc, arith::MulFOp::create(b, loc, va, c), arith::MulFOp::create(b, loc, vb, s));
          Value rb = arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, vb, c), arith::MulFOp::create(b, loc, va, s));
          if (quantised) {
            storeScalar(ra, row, {ia});
            storeScalar(rb, row, {ib});
          } else if (cache) {
            storeCacheScalar(ra, cache, layer, h, p, ia);
            storeCacheScalar(rb, cache, layer, h, p, ib);
          } else {
            storeScalar(ra, out, {tok, h, ia});
            storeScalar(rb, out, {tok, h, ib});
          }
        });
        if (quantised) storeQuantisedRow(row, {}, D, cache, layer, h, p);
      });
    };
    if (!cache) return body();
    // Rows past the capacity (a padded prefill tail) are dropped.
    auto ifOp = scf::IfOp::create(b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, p, idx(C)), false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    body();
  });
}

Value KernelEmitter::ropeInverseFrequencies(int64_t D, const RopeSpec &spec) {
  // Hugging Face's f32 inverse frequencies (YaRN's blend when scaled),
  // computed by the code the interpreter uses too.
  std::vector<float> f = spec.inverseFrequencies(D);
  return constantTable(spec.tableName(D), SmallVector<float>(f.begin(), f.end()));
}

Value KernelEmitter::ropeScaled(Value v, const RopeSpec &spec) {
  if (spec.cosSinScale() == 1.0f) return v;
  return arith::MulFOp::create(b, loc, v, f32(spec.cosSinScale()));
}

void KernelEmitter::rope(Value x, Value offset, const RopeSpec &spec, bool splitHalves, Value out) {
  auto t = memrefOf(x);
  int64_t T = t.getDimSize(0), heads = t.getDimSize(1), D = t.getDimSize(2), half = D / 2;
  Value table = ropeInverseFrequencies(D, spec);
  loop(0, T, 1, [&](Value tok) {
    Value posIdx = arith::AddIOp::create(b, loc, offset, tok);
    Value posI64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), posIdx);
    Value pos = arith::SIToFPOp::create(b, loc, b.getF32Type(), posI64);
    loop(0, half, 1, [&](Value i) {
      Value angle = arith::MulFOp::create(b, loc, pos, memref::LoadOp::create(b, loc, table, ValueRange{i}));
      Value c = ropeScaled(math::CosOp::create(b, loc, angle), spec);
      Value s = ropeScaled(math::SinOp::create(b, loc, angle), spec);
      Value ia = i, ib;
      if (splitHalves) {
        ib = arith::AddIOp::create(b, loc, i, idx(half));
      } else {
        ia = arith::MulIOp::create(b, loc, i, idx(2));
        ib = arith::AddIOp::create(b, loc, ia, idx(1));
      }
      loop(0, heads, 1, [&](Value h) {
        Value va = loadScalar(x, {tok, h, ia}), vb = loadScalar(x, {tok, h, ib});
        Value ra = arith::SubFOp::create(b, loc, arith::MulFOp::create(b, loc, va, c),
                                         arith::MulFOp::create(b, loc, vb, s));
        Value rb = arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, vb, c),
                                         arith::MulFOp::create(b, loc, va, s));
        storeScalar(ra, out, {tok, h, ia});
        storeScalar(rb, out, {tok, h, ib});
      });
    });
  });
}

std::pair<Value, Value> KernelEmitter::itemHeads(Value item, int64_t G, int64_t gb) {
  Value blocks = idx(G / gb);
  Value kvh = arith::DivUIOp::create(b, loc, item, blocks);
  Value h0 = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, kvh, idx(G)),
                                   arith::MulIOp::create(b, loc, arith::RemUIOp::create(b, loc, item, blocks), idx(gb)));
  return {kvh, h0};
}

int64_t KernelEmitter::cacheCapacity(Value cache) {
  auto ct = memrefOf(cache);
  return ct.getRank() == 5 ? ct.getDimSize(2) * ct.getDimSize(4) : ct.getDimSize(2);
}

// Row p of a cache: cache[layer, h, p, d] in the row layout; in the
// key-blocked one [layers, kv_heads, capacity / 16, D, 16] element d of
// position p is at [layer, h, p / 16, d, p % 16].
void KernelEmitter::storeCacheScalar(Value v, Value cache, Value layer, Value h, Value p, Value d) {
  auto ct = memrefOf(cache);
  if (ct.getRank() == 4) return storeScalar(v, cache, {layer, h, p, d});
  int64_t KB = ct.getDimSize(4);
  storeScalar(v, cache,
              {layer, h, arith::DivUIOp::create(b, loc, p, idx(KB)), d, arith::RemUIOp::create(b, loc, p, idx(KB))});
}

void KernelEmitter::storeCacheVec(Value vec, Value cache, Value layer, Value h, Value p, Value d) {
  if (memrefOf(cache).getRank() == 4) return storeVec(vec, cache, {layer, h, p, d});
  int64_t w = llvm::cast<VectorType>(vec.getType()).getDimSize(0);
  for (int64_t l = 0; l < w; ++l)
    storeCacheScalar(vector::ExtractOp::create(b, loc, vec, l), cache, layer, h, p,
                     l ? Value(arith::AddIOp::create(b, loc, d, idx(l))) : d);
}

void KernelEmitter::kvWrite(Value value, Value cache, Value layer, Value offset) {
  auto vt = memrefOf(value);
  int64_t T = vt.getDimSize(0), Hkv = vt.getDimSize(1), D = vt.getDimSize(2);
  int64_t C = cacheCapacity(cache), vw = vectorWidth(D);
  loop(0, T, 1, [&](Value t) {
    Value p = arith::AddIOp::create(b, loc, offset, t);
    // Rows past the capacity (a padded prefill tail) are dropped.
    Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, p, idx(C));
    auto ifOp = scf::IfOp::create(b, loc, inside, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    loop(0, Hkv, 1, [&](Value h) {
      if (isQuantisedCache(cache)) return storeQuantisedRow(value, {t, h}, D, cache, layer, h, p);
      loop(0, D, vw, [&](Value d) { storeCacheVec(loadVec(value, {t, h, d}, vw), cache, layer, h, p, d); });
    });
  });
}

// Per query token, work items are blocks of `gb` query heads that share a
// kv head (GQA), so each K and V row is loaded once per block, not once per
// head (gb is the q3.attention_config's head_block). Query rows and the
// output rows stay in registers (gb * D / vw of each); softmax is exact (max
// pass, exp-sum pass, PV pass), or online in one pass when `scores` is null.
void KernelEmitter::attention(Value q, Value k, Value v, Value layer, Value offset, double scale,
                              Value scores, Value out, const AttentionTiling &tiling, Value partials) {
  if (memrefOf(k).getRank() == 5 && isAMXDot(tiling.dot)) return attentionAMX(q, k, v, layer, offset, scale, out, tiling);
  if (memrefOf(k).getRank() == 5) return attentionBlockedKeys(q, k, v, layer, offset, scale, out, tiling, partials);
  auto qt = memrefOf(q);
  auto kt = memrefOf(k);
  int64_t T = qt.getDimSize(0), Hq = qt.getDimSize(1), D = qt.getDimSize(2);
  int64_t Hkv = kt.getDimSize(1), C = kt.getDimSize(2), G = Hq / Hkv, vw = vectorWidth(D);
  // Heads per work item and positions per score vector: the
  // q3.attention_config (checked legal by the caller).
  const int64_t nv = D / vw, gb = tiling.headBlock, SB = tiling.scoreBlock;
  const bool quantised = isQuantisedCache(k);
  int64_t blocks = G / gb;
  auto vt = VectorType::get({vw}, b.getF32Type());
  // One query row t and one work item (a block of the query heads of one
  // KV head).
  auto query = [&](Value t, Value item) {
    // Causal: query t (position offset + t) sees positions 0 .. offset + t.
    Value last = arith::AddIOp::create(b, loc, arith::AddIOp::create(b, loc, offset, t), idx(1));
    Value n = arith::MinUIOp::create(b, loc, last, idx(C));
      Value kvh, h0;
      std::tie(kvh, h0) = itemHeads(item, G, gb);
      SmallVector<Value> heads, qreg; // qreg[g * nv + c]
      for (int64_t g = 0; g < gb; ++g) {
        heads.push_back(arith::AddIOp::create(b, loc, h0, idx(g)));
        for (int64_t c = 0; c < nv; ++c) qreg.push_back(loadVec(q, {t, heads[g], idx(c * vw)}, vw));
      }
      // q . k_j * scale for each head of the block.
      auto scoresAt = [&](Value j) {
        SmallVector<Value> acc(gb, zeros(vw));
        for (int64_t c = 0; c < nv; ++c) {
          Value kv = loadVec(k, {layer, kvh, j, idx(c * vw)}, vw);
          for (int64_t g = 0; g < gb; ++g) acc[g] = vector::FMAOp::create(b, loc, qreg[g * nv + c], kv, acc[g]);
        }
        // An int8 cache: q . (q_k * d_k) = (q . q_k) * d_k, one multiply per key.
        Value rowScale = f32(scale);
        if (quantised) rowScale = arith::MulFOp::create(b, loc, rowScale, cacheRowScale(k, layer, kvh, j));
        SmallVector<Value> sc;
        for (int64_t g = 0; g < gb; ++g)
          sc.push_back(arith::MulFOp::create(
              b, loc, vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc[g]), rowScale));
        return sc;
      };
      // o[g] += w[g] * v_j for each head of the block; o[g] is rows
      // acc[base + g * nv ..].
      auto addWeightedV = [&](SmallVector<Value> &acc, int64_t base, Value j, ArrayRef<Value> w) {
        SmallVector<Value> ws(w.begin(), w.end());
        if (quantised) { // w * (q_v * d_v) = (w * d_v) * q_v
          Value dv = vector::BroadcastOp::create(b, loc, vt, cacheRowScale(v, layer, kvh, j));
          for (Value &x : ws) x = arith::MulFOp::create(b, loc, x, dv);
        }
        for (int64_t c = 0; c < nv; ++c) {
          Value vv = loadVec(v, {layer, kvh, j, idx(c * vw)}, vw);
          for (int64_t g = 0; g < gb; ++g)
            acc[base + g * nv + c] = vector::FMAOp::create(b, loc, ws[g], vv, acc[base + g * nv + c]);
        }
      };
      if (!scores) {
        // Online softmax, flash-attention style: state per head is the
        // running maximum m, sum l and output rows o (in registers). Blocks
        // of SB positions: their scores go into one vector (never to
        // memory), m' = max(m, block max), the state is rescaled once by
        // exp(m - m') and the block's exp(s - m') (one vector exp) weight
        // the V rows. The last n % SB positions update one at a time.
        auto vsb = VectorType::get({SB}, b.getF32Type());
        SmallVector<Value> init;
        for (int64_t g = 0; g < gb; ++g) init.push_back(f32(-1e30)); // exp(-1e30 - m') is 0
        for (int64_t g = 0; g < gb; ++g) init.push_back(f32(0.0));
        for (int64_t i = 0; i < gb * nv; ++i) init.push_back(zeros(vw));
        // Rescales the state of head g to the new maximum, then adds `added`
        // to its sum.
        auto rescale = [&](SmallVector<Value> &next, ValueRange a, int64_t g, Value mNew, Value added) {
          Value c = math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, a[g], mNew));
          next[g] = mNew;
          next[gb + g] = arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, a[gb + g], c), added);
          Value cv = vector::BroadcastOp::create(b, loc, vt, c);
          for (int64_t c2 = 0; c2 < nv; ++c2)
            next[2 * gb + g * nv + c2] = arith::MulFOp::create(b, loc, a[2 * gb + g * nv + c2], cv);
        };
        Value nFull = arith::MulIOp::create(b, loc, arith::DivUIOp::create(b, loc, n, idx(SB)), idx(SB));
        auto blocked = loopAcc(idx(0), nFull, SB, init, [&](Value j0, ValueRange a) {
          SmallVector<Value> sv(gb, zeros(SB)), next(a.begin(), a.end()), js;
          for (int64_t jj = 0; jj < SB; ++jj) {
            js.push_back(jj ? Value(arith::AddIOp::create(b, loc, j0, idx(jj))) : j0);
            SmallVector<Value> sc = scoresAt(js.back());
            for (int64_t g = 0; g < gb; ++g) sv[g] = vector::InsertOp::create(b, loc, sc[g], sv[g], jj);
          }
          SmallVector<Value> pvec;
          for (int64_t g = 0; g < gb; ++g) {
            Value bmax = vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXIMUMF, sv[g]);
            Value mNew = arith::MaximumFOp::create(b, loc, a[g], bmax);
            Value p = math::ExpOp::create(
                b, loc, arith::SubFOp::create(b, loc, sv[g], vector::BroadcastOp::create(b, loc, vsb, mNew)));
            pvec.push_back(p);
            rescale(next, a, g, mNew, vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, p));
          }
          for (int64_t jj = 0; jj < SB; ++jj) {
            SmallVector<Value> pb;
            for (int64_t g = 0; g < gb; ++g)
              pb.push_back(vector::BroadcastOp::create(b, loc, vt, vector::ExtractOp::create(b, loc, pvec[g], jj)));
            addWeightedV(next, 2 * gb, js[jj], pb);
          }
          return next;
        });
        auto st = loopAcc(nFull, n, 1, blocked, [&](Value j, ValueRange a) {
          SmallVector<Value> sc = scoresAt(j), next(a.begin(), a.end());
          SmallVector<Value> pv;
          for (int64_t g = 0; g < gb; ++g) {
            Value mNew = arith::MaximumFOp::create(b, loc, a[g], sc[g]);
            Value pj = math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, sc[g], mNew));
            rescale(next, a, g, mNew, pj);
            pv.push_back(vector::BroadcastOp::create(b, loc, vt, pj));
          }
          addWeightedV(next, 2 * gb, j, pv);
          return next;
        });
        for (int64_t g = 0; g < gb; ++g) {
          Value inv = vector::BroadcastOp::create(b, loc, vt, arith::DivFOp::create(b, loc, f32(1.0), st[gb + g]));
          for (int64_t c = 0; c < nv; ++c)
            storeVec(arith::MulFOp::create(b, loc, st[2 * gb + g * nv + c], inv), out, {t, heads[g], idx(c * vw)});
        }
        return;
      }
      // Scores and their running maxima.
      SmallVector<Value> minusInf(gb, f32(-std::numeric_limits<double>::infinity()));
      auto mx = loopAcc(idx(0), n, 1, minusInf, [&](Value j, ValueRange a) {
        SmallVector<Value> sc = scoresAt(j), next;
        for (int64_t g = 0; g < gb; ++g) {
          storeScalar(sc[g], scores, {heads[g], j});
          next.push_back(arith::MaximumFOp::create(b, loc, a[g], sc[g]));
        }
        return next;
      });
      SmallVector<Value> zero(gb, f32(0));
      auto sum = loopAcc(idx(0), n, 1, zero, [&](Value j, ValueRange a) {
        SmallVector<Value> next;
        for (int64_t g = 0; g < gb; ++g) {
          Value e = math::ExpOp::create(
              b, loc, arith::SubFOp::create(b, loc, loadScalar(scores, {heads[g], j}), mx[g]));
          storeScalar(e, scores, {heads[g], j});
          next.push_back(arith::AddFOp::create(b, loc, a[g], e));
        }
        return next;
      });
      // Output rows in registers across all positions; each V row loaded once.
      SmallVector<Value> init(gb * nv, zeros(vw));
      auto acc = loopAcc(idx(0), n, 1, init, [&](Value j, ValueRange a) {
        SmallVector<Value> pv;
        for (int64_t g = 0; g < gb; ++g)
          pv.push_back(vector::BroadcastOp::create(
              b, loc, vt, arith::DivFOp::create(b, loc, loadScalar(scores, {heads[g], j}), sum[g])));
        SmallVector<Value> next(a.begin(), a.end());
        addWeightedV(next, 0, j, pv);
        return next;
      });
      for (int64_t g = 0; g < gb; ++g)
        for (int64_t c = 0; c < nv; ++c) storeVec(acc[g * nv + c], out, {t, heads[g], idx(c * vw)});
  };
  const int64_t items = Hkv * blocks;
  if (!scores) {
    // Online: no scratch, so every (row, item) pair is one parallel loop (one
    // region per kernel, not one per query row of a prefill chunk).
    parallelLoop(0, T * items, 1, [&](Value ti) {
      query(arith::DivUIOp::create(b, loc, ti, idx(items)), arith::RemUIOp::create(b, loc, ti, idx(items)));
    });
    return;
  }
  // Exact softmax: the score rows are scratch per head, shared by the rows.
  loop(0, T, 1, [&](Value t) { parallelLoop(0, items, 1, [&](Value item) { query(t, item); }); });
}

Value KernelEmitter::maskedScores(Value raw, Value first, Value seen, double scale) {
  auto vt = llvm::cast<VectorType>(raw.getType());
  const int64_t W = vt.getDimSize(0);
  auto iv = VectorType::get({W}, b.getI32Type());
  auto asI32 = [&](Value index) {
    return Value(vector::BroadcastOp::create(b, loc, iv, arith::IndexCastOp::create(b, loc, b.getI32Type(), index)));
  };
  SmallVector<int32_t> laneIds;
  for (int64_t l = 0; l < W; ++l) laneIds.push_back(int32_t(l));
  Value lanes = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(iv, ArrayRef<int32_t>(laneIds)));
  Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                       arith::AddIOp::create(b, loc, lanes, asI32(first)), asI32(seen));
  Value scaled = arith::MulFOp::create(b, loc, raw,
                                       arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vt, float(scale))));
  return arith::SelectOp::create(b, loc, inside, scaled,
                                 arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vt, -1e30f)));
}

void KernelEmitter::elementwise(Elementwise kind, Value lhs, Value rhs, Value out) {
  Value l = flatten(lhs), r = rhs ? flatten(rhs) : Value(), o = flatten(out);
  int64_t N = memrefOf(l).getDimSize(0), vw = vectorWidth(N);
  loop(0, N, vw, [&](Value i) {
    Value a = loadVec(l, {i}, vw), res;
    switch (kind) {
    case Elementwise::SiLU: res = silu(a); break;
    case Elementwise::SwiGLU: res = arith::MulFOp::create(b, loc, silu(a), loadVec(r, {i}, vw)); break;
    case Elementwise::Add: res = arith::AddFOp::create(b, loc, a, loadVec(r, {i}, vw)); break;
    case Elementwise::Mul: res = arith::MulFOp::create(b, loc, a, loadVec(r, {i}, vw)); break;
    }
    storeVec(res, o, {i});
  });
}

void KernelEmitter::moeRouter(Value logits, int64_t topK, bool normalise, Value probs,
                              Value weights, Value experts) {
  auto lt = memrefOf(logits);
  int64_t T = lt.getDimSize(0), E = lt.getDimSize(1);
  loop(0, T, 1, [&](Value t) {
    auto mx = loopAcc(idx(0), idx(E), 1, {f32(-std::numeric_limits<double>::infinity())},
                      [&](Value e, ValueRange a) {
                        return SmallVector<Value>{
                            arith::MaximumFOp::create(b, loc, a[0], loadScalar(logits, {t, e}))};
                      });
    auto sum = loopAcc(idx(0), idx(E), 1, {f32(0)}, [&](Value e, ValueRange a) {
      Value ex = math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, loadScalar(logits, {t, e}), mx[0]));
      storeScalar(ex, probs, {e});
      return SmallVector<Value>{arith::AddFOp::create(b, loc, a[0], ex)};
    });
    loop(0, E, 1, [&](Value e) {
      storeScalar(arith::DivFOp::create(b, loc, loadScalar(probs, {e}), sum[0]), probs, {e});
    });
    // k rounds of "take the largest remaining"; strict > keeps the lower
    // expert on ties; a taken expert is marked -1 (probabilities are >= 0).
    auto kept = loopAcc(idx(0), idx(topK), 1, {f32(0)}, [&](Value j, ValueRange a) {
      auto best = loopAcc(idx(0), idx(E), 1, {f32(-1.0), idx(0)}, [&](Value e, ValueRange bb) {
        Value p = loadScalar(probs, {e});
        Value better = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, p, bb[0]);
        return SmallVector<Value>{arith::SelectOp::create(b, loc, better, p, bb[0]),
                                  arith::SelectOp::create(b, loc, better, e, bb[1])};
      });
      storeScalar(best[0], weights, {t, j});
      storeScalar(arith::IndexCastOp::create(b, loc, b.getI32Type(), best[1]), experts, {t, j});
      storeScalar(f32(-1.0), probs, {best[1]});
      return SmallVector<Value>{arith::AddFOp::create(b, loc, a[0], best[0])};
    });
    if (normalise)
      loop(0, topK, 1, [&](Value j) {
        storeScalar(arith::DivFOp::create(b, loc, loadScalar(weights, {t, j}), kept[0]), weights, {t, j});
      });
  });
}

void KernelEmitter::zeroFill(Value mem) {
  Value flat = flatten(mem);
  int64_t N = memrefOf(flat).getDimSize(0), vw = vectorWidth(N);
  loop(0, N, vw, [&](Value i) { storeVec(zeros(vw), flat, {i}); });
}

void KernelEmitter::moeExperts(Value x, Value weights, Value experts, Value gate, Value up,
                               Value down, Value act, Value out) {
  auto xt = memrefOf(x);
  int64_t T = xt.getDimSize(0), H = xt.getDimSize(1), K = memrefOf(weights).getDimSize(1);
  int64_t I = memrefOf(gate).getDimSize(1);
  zeroFill(out);
  loop(0, T, 1, [&](Value t) {
    loop(0, K, 1, [&](Value j) {
      Value e = loadIndex(experts, {t, j});
      Value w = loadScalar(weights, {t, j});
      parallelLoop(0, I, 1, [&](Value i) {
        Value g = dot(x, {t}, gate, {e, i}, H), u = dot(x, {t}, up, {e, i}, H);
        storeScalar(arith::MulFOp::create(b, loc, silu(g), u), act, {i});
      });
      parallelLoop(0, H, 1, [&](Value h) {
        Value d = dot(act, {}, down, {e, h}, I);
        Value sum = arith::AddFOp::create(b, loc, loadScalar(out, {t, h}), arith::MulFOp::create(b, loc, w, d));
        storeScalar(sum, out, {t, h});
      });
    });
  });
}

void KernelEmitter::forEachChosenExpert(Value weights, Value experts, int64_t E, Value tokens, Value sel,
                                        const std::function<void(Value, Value)> &body) {
  int64_t T = memrefOf(experts).getDimSize(0), K = memrefOf(experts).getDimSize(1);
  loop(0, E, 1, [&](Value e) {
    Value e32 = arith::IndexCastOp::create(b, loc, b.getI32Type(), e);
    auto count = loopAcc(idx(0), idx(T), 1, {idx(0)}, [&](Value t, ValueRange ct) {
      auto inner = loopAcc(idx(0), idx(K), 1, {ct[0]}, [&](Value j, ValueRange cj) {
        Value chose = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            memref::LoadOp::create(b, loc, experts, ValueRange{t, j}), e32);
        auto ifOp = scf::IfOp::create(b, loc, TypeRange{b.getIndexType()}, chose, /*withElse=*/true);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifOp.thenBlock());
          memref::StoreOp::create(b, loc, arith::IndexCastOp::create(b, loc, b.getI32Type(), t), tokens, ValueRange{cj[0]});
          storeScalar(loadScalar(weights, {t, j}), sel, {cj[0]});
          scf::YieldOp::create(b, loc, ValueRange{arith::AddIOp::create(b, loc, cj[0], idx(1))});
          b.setInsertionPointToStart(ifOp.elseBlock());
          scf::YieldOp::create(b, loc, ValueRange{cj[0]});
        }
        return SmallVector<Value>{ifOp.getResult(0)};
      });
      return SmallVector<Value>{inner[0]};
    });
    Value n = count[0];
    Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, n, idx(0));
    auto ifAny = scf::IfOp::create(b, loc, any, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifAny.thenBlock());
    body(e, n);
  });
}

// Grouped by expert (prefill): for each expert, gather the chunk's tokens
// that selected it (a token selects an expert at most once), then one
// parallel loop over the expert's gate/up rows computes every grouped
// token's SwiGLU value with the row hot in cache, and one over its down rows
// adds each token's weighted output. Experts nobody chose are skipped.
// Outputs sum the experts in index order, not in selection order.
void KernelEmitter::moeExpertsGrouped(Value x, Value weights, Value experts, Value gate, Value up, Value down,
                                      Value tokens, Value sel, Value act, Value out) {
  int64_t H = memrefOf(x).getDimSize(1), E = memrefOf(gate).getDimSize(0), I = memrefOf(gate).getDimSize(1);
  zeroFill(out);
  forEachChosenExpert(weights, experts, E, tokens, sel, [&](Value e, Value n) {
    parallelLoop(0, I, 1, [&](Value i) {
      loop(idx(0), n, 1, [&](Value c) {
        Value t = loadIndex(tokens, {c});
        Value g = dot(x, {t}, gate, {e, i}, H), u = dot(x, {t}, up, {e, i}, H);
        storeScalar(arith::MulFOp::create(b, loc, silu(g), u), act, {c, i});
      });
    });
    parallelLoop(0, H, 1, [&](Value h) {
      loop(idx(0), n, 1, [&](Value c) {
        Value t = loadIndex(tokens, {c});
        Value d = dot(act, {c}, down, {e, h}, I);
        Value w = loadScalar(sel, {c});
        storeScalar(arith::AddFOp::create(b, loc, loadScalar(out, {t, h}), arith::MulFOp::create(b, loc, w, d)), out, {t, h});
      });
    });
  });
}

// Both products are linearK16 tiles on the expert's weights: gate/up a
// gated pair over two weights reading the tokens' rows of x, down reading
// act and adding sel[c] * row c into out[tokens[c]]. Grouped, the rows are
// all the tokens that chose the expert (each expert's weights stream once
// per chunk, and a tile reuses each weight vector for several rows);
// otherwise one token and selection at a time, in selection order (decode).
void KernelEmitter::moeExpertsTiled(Value x, Value weights, Value experts, Value gate, Value up, Value down,
                                    Value tokens, Value sel, Value act, Value out, bool grouped,
                                    const LinearTiling &gateUp, const LinearTiling &downTiling,
                                    const ExpertScales &scales) {
  int64_t E = memrefOf(gate).getDimSize(0);
  zeroFill(out);
  // One of expert e's products over its n rows.
  auto product = [](const LinearTiling &tiling, Value output, Value e, Value n) {
    LinearFusion f;
    f.tiling = tiling;
    f.outs = {output};
    f.expert = e;
    f.rowCount = n;
    return f;
  };
  auto ffn = [&](Value e, Value n) {
    LinearFusion g = product(gateUp, act, e, n);
    g.gated = true;
    g.up = up;
    g.inRows = tokens;
    g.scales = scales.gate;
    g.upScales = scales.up;
    g.int4 = scales.gateUpInt4;
    g.int8Rows = scales.inputRows;
    g.rounded = scales.inputRounded;
    linearK16(x, gate, g);
    LinearFusion d = product(downTiling, out, e, n);
    d.outRows = tokens;
    d.outScale = sel;
    d.scales = scales.down;
    d.int4 = scales.downInt4;
    d.int8Rows = scales.actRows;
    d.rounded = scales.actRounded;
    linearK16(act, down, d);
  };
  if (grouped) return forEachChosenExpert(weights, experts, E, tokens, sel, ffn);
  int64_t T = memrefOf(experts).getDimSize(0), K = memrefOf(experts).getDimSize(1);
  loop(0, T, 1, [&](Value t) {
    loop(0, K, 1, [&](Value j) {
      Value e = loadIndex(experts, {t, j});
      memref::StoreOp::create(b, loc, arith::IndexCastOp::create(b, loc, b.getI32Type(), t), tokens, ValueRange{idx(0)});
      storeScalar(loadScalar(weights, {t, j}), sel, {idx(0)});
      ffn(e, idx(1));
    });
  });
}

void KernelEmitter::argmax(Value x, Value out) {
  Value x2 = rows(x), o = flatten(out);
  int64_t R = memrefOf(x2).getDimSize(0), N = memrefOf(x2).getDimSize(1);
  loop(0, R, 1, [&](Value r) {
    auto best = loopAcc(idx(0), idx(N), 1, {f32(-std::numeric_limits<double>::infinity()), idx(0)},
                        [&](Value i, ValueRange bb) {
                          Value v = loadScalar(x2, {r, i});
                          Value better = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, v, bb[0]);
                          return SmallVector<Value>{arith::SelectOp::create(b, loc, better, v, bb[0]),
                                                    arith::SelectOp::create(b, loc, better, i, bb[1])};
                        });
    storeScalar(arith::IndexCastOp::create(b, loc, b.getI32Type(), best[1]), o, {r});
  });
}

} // namespace q3
