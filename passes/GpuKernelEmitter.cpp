//===- GpuKernelEmitter.cpp - q3 ops as CUDA kernels (gpu.launch) ---------===//
#include "passes/GpuKernelEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>
#include "llvm/Support/MathExtras.h"

using namespace mlir;

namespace q3 {
namespace {

MemRefType typeOf(Value v) { return llvm::cast<MemRefType>(v.getType()); }
int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
constexpr int64_t kWarp = 32;

} // namespace

// --- building blocks -------------------------------------------------------

Value GpuKernelEmitter::idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
Value GpuKernelEmitter::indexOf(const KernelIndex &i) {
  if (!i.device) return i.host;
  Value v = memref::LoadOp::create(b, loc, i.device, ValueRange{idx(i.slot)});
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
}

Value GpuKernelEmitter::f32(double v) { return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(float(v))); }

void GpuKernelEmitter::launch(Value gx, Value gy, int64_t threads, const Body &body) {
  Value one = idx(1);
  auto op = gpu::LaunchOp::create(b, loc, gx, gy, one, idx(threads), one, one);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&op.getBody().front());
  body({op.getBlockIds().x, op.getBlockIds().y, op.getThreadIds().x});
  gpu::TerminatorOp::create(b, loc);
}

void GpuKernelEmitter::launch(int64_t gx, int64_t gy, int64_t threads, const Body &body) {
  launch(idx(gx), idx(gy), threads, body);
}

Value GpuKernelEmitter::load(Value mem, ValueRange at) {
  Value v = memref::LoadOp::create(b, loc, mem, at);
  if (!v.getType().isF32()) v = arith::ExtFOp::create(b, loc, b.getF32Type(), v);
  return v;
}

void GpuKernelEmitter::store(Value v, Value mem, ValueRange at) {
  Type element = typeOf(mem).getElementType();
  if (element != v.getType()) v = arith::TruncFOp::create(b, loc, element, v);
  memref::StoreOp::create(b, loc, v, mem, at);
}

Value GpuKernelEmitter::loadVector(Value mem, ValueRange at, int64_t n) {
  Type element = typeOf(mem).getElementType();
  // Aligned to the whole vector (the callers' offsets are multiples of n),
  // so NVPTX emits one ld.global.v4 instead of n scalar loads.
  const uint64_t bytes = uint64_t(n) * (element.getIntOrFloatBitWidth() / 8);
  Value v = vector::LoadOp::create(b, loc, VectorType::get({n}, element), mem, at, /*nontemporal=*/false,
                                   llvm::MaybeAlign(bytes));
  if (!element.isF32()) v = arith::ExtFOp::create(b, loc, VectorType::get({n}, b.getF32Type()), v);
  return v;
}

SmallVector<Value> GpuKernelEmitter::delinearize(Value linear, ArrayRef<int64_t> shape) {
  SmallVector<Value> out(shape.size());
  Value rest = linear;
  for (size_t i = shape.size(); i-- > 1;) {
    out[i] = arith::RemUIOp::create(b, loc, rest, idx(shape[i]));
    rest = arith::DivUIOp::create(b, loc, rest, idx(shape[i]));
  }
  if (!shape.empty()) out[0] = rest;
  return out;
}

void GpuKernelEmitter::ifThen(Value cond, const std::function<void()> &then) {
  auto op = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(op.thenBlock()->getTerminator());
  then();
}

void GpuKernelEmitter::forLoop(Value lb, Value ub, Value step, const std::function<void(Value)> &body) {
  auto op = scf::ForOp::create(b, loc, lb, ub, step);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(op.getBody()->getTerminator());
  body(op.getInductionVar());
}

Value GpuKernelEmitter::forReduce(Value lb, Value ub, Value step, ValueRange init,
                                  const std::function<SmallVector<Value>(Value, ValueRange)> &body, unsigned result,
                                  SmallVector<Value> *all) {
  auto op = scf::ForOp::create(b, loc, lb, ub, step, init);
  {
    OpBuilder::InsertionGuard guard(b);
    Block *block = op.getBody();
    if (!block->empty()) block->back().erase(); // the builder's empty yield
    b.setInsertionPointToEnd(block);
    SmallVector<Value> next = body(op.getInductionVar(), op.getRegionIterArgs());
    scf::YieldOp::create(b, loc, next);
  }
  if (all) all->assign(op.getResults().begin(), op.getResults().end());
  return op.getResult(result);
}

Value GpuKernelEmitter::warpSum(Value v) {
  // Butterfly: every lane ends with the warp's total.
  for (int32_t offset = kWarp / 2; offset >= 1; offset /= 2) {
    Value other = gpu::ShuffleOp::create(b, loc, v, offset, int32_t(kWarp), gpu::ShuffleMode::XOR).getShuffleResult();
    v = arith::AddFOp::create(b, loc, v, other);
  }
  return v;
}

int64_t GpuKernelEmitter::laneVector(int64_t K) const {
  int64_t vw = shapes.productVector;
  while (vw > 1 && K % (kWarp * vw)) vw /= 2;
  return vw;
}

SmallVector<Value> GpuKernelEmitter::warpDots(Value lane, int64_t K, int64_t vw, int64_t count,
                                              const std::function<SmallVector<Value>(Value, ValueRange)> &step) {
  auto zero = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(VectorType::get({vw}, b.getF32Type()), 0.0f));
  SmallVector<Value> init(size_t(count), zero), sums;
  forReduce(arith::MulIOp::create(b, loc, lane, idx(vw)), idx(K), idx(kWarp * vw), init, step, 0, &sums);
  for (Value &v : sums) v = warpSum(vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, v));
  return sums;
}

Value GpuKernelEmitter::blockSum(Value v) {
  auto op = gpu::AllReduceOperationAttr::get(b.getContext(), gpu::AllReduceOperation::ADD);
  return gpu::AllReduceOp::create(b, loc, v, op, b.getUnitAttr());
}

Value GpuKernelEmitter::blockMax(Value v) {
  auto op = gpu::AllReduceOperationAttr::get(b.getContext(), gpu::AllReduceOperation::MAXIMUMF);
  return gpu::AllReduceOp::create(b, loc, v, op, b.getUnitAttr());
}

Value GpuKernelEmitter::nvvm(StringRef intrinsic, Value x) {
  return LLVM::CallIntrinsicOp::create(b, loc, b.getF32Type(), b.getStringAttr(intrinsic), ValueRange{x}).getResult(0);
}

Value GpuKernelEmitter::exp(Value x) {
  return nvvm("llvm.nvvm.ex2.approx.ftz.f", arith::MulFOp::create(b, loc, x, f32(llvm::numbers::log2e)));
}

Value GpuKernelEmitter::sqrt(Value x) { return nvvm("llvm.nvvm.sqrt.rn.f", x); }

Value GpuKernelEmitter::silu(Value x) {
  Value e = exp(arith::NegFOp::create(b, loc, x));
  return arith::DivFOp::create(b, loc, x, arith::AddFOp::create(b, loc, f32(1), e));
}

std::pair<Value, Value> GpuKernelEmitter::cosSin(Value angle) {
  // r = angle - k * 2pi with k = round(angle / 2pi) (angles are >= 0), 2pi
  // split Cody-Waite style: hi has 8 significant bits, so k * hi is exact
  // for k < 2^16 (angles below ~400000: any position a cache holds).
  constexpr float hi = 6.28125f;
  const float lo = float(2 * llvm::numbers::pi - double(hi));
  Value scaled = arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, angle, f32(0.5 / llvm::numbers::pi)), f32(0.5));
  Value k = arith::SIToFPOp::create(b, loc, b.getF32Type(), arith::FPToSIOp::create(b, loc, b.getI32Type(), scaled));
  Value r = arith::SubFOp::create(b, loc, angle, arith::MulFOp::create(b, loc, k, f32(hi)));
  r = arith::SubFOp::create(b, loc, r, arith::MulFOp::create(b, loc, k, f32(lo)));
  return {nvvm("llvm.nvvm.cos.approx.f", r), nvvm("llvm.nvvm.sin.approx.f", r)};
}

Value GpuKernelEmitter::ropeFrequencies(int64_t D, const RopeSpec &spec) {
  // Hugging Face's f32 inverse frequencies, computed by the code the CPU
  // kernels and the interpreter use; gpu-kernel-outlining copies the global
  // into the kernel module (a .global array in the PTX).
  std::vector<float> f = spec.inverseFrequencies(D);
  std::string name = spec.tableName(D);
  auto type = MemRefType::get({int64_t(f.size())}, b.getF32Type());
  if (!module.lookupSymbol(name)) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    memref::GlobalOp::create(b, loc, name, b.getStringAttr("private"), type,
                             DenseElementsAttr::get(RankedTensorType::get(type.getShape(), b.getF32Type()),
                                                    ArrayRef<float>(f)),
                             /*constant=*/true, /*alignment=*/b.getI64IntegerAttr(64));
  }
  return memref::GetGlobalOp::create(b, loc, type, name);
}

// --- kernels ---------------------------------------------------------------

void GpuKernelEmitter::embedding(Value table, Value ids, Value out) {
  auto ot = typeOf(out);
  const int64_t T = ot.getDimSize(0), H = ot.getDimSize(1), n = shapes.threads;
  launch(ceilDiv(H, n), T, n, [&](const Ids &id) {
    Value h = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, id.bx, idx(n)), id.tx);
    ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, h, idx(H)), [&] {
      Value token = memref::LoadOp::create(b, loc, ids, ValueRange{id.by});
      Value row = arith::IndexCastOp::create(b, loc, b.getIndexType(), token);
      store(load(table, {row, h}), out, {id.by, h});
    });
  });
}

void GpuKernelEmitter::rmsNorm(Value x, Value w, double eps, Value out) {
  auto xt = typeOf(x);
  const int64_t K = xt.getShape().back(), rows = xt.getNumElements() / K, n = shapes.threads;
  launch(rows, 1, n, [&](const Ids &id) {
    SmallVector<Value> lead = delinearize(id.bx, xt.getShape().drop_back());
    auto at = [&](Value k) {
      SmallVector<Value> i(lead);
      i.push_back(k);
      return i;
    };
    Value squares = forReduce(id.tx, idx(K), idx(n), {f32(0)}, [&](Value k, ValueRange a) -> SmallVector<Value> {
      Value v = load(x, at(k));
      return {arith::AddFOp::create(b, loc, a[0], arith::MulFOp::create(b, loc, v, v))};
    });
    Value mean = arith::DivFOp::create(b, loc, blockSum(squares), f32(double(K)));
    Value inv = arith::DivFOp::create(b, loc, f32(1), sqrt(arith::AddFOp::create(b, loc, mean, f32(eps))));
    forLoop(id.tx, idx(K), idx(n), [&](Value k) {
      // As q3.rms_norm computes it: weight * (x * inv).
      Value v = arith::MulFOp::create(b, loc, load(x, at(k)), inv);
      store(arith::MulFOp::create(b, loc, load(w, {k}), v), out, at(k));
    });
  });
}

void GpuKernelEmitter::storeProductOutput(const GpuProduct &p, Value m, Value n, Value v) {
  if (p.residual) v = arith::AddFOp::create(b, loc, v, load(p.residual, {m, n}));
  if (p.outs.size() == 1) return store(v, p.outs[0], {m, n});
  int64_t at = 0; // split outputs: the part whose columns hold n
  for (Value part : p.outs) {
    const int64_t width = typeOf(part).getDimSize(1);
    Value inside =
        arith::AndIOp::create(b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, n, idx(at)),
                              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, n, idx(at + width)));
    ifThen(inside, [&] { store(v, part, {m, arith::SubIOp::create(b, loc, n, idx(at))}); });
    at += width;
  }
}

bool GpuKernelEmitter::onTensorCores(Value x, Value w, const GpuProduct &p) const {
  auto xt = typeOf(x), wt = typeOf(w);
  const int64_t M = xt.getDimSize(0), K = xt.getDimSize(1), N = wt.getDimSize(0);
  const int64_t columns = p.gated ? N / 2 : N;
  return shapes.mmaMinRows > 0 && M >= shapes.mmaMinRows && M % 16 == 0 && K % 16 == 0 && columns % 16 == 0 &&
         wt.getElementType().isBF16() && xt.getElementType().isF32();
}

void GpuKernelEmitter::product(Value x, Value w, const GpuProduct &p) {
  if (onTensorCores(x, w, p)) return productMma(x, w, p);
  auto xt = typeOf(x);
  const int64_t M = xt.getDimSize(0), K = xt.getDimSize(1), N = typeOf(w).getDimSize(0);
  const int64_t columns = p.gated ? N / 2 : N;
  int64_t rows = shapes.productRows;
  while (M % rows) rows /= 2; // the rows of one block: a power of two dividing M
  int64_t vw = shapes.productVector;
  while (vw > 1 && K % (kWarp * vw)) vw /= 2; // a lane's vector: whole warps of them along k
  const int64_t warps = shapes.productWarps;
  auto zero = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(VectorType::get({vw}, b.getF32Type()), 0.0f));
  launch(ceilDiv(columns, warps), M / rows, warps * kWarp, [&](const Ids &id) {
    Value warp = arith::DivUIOp::create(b, loc, id.tx, idx(kWarp));
    Value lane = arith::RemUIOp::create(b, loc, id.tx, idx(kWarp));
    Value n = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, id.bx, idx(warps)), warp);
    Value m0 = arith::MulIOp::create(b, loc, id.by, idx(rows));
    // A warp is whole on either side of this test (n is the warp's), so the
    // shuffles below see all 32 lanes.
    ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, n, idx(columns)), [&] {
      const int64_t accs = rows * (p.gated ? 2 : 1); // gate rows, then up rows
      SmallVector<Value> init(size_t(accs), zero), sums;
      Value up = p.gated ? Value(arith::AddIOp::create(b, loc, n, idx(columns))) : Value();
      forReduce(
          arith::MulIOp::create(b, loc, lane, idx(vw)), idx(K), idx(kWarp * vw), init,
          [&](Value k, ValueRange a) -> SmallVector<Value> {
            SmallVector<Value> next(a.begin(), a.end());
            Value wg = loadVector(w, {n, k}, vw);
            Value wu = p.gated ? loadVector(w, {up, k}, vw) : Value();
            for (int64_t r = 0; r < rows; ++r) {
              Value m = arith::AddIOp::create(b, loc, m0, idx(r));
              Value xv = loadVector(x, {m, k}, vw);
              next[size_t(r)] = arith::AddFOp::create(b, loc, a[size_t(r)], arith::MulFOp::create(b, loc, xv, wg));
              if (p.gated)
                next[size_t(rows + r)] =
                    arith::AddFOp::create(b, loc, a[size_t(rows + r)], arith::MulFOp::create(b, loc, xv, wu));
            }
            return next;
          },
          0, &sums);
      auto total = [&](Value acc) {
        return warpSum(vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc));
      };
      for (int64_t r = 0; r < rows; ++r) {
        Value v = total(sums[size_t(r)]);
        if (p.gated) v = arith::MulFOp::create(b, loc, silu(v), total(sums[size_t(rows + r)]));
        Value m = arith::AddIOp::create(b, loc, m0, idx(r));
        ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, idx(0)),
               [&] { storeProductOutput(p, m, n, v); });
      }
    });
  });
}

Value GpuKernelEmitter::bf16Pair(Value mem, ValueRange at) {
  // Two adjacent elements as one 32-bit register, the lower column in the
  // low half (the mma operands' packing); f32 rows are rounded to bf16
  // (to nearest even), bf16 weights are loaded as they are.
  Value v;
  if (typeOf(mem).getElementType().isBF16())
    v = vector::LoadOp::create(b, loc, VectorType::get({2}, b.getBF16Type()), mem, at, /*nontemporal=*/false,
                               llvm::MaybeAlign(4));
  else
    v = arith::TruncFOp::create(b, loc, VectorType::get({2}, b.getBF16Type()), loadVector(mem, at, 2));
  Value word = vector::BitCastOp::create(b, loc, VectorType::get({1}, b.getI32Type()), v);
  return vector::ExtractOp::create(b, loc, word, ArrayRef<int64_t>{0});
}

void GpuKernelEmitter::productMma(Value x, Value w, const GpuProduct &p) {
  // mma.sync m16n8k16 (row A, col B, bf16 in, f32 accumulators). Fragments
  // of lane l, g = l / 4, t = l % 4 (PTX ISA, "Matrix Fragments for
  // mma.m16n8k16"): A (16 x 16 rows of x) a0 = (g, 2t..2t+1), a1 = (g+8, 2t..),
  // a2 = (g, 2t+8..), a3 = (g+8, 2t+8..); B (16 x 8, W^T: a weight row is a
  // B column) b0 = k 2t..2t+1 and b1 = k 2t+8.. of column g; C / D c0, c1 =
  // (g, 2t), (g, 2t+1), c2, c3 = (g+8, 2t), (g+8, 2t+1). The fragments are
  // loaded straight from global memory (no shared-memory staging yet): the
  // warps of a block and the blocks of a grid column share weight rows
  // through the caches.
  auto xt = typeOf(x);
  const int64_t M = xt.getDimSize(0), K = xt.getDimSize(1), N = typeOf(w).getDimSize(0);
  const int64_t columns = p.gated ? N / 2 : N;
  int64_t warpRows = shapes.mmaWarpRows;
  while (M % warpRows) warpRows /= 2; // M is a multiple of 16
  const int64_t warpCols = std::min(shapes.mmaWarpCols, columns), warps = shapes.productWarps;
  const int64_t fm = warpRows / 16, fn = warpCols / 8, halves = p.gated ? 2 : 1; // gate tiles, then up tiles
  const int64_t tiles = fm * fn * halves;
  auto resultType = LLVM::LLVMStructType::getLiteral(b.getContext(), SmallVector<Type>(4, b.getF32Type()));
  launch(ceilDiv(columns, warps * warpCols), M / warpRows, warps * kWarp, [&](const Ids &id) {
    Value warp = arith::DivUIOp::create(b, loc, id.tx, idx(kWarp));
    Value lane = arith::RemUIOp::create(b, loc, id.tx, idx(kWarp));
    Value g = arith::DivUIOp::create(b, loc, lane, idx(4));
    Value t2 = arith::MulIOp::create(b, loc, arith::RemUIOp::create(b, loc, lane, idx(4)), idx(2));
    Value m0 = arith::MulIOp::create(b, loc, id.by, idx(warpRows));
    Value n0 = arith::MulIOp::create(b, loc, arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, id.bx, idx(warps)), warp),
                                     idx(warpCols));
    auto plus = [&](Value v, int64_t c) { return c ? Value(arith::AddIOp::create(b, loc, v, idx(c))) : v; };
    // A lane's weight row of tile j (clamped: a warp past the last column
    // computes on a valid row and stores nothing, every lane staying in
    // the mma).
    SmallVector<Value> wRows; // tile j of half h: index h * fn + j
    for (int64_t h = 0; h < halves; ++h)
      for (int64_t j = 0; j < fn; ++j) {
        Value n = arith::MinUIOp::create(b, loc, arith::AddIOp::create(b, loc, plus(n0, 8 * j), g), idx(columns - 1));
        wRows.push_back(plus(n, h * columns));
      }
    SmallVector<Value> init(size_t(tiles * 4), f32(0)), acc;
    forReduce(
        idx(0), idx(K), idx(16), init,
        [&](Value k0, ValueRange c) -> SmallVector<Value> {
          Value ka = arith::AddIOp::create(b, loc, k0, t2), kb = plus(ka, 8);
          SmallVector<std::array<Value, 4>> a;
          for (int64_t i = 0; i < fm; ++i) {
            Value r0 = arith::AddIOp::create(b, loc, plus(m0, 16 * i), g), r1 = plus(r0, 8);
            a.push_back({bf16Pair(x, {r0, ka}), bf16Pair(x, {r1, ka}), bf16Pair(x, {r0, kb}), bf16Pair(x, {r1, kb})});
          }
          SmallVector<std::array<Value, 2>> bw;
          for (Value r : wRows) bw.push_back({bf16Pair(w, {r, ka}), bf16Pair(w, {r, kb})});
          SmallVector<Value> next;
          for (int64_t i = 0; i < fm; ++i)
            for (int64_t j = 0; j < fn * halves; ++j) {
              const size_t base = size_t((i * fn * halves + j) * 4);
              auto d = NVVM::MmaOp::create(b, loc, resultType, ValueRange(a[size_t(i)]), ValueRange(bw[size_t(j)]),
                                           c.slice(base, 4), ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
                                           std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16, NVVM::MMATypes::bf16},
                                           std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
              for (int64_t e = 0; e < 4; ++e) next.push_back(LLVM::ExtractValueOp::create(b, loc, d, ArrayRef<int64_t>{e}));
            }
          return next;
        },
        0, &acc);
    // The epilogue: each lane's four outputs of every tile.
    for (int64_t i = 0; i < fm; ++i)
      for (int64_t j = 0; j < fn; ++j)
        for (int64_t e = 0; e < 4; ++e) {
          Value m = arith::AddIOp::create(b, loc, plus(m0, 16 * i + 8 * (e / 2)), g);
          Value n = arith::AddIOp::create(b, loc, plus(n0, 8 * j + e % 2), t2);
          Value v = acc[size_t((i * fn * halves + j) * 4 + e)];
          if (p.gated) v = arith::MulFOp::create(b, loc, silu(v), acc[size_t((i * fn * halves + fn + j) * 4 + e)]);
          ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, n, idx(columns)),
                 [&] { storeProductOutput(p, m, n, v); });
        }
  });
}

void GpuKernelEmitter::rope(Value x, Value norm, double eps, const KernelIndex &offset, const RopeSpec &spec, bool splitHalves,
                            Value out, Value cache, Value layer) {
  auto xt = typeOf(x);
  const int64_t T = xt.getDimSize(0), heads = xt.getDimSize(1), D = xt.getDimSize(2), half = D / 2;
  const int64_t C = cache ? typeOf(cache).getDimSize(2) : 0;
  launch(heads, T, half, [&](const Ids &id) {
    Value h = id.bx, t = id.by, i = id.tx;
    Value i0 = splitHalves ? i : Value(arith::MulIOp::create(b, loc, i, idx(2)));
    Value i1 = arith::AddIOp::create(b, loc, i0, idx(splitHalves ? half : 1));
    Value a = load(x, {t, h, i0}), c = load(x, {t, h, i1});
    if (norm) { // QK-norm over the head's D values: this block's
      Value squares = arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, a, a), arith::MulFOp::create(b, loc, c, c));
      Value mean = arith::DivFOp::create(b, loc, blockSum(squares), f32(double(D)));
      Value inv = arith::DivFOp::create(b, loc, f32(1), sqrt(arith::AddFOp::create(b, loc, mean, f32(eps))));
      a = arith::MulFOp::create(b, loc, load(norm, {i0}), arith::MulFOp::create(b, loc, a, inv));
      c = arith::MulFOp::create(b, loc, load(norm, {i1}), arith::MulFOp::create(b, loc, c, inv));
    }
    Value p = arith::AddIOp::create(b, loc, indexOf(offset), t);
    Value pos = arith::SIToFPOp::create(b, loc, b.getF32Type(), arith::IndexCastOp::create(b, loc, b.getI64Type(), p));
    Value angle = arith::MulFOp::create(b, loc, pos, memref::LoadOp::create(b, loc, ropeFrequencies(D, spec), ValueRange{i}));
    auto [cs, sn] = cosSin(angle);
    if (spec.cosSinScale() != 1.0f) {
      cs = arith::MulFOp::create(b, loc, cs, f32(spec.cosSinScale()));
      sn = arith::MulFOp::create(b, loc, sn, f32(spec.cosSinScale()));
    }
    Value o0 = arith::SubFOp::create(b, loc, arith::MulFOp::create(b, loc, a, cs), arith::MulFOp::create(b, loc, c, sn));
    Value o1 = arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, c, cs), arith::MulFOp::create(b, loc, a, sn));
    if (!cache) {
      store(o0, out, {t, h, i0});
      store(o1, out, {t, h, i1});
      return;
    }
    ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, p, idx(C)), [&] {
      store(o0, cache, {layer, h, p, i0});
      store(o1, cache, {layer, h, p, i1});
    });
  });
}

void GpuKernelEmitter::kvWrite(Value value, Value cache, Value layer, const KernelIndex &offset) {
  auto vt = typeOf(value);
  const int64_t T = vt.getDimSize(0), H = vt.getDimSize(1), D = vt.getDimSize(2), C = typeOf(cache).getDimSize(2);
  const int64_t n = shapes.threads;
  launch(ceilDiv(H * D, n), T, n, [&](const Ids &id) {
    Value e = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, id.bx, idx(n)), id.tx);
    Value p = arith::AddIOp::create(b, loc, indexOf(offset), id.by);
    Value inside = arith::AndIOp::create(b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, e, idx(H * D)),
                                         arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, p, idx(C)));
    ifThen(inside, [&] {
      Value h = arith::DivUIOp::create(b, loc, e, idx(D)), d = arith::RemUIOp::create(b, loc, e, idx(D));
      store(load(value, {id.by, h, d}), cache, {layer, h, p, d});
    });
  });
}

void GpuKernelEmitter::attention(Value q, Value k, Value v, Value layer, const KernelIndex &offset, double scale, Value scores,
                                 Value out, Value partials) {
  auto qt = typeOf(q), kt = typeOf(k);
  const int64_t T = qt.getDimSize(0), heads = qt.getDimSize(1), D = qt.getDimSize(2);
  const int64_t kvHeads = kt.getDimSize(1), C = kt.getDimSize(2), group = heads / kvHeads;
  const int64_t n = shapes.threads, warps = n / kWarp;
  const int64_t splits = partials ? typeOf(partials).getDimSize(1) : 1;
  const float lowest = -std::numeric_limits<float>::infinity();
  // Grid y: the tokens, or (one token) the key ranges.
  launch(heads, partials ? splits : T, n, [&](const Ids &id) {
    Value h = id.bx, t = partials ? idx(0) : id.by;
    Value g = arith::DivUIOp::create(b, loc, h, idx(group));
    Value warp = arith::DivUIOp::create(b, loc, id.tx, idx(kWarp));
    Value lane = arith::RemUIOp::create(b, loc, id.tx, idx(kWarp));
    // Query t sees positions 0 .. offset + t (causal), those the cache holds.
    Value keys = arith::MinUIOp::create(b, loc, arith::AddIOp::create(b, loc, indexOf(offset), arith::AddIOp::create(b, loc, t, idx(1))),
                                        idx(C));
    // This block's keys [first, last): all of them, or range id.by of
    // `splits` ranges of ceil(keys / splits) (the last ones may be empty).
    Value first = idx(0), last = keys;
    if (partials) {
      Value span = arith::DivUIOp::create(b, loc, arith::AddIOp::create(b, loc, keys, idx(splits - 1)), idx(splits));
      first = arith::MinUIOp::create(b, loc, arith::MulIOp::create(b, loc, id.by, span), keys);
      last = arith::MinUIOp::create(b, loc, arith::AddIOp::create(b, loc, first, span), keys);
    }
    // Scores: a warp per key, lanes along the head dim.
    Value localMax = forReduce(arith::AddIOp::create(b, loc, first, warp), last, idx(warps), {f32(lowest)}, [&](Value j, ValueRange a) -> SmallVector<Value> {
      Value dot = forReduce(lane, idx(D), idx(kWarp), {f32(0)}, [&](Value d, ValueRange s) -> SmallVector<Value> {
        return {arith::AddFOp::create(b, loc, s[0], arith::MulFOp::create(b, loc, load(q, {t, h, d}), load(k, {layer, g, j, d})))};
      });
      Value score = arith::MulFOp::create(b, loc, warpSum(dot), f32(scale));
      ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, idx(0)),
             [&] { store(score, scores, {t, h, j}); });
      return {arith::MaximumFOp::create(b, loc, a[0], score)};
    });
    gpu::BarrierOp::create(b, loc); // the scores are in memory for every thread
    Value mx = blockMax(localMax);
    // An empty range's maximum is -inf: its exps are not taken (no keys),
    // and the combine weighs it by exp(-inf) = 0.
    Value localSum = forReduce(arith::AddIOp::create(b, loc, first, id.tx), last, idx(n), {f32(0)}, [&](Value j, ValueRange a) -> SmallVector<Value> {
      Value e = exp(arith::SubFOp::create(b, loc, load(scores, {t, h, j}), mx));
      store(e, scores, {t, h, j});
      return {arith::AddFOp::create(b, loc, a[0], e)};
    });
    Value sum = blockSum(localSum);
    Value inv = arith::DivFOp::create(b, loc, f32(1), sum);
    gpu::BarrierOp::create(b, loc);
    // The values: a thread per dim over the keys.
    forLoop(id.tx, idx(D), idx(n), [&](Value d) {
      Value acc = forReduce(first, last, idx(1), {f32(0)}, [&](Value j, ValueRange a) -> SmallVector<Value> {
        return {arith::AddFOp::create(b, loc, a[0], arith::MulFOp::create(b, loc, load(scores, {t, h, j}), load(v, {layer, g, j, d})))};
      });
      if (!partials) return store(arith::MulFOp::create(b, loc, acc, inv), out, {t, h, d});
      store(acc, partials, {h, id.by, d}); // unnormalised
    });
    if (partials)
      ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, id.tx, idx(0)), [&] {
        store(mx, partials, {h, id.by, idx(D)});
        store(sum, partials, {h, id.by, idx(D + 1)});
      });
  });
  if (!partials) return;
  // The combine: per head, each range weighed by exp(its max - the max).
  const int64_t combineThreads = std::min<int64_t>(n, ceilDiv(D, kWarp) * kWarp);
  launch(heads, 1, combineThreads, [&](const Ids &id) {
    Value h = id.bx;
    Value zero = idx(0), ranges = idx(splits), one = idx(1);
    Value mx = forReduce(zero, ranges, one, {f32(lowest)}, [&](Value s, ValueRange a) -> SmallVector<Value> {
      return {arith::MaximumFOp::create(b, loc, a[0], load(partials, {h, s, idx(D)}))};
    });
    Value total = forReduce(zero, ranges, one, {f32(0)}, [&](Value s, ValueRange a) -> SmallVector<Value> {
      Value w = exp(arith::SubFOp::create(b, loc, load(partials, {h, s, idx(D)}), mx));
      return {arith::AddFOp::create(b, loc, a[0], arith::MulFOp::create(b, loc, w, load(partials, {h, s, idx(D + 1)})))};
    });
    Value inv = arith::DivFOp::create(b, loc, f32(1), total);
    forLoop(id.tx, idx(D), idx(combineThreads), [&](Value d) {
      Value acc = forReduce(zero, ranges, one, {f32(0)}, [&](Value s, ValueRange a) -> SmallVector<Value> {
        Value w = exp(arith::SubFOp::create(b, loc, load(partials, {h, s, idx(D)}), mx));
        return {arith::AddFOp::create(b, loc, a[0], arith::MulFOp::create(b, loc, w, load(partials, {h, s, d})))};
      });
      store(arith::MulFOp::create(b, loc, acc, inv), out, {idx(0), h, d});
    });
  });
}

void GpuKernelEmitter::moeRouter(Value logits, int64_t topK, bool normalise, Value probs, Value weights,
                                 Value experts) {
  auto lt = typeOf(logits);
  const int64_t T = lt.getDimSize(0), E = lt.getDimSize(1), n = kWarp;
  const float lowest = -std::numeric_limits<float>::infinity();
  launch(ceilDiv(T, n), 1, n, [&](const Ids &id) {
    Value t = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, id.bx, idx(n)), id.tx);
    ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, t, idx(T)), [&] {
      Value zero = idx(0), all = idx(E), one = idx(1);
      Value mx = forReduce(zero, all, one, {f32(lowest)}, [&](Value e, ValueRange a) -> SmallVector<Value> {
        return {arith::MaximumFOp::create(b, loc, a[0], load(logits, {t, e}))};
      });
      Value sum = forReduce(zero, all, one, {f32(0)}, [&](Value e, ValueRange a) -> SmallVector<Value> {
        Value p = exp(arith::SubFOp::create(b, loc, load(logits, {t, e}), mx));
        store(p, probs, {t, e});
        return {arith::AddFOp::create(b, loc, a[0], p)};
      });
      forLoop(zero, all, one, [&](Value e) { store(arith::DivFOp::create(b, loc, load(probs, {t, e}), sum), probs, {t, e}); });
      // top_k rounds of a strict maximum in expert order (the first of equal
      // probabilities wins); a taken expert's probability becomes -1.
      Value kept = f32(0);
      for (int64_t j = 0; j < topK; ++j) {
        SmallVector<Value> best;
        forReduce(zero, all, one, {f32(-2), zero}, [&](Value e, ValueRange a) -> SmallVector<Value> {
          Value p = load(probs, {t, e});
          Value better = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, p, a[0]);
          return {arith::SelectOp::create(b, loc, better, p, a[0]), arith::SelectOp::create(b, loc, better, e, a[1])};
        }, 0, &best);
        store(f32(-1), probs, {t, best[1]});
        store(best[0], weights, {t, idx(j)});
        Value id32 = arith::IndexCastOp::create(b, loc, b.getI32Type(), best[1]);
        memref::StoreOp::create(b, loc, id32, experts, ValueRange{t, idx(j)});
        kept = arith::AddFOp::create(b, loc, kept, best[0]);
      }
      if (normalise)
        for (int64_t j = 0; j < topK; ++j)
          store(arith::DivFOp::create(b, loc, load(weights, {t, idx(j)}), kept), weights, {t, idx(j)});
    });
  });
}

void GpuKernelEmitter::moeExperts(Value x, Value weights, Value experts, Value gate, Value up, Value down, Value act,
                                  Value out) {
  const int64_t T = typeOf(x).getDimSize(0), H = typeOf(x).getDimSize(1);
  const int64_t k = typeOf(weights).getDimSize(1), I = typeOf(gate).getDimSize(1);
  const int64_t warps = shapes.productWarps;
  auto expertOf = [&](Value t, Value j) {
    Value e = memref::LoadOp::create(b, loc, experts, ValueRange{t, j});
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), e);
  };
  // Per (token, selection): its expert's gate and up rows against x[t].
  const int64_t vwH = laneVector(H);
  launch(ceilDiv(I, warps), T * k, warps * kWarp, [&](const Ids &id) {
    Value lane = arith::RemUIOp::create(b, loc, id.tx, idx(kWarp));
    Value n = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, id.bx, idx(warps)),
                                    arith::DivUIOp::create(b, loc, id.tx, idx(kWarp)));
    Value t = arith::DivUIOp::create(b, loc, id.by, idx(k)), j = arith::RemUIOp::create(b, loc, id.by, idx(k));
    ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, n, idx(I)), [&] {
      Value e = expertOf(t, j);
      SmallVector<Value> gu = warpDots(lane, H, vwH, 2, [&](Value kk, ValueRange a) -> SmallVector<Value> {
        Value xv = loadVector(x, {t, kk}, vwH);
        return {arith::AddFOp::create(b, loc, a[0], arith::MulFOp::create(b, loc, xv, loadVector(gate, {e, n, kk}, vwH))),
                arith::AddFOp::create(b, loc, a[1], arith::MulFOp::create(b, loc, xv, loadVector(up, {e, n, kk}, vwH)))};
      });
      ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, idx(0)),
             [&] { store(arith::MulFOp::create(b, loc, silu(gu[0]), gu[1]), act, {id.by, n}); });
    });
  });
  // Per token: each output column sums its selections' down rows.
  const int64_t vwI = laneVector(I);
  launch(ceilDiv(H, warps), T, warps * kWarp, [&](const Ids &id) {
    Value lane = arith::RemUIOp::create(b, loc, id.tx, idx(kWarp));
    Value n = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, id.bx, idx(warps)),
                                    arith::DivUIOp::create(b, loc, id.tx, idx(kWarp)));
    Value t = id.by;
    ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, n, idx(H)), [&] {
      Value total = f32(0);
      for (int64_t j = 0; j < k; ++j) {
        Value e = expertOf(t, idx(j));
        Value row = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, t, idx(k)), idx(j));
        Value dot = warpDots(lane, I, vwI, 1, [&](Value kk, ValueRange a) -> SmallVector<Value> {
          return {arith::AddFOp::create(b, loc, a[0],
                                        arith::MulFOp::create(b, loc, loadVector(act, {row, kk}, vwI),
                                                              loadVector(down, {e, n, kk}, vwI)))};
        })[0];
        total = arith::AddFOp::create(b, loc, total, arith::MulFOp::create(b, loc, load(weights, {t, idx(j)}), dot));
      }
      ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, idx(0)), [&] { store(total, out, {t, n}); });
    });
  });
}

void GpuKernelEmitter::elementwise(Elementwise kind, Value lhs, Value rhs, Value out) {
  auto shape = typeOf(out).getShape();
  const int64_t N = typeOf(out).getNumElements(), n = shapes.threads;
  launch(ceilDiv(N, n), 1, n, [&](const Ids &id) {
    Value e = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, id.bx, idx(n)), id.tx);
    ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, e, idx(N)), [&] {
      SmallVector<Value> at = delinearize(e, shape);
      Value a = load(lhs, at), r;
      switch (kind) {
      case Elementwise::SiLU: r = silu(a); break;
      case Elementwise::SwiGLU: r = arith::MulFOp::create(b, loc, silu(a), load(rhs, at)); break;
      case Elementwise::Add: r = arith::AddFOp::create(b, loc, a, load(rhs, at)); break;
      case Elementwise::Mul: r = arith::MulFOp::create(b, loc, a, load(rhs, at)); break;
      }
      store(r, out, at);
    });
  });
}

void GpuKernelEmitter::copy(Value from, Value to) {
  auto shape = typeOf(to).getShape();
  const int64_t N = typeOf(to).getNumElements(), n = shapes.threads;
  launch(ceilDiv(N, n), 1, n, [&](const Ids &id) {
    Value e = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, id.bx, idx(n)), id.tx);
    ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, e, idx(N)), [&] {
      SmallVector<Value> at = delinearize(e, shape);
      memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, from, at), to, at);
    });
  });
}

} // namespace q3
