//===- LowerToLoops.cpp - q3-lower-to-loops ---------------------------------===//
//
// Bufferization and kernel emission in one walk, because the graph's memory
// story is simple and known: caches are updated in place, logits go to an
// out-parameter, every other tensor gets its own 64-byte aligned slice of one
// arena (q3-plan-arena then packs the slices by liveness: planning is not
// this pass's business), loop-carried values keep one buffer and are copied
// into it at the yield when the body produced them elsewhere.
//
//===----------------------------------------------------------------------===//
#include "dialect/Q3Ops.h"
#include "passes/KernelEmitter.h"
#include "passes/Passes.h"
#include "passes/WeightPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/SaveAndRestore.h"

namespace q3 {
#define GEN_PASS_DEF_LOWERTOLOOPS
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

constexpr const char *kOffsetsTable = "q3_weight_offsets";

MemRefType memrefFor(Type t) {
  auto rt = llvm::cast<RankedTensorType>(t);
  SmallVector<int64_t> shape(rt.getShape());
  // An int8 KV cache (the only rank-4 i8 tensor): each row's f32 scale
  // follows its head_dim bytes (QuantisedCache.cpp).
  if (rt.getRank() == 4 && rt.getElementType().isInteger(8)) shape.back() += kCacheScaleBytes;
  return MemRefType::get(shape, rt.getElementType());
}

class FunctionLowering {
public:
  FunctionLowering(ModuleOp module, const WeightPlan &plan, MemRefType tableType)
      : module(module), plan(plan), tableType(tableType), currentLoc(UnknownLoc::get(module.getContext())) {}

  // Lowers `src` into the body of `dst`; returns failure after an error.
  LogicalResult run(func::FuncOp src, func::FuncOp dst);
  int64_t arenaBytes() const { return arenaSize; }

private:
  LogicalResult lowerOps(Block &block, OpBuilder &b);
  LogicalResult lowerOp(Operation &op, OpBuilder &b);
  LogicalResult lowerFor(scf::ForOp op, OpBuilder &b);
  LogicalResult lowerIf(scf::IfOp op, OpBuilder &b);
  LogicalResult lowerQ3(Operation &op, OpBuilder &b);
  Value buffer(Value tensor) { return map.lookup(tensor); }
  Value allocate(OpBuilder &b, Value result);      // a result's buffer (preassigned or arena)
  Value arenaSlot(OpBuilder &b, MemRefType type);
  // The int8 dot's scratch for M input rows of K (Int8Rows).
  Int8Rows int8RowsSlots(OpBuilder &b, int64_t M, int64_t K);
  Value weightView(OpBuilder &b, Operation *op); // a q3.weight or q3.concat with a slot
  // A K cache's buffer as the kernels address it: the key-blocked
  // [L, kv_heads, C / 16, D, 16] view when the strategy blocked keys.
  Value keyView(OpBuilder &b, Value cache);
  // What a fused linear needs besides its operands (scratch for a folded
  // norm, and for the unfused fallback on row-layout weights).
  FailureOr<LinearFusion> fusion(OpBuilder &b, Operation *op, Value norm, FloatAttr eps);
  Value index(OpBuilder &b, int64_t v) { return arith::ConstantIndexOp::create(b, loc(), v); }
  // The location of the op being lowered: a kernel's loops carry its op's
  // (q3-kernel-locations' number and block names).
  Location loc() { return currentLoc; }

  ModuleOp module;
  const WeightPlan &plan;
  MemRefType tableType;
  Location currentLoc;
  Value offsetsTable;
  int constCounter = 0;
  Value arena, weights;
  int64_t arenaSize = 0;
  IRMapping map;                           // tensors -> buffers, scalars -> scalars
  llvm::DenseMap<Value, Value> preassigned; // tensors that must land in an out-param
  llvm::DenseMap<Value, Value> scalesOf;    // an int8 / int4 weight's view -> its scales' view
  llvm::DenseSet<Value> nibbleViews;        // the int4 ones (two values a byte)
  int64_t keyBlock = 0;                     // q3.key_cache_block (0: rows)
  llvm::DenseSet<Operation *> keyWriters;   // the kv_write / norm_rope_write ops that fill a K cache
};

Value FunctionLowering::keyView(OpBuilder &b, Value cache) {
  if (!keyBlock) return cache;
  auto t = llvm::cast<MemRefType>(cache.getType());
  int64_t L = t.getDimSize(0), H = t.getDimSize(1), C = t.getDimSize(2), D = t.getDimSize(3);
  SmallVector<int64_t> sizes{L, H, C / keyBlock, D, keyBlock};
  SmallVector<int64_t> strides{H * C * D, C * D, D * keyBlock, keyBlock, 1};
  return memref::ReinterpretCastOp::create(b, loc(), MemRefType::get(sizes, t.getElementType()), cache, 0, sizes,
                                           strides);
}

LogicalResult FunctionLowering::run(func::FuncOp src, func::FuncOp dst) {
  Block &entry = src.getBody().front();
  Block *body = dst.addEntryBlock();
  unsigned nIn = entry.getNumArguments();
  for (unsigned i = 0; i < nIn; ++i) map.map(entry.getArgument(i), body->getArgument(i));
  weights = body->getArgument(dst.getNumArguments() - 2);
  arena = body->getArgument(dst.getNumArguments() - 1);
  // Results: a cache comes back in its own argument's buffer; anything else
  // (the logits) is written straight into its out-parameter.
  auto ret = llvm::cast<func::ReturnOp>(entry.getTerminator());
  unsigned outParam = nIn;
  SmallVector<std::pair<Value, Value>> copies;
  for (Value v : ret.getOperands()) {
    bool isArgCache = false;
    for (Value a = v; a;) {
      if (auto ba = llvm::dyn_cast<BlockArgument>(a)) {
        isArgCache = ba.getOwner() == &entry;
        break;
      }
      if (auto kv = a.getDefiningOp<KVWriteOp>()) a = kv.getCache();
      else if (auto nr = a.getDefiningOp<NormRopeWriteOp>()) a = nr.getCache();
      else if (auto f = a.getDefiningOp<scf::ForOp>()) a = f.getInitArgs()[llvm::cast<OpResult>(a).getResultNumber()];
      else break;
    }
    if (!isArgCache) preassigned[v] = body->getArgument(outParam++);
  }
  // Which cache writes fill a K cache: those an attention's keys come from.
  keyBlock = keyCacheBlockOf(module);
  src.walk([&](AttentionOp a) {
    for (Value c = a.getKeys(); c;) {
      Operation *def = c.getDefiningOp();
      if (auto kv = llvm::dyn_cast_or_null<KVWriteOp>(def)) c = kv.getCache();
      else if (auto nr = llvm::dyn_cast_or_null<NormRopeWriteOp>(def)) c = nr.getCache();
      else break;
      keyWriters.insert(def);
    }
  });
  OpBuilder b = OpBuilder::atBlockBegin(body);
  offsetsTable = memref::GetGlobalOp::create(b, loc(), tableType, kOffsetsTable);
  if (failed(lowerOps(entry, b))) return failure();
  func::ReturnOp::create(b, loc());
  return success();
}

LogicalResult FunctionLowering::lowerOps(Block &block, OpBuilder &b) {
  for (Operation &op : block.without_terminator())
    if (failed(lowerOp(op, b))) return failure();
  return success();
}

Int8Rows FunctionLowering::int8RowsSlots(OpBuilder &b, int64_t M, int64_t K) {
  return {arenaSlot(b, MemRefType::get({M, K}, b.getI8Type())),
          arenaSlot(b, MemRefType::get({M, K / kQ8Group}, b.getF32Type())),
          arenaSlot(b, MemRefType::get({M, K / kQ8Group}, b.getI32Type()))};
}

Value FunctionLowering::arenaSlot(OpBuilder &b, MemRefType type) {
  int64_t bytes = type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
  arenaSize = (arenaSize + kWeightAlignment - 1) / kWeightAlignment * kWeightAlignment;
  Value offset = index(b, arenaSize);
  arenaSize += bytes;
  return memref::ViewOp::create(b, loc(), type, arena, offset, ValueRange{});
}

Value FunctionLowering::allocate(OpBuilder &b, Value result) {
  if (Value out = preassigned.lookup(result)) {
    map.map(result, out);
    return out;
  }
  Value slot = arenaSlot(b, memrefFor(result.getType()));
  map.map(result, slot);
  return slot;
}

Value FunctionLowering::weightView(OpBuilder &b, Operation *op) {
  auto slotAttr = op->getAttrOfType<IntegerAttr>("q3.slot");
  const WeightSlot &slot = plan.slots[size_t(slotAttr.getInt())];
  Value offset;
  if (!slot.perLayer) {
    offset = index(b, slot.offsets[0]);
  } else {
    // offsets[slot * layers + layer] from the table compiled into the model.
    Value layerOperand;
    if (auto w = llvm::dyn_cast<WeightOp>(op)) layerOperand = w.getLayer();
    else layerOperand = llvm::cast<ConcatOp>(op).getInputs()[0].getDefiningOp<WeightOp>().getLayer();
    Value layer = map.lookup(layerOperand);
    Value i = arith::AddIOp::create(b, loc(), index(b, slotAttr.getInt() * plan.numLayers), layer);
    Value off = memref::LoadOp::create(b, loc(), offsetsTable, ValueRange{i});
    offset = arith::IndexCastOp::create(b, loc(), b.getIndexType(), off);
  }
  MemRefType type = memrefFor(op->getResult(0).getType());
  if (slot.layout && isQuantisedLayout(*slot.layout)) {
    // Wq[n / 16][k][n % 16] i8 (int4: Wq[n / 16][k / 2][n % 16] bytes of
    // two nibbles), then Ws[n / 16][k / 32][n % 16] f16; stacked experts
    // (rank 3) every expert's values, then every expert's scales, each
    // with a leading expert index.
    const bool stacked = type.getRank() == 3;
    int64_t E = stacked ? type.getDimSize(0) : 1, N = type.getDimSize(stacked ? 1 : 0), K = type.getShape().back();
    const bool int4 = isQ4Layout(*slot.layout);
    const int64_t depth = int4 ? K / 2 : K;
    auto shaped = [&](SmallVector<int64_t> dims, Type element) {
      if (stacked) dims.insert(dims.begin(), E);
      return MemRefType::get(dims, element);
    };
    // Quads: Wq[n / 16][k / 4][64] (int4: [k / 8][64]), each 64-byte row
    // 16 outputs' quads of k.
    const bool quads = isQuadLayout(*slot.layout);
    SmallVector<int64_t> valueDims = quads ? SmallVector<int64_t>{N / 16, K / (int4 ? 8 : 4), 64}
                                           : SmallVector<int64_t>{N / 16, depth, 16};
    Value values = memref::ViewOp::create(b, loc(), shaped(valueDims, b.getI8Type()), weights, offset, ValueRange{});
    Value scalesAt = arith::AddIOp::create(b, loc(), offset, index(b, E * N * depth));
    scalesOf[values] = memref::ViewOp::create(b, loc(), shaped({N / 16, K / kQ8Group, 16}, b.getF16Type()), weights,
                                              scalesAt, ValueRange{});
    if (int4) nibbleViews.insert(values);
    return values;
  } else if (slot.layout && type.getRank() == 3) { // stacked experts, k16 each: Wp[e][n / 16][k][n % 16]
    const bool pairs = isPairedLayout(*slot.layout); // or Wp[e][n / 16][k / 2][n % 16][k % 2]
    type = MemRefType::get({type.getDimSize(0), type.getDimSize(1) / 16, type.getDimSize(2) / (pairs ? 2 : 1), pairs ? 32 : 16},
                           type.getElementType());
  }
  else if (slot.layout && isPairedLayout(*slot.layout)) // Wp[n / 16][k / 2][n % 16][k % 2]
    type = MemRefType::get({type.getDimSize(0) / 16, type.getDimSize(1) / 2, 32}, type.getElementType());
  else if (slot.layout) // k16 and k16_gated: Wp[n / 16][k][n % 16]
    type = MemRefType::get({type.getDimSize(0) / 16, type.getDimSize(1), 16}, type.getElementType());
  return memref::ViewOp::create(b, loc(), type, weights, offset, ValueRange{});
}

FailureOr<LinearFusion> FunctionLowering::fusion(OpBuilder &b, Operation *op, Value norm, FloatAttr eps) {
  Value input = op->getOperand(0), weight = op->getOperand(1);
  LinearFusion f;
  std::string error;
  f.tiling = linearTilingOf(op, error);
  if (!error.empty()) return op->emitOpError(error);
  f.scales = scalesOf.lookup(buffer(weight));
  f.int4 = nibbleViews.contains(buffer(weight));
  auto x = memrefFor(input.getType());
  int64_t K = x.getShape().back(), M = x.getNumElements() / K;
  bool rowLayout = llvm::cast<MemRefType>(buffer(weight).getType()).getRank() == 2;
  if (isI8Dot(f.tiling.dot)) {
    // The rows quantised once per product (a folded norm applied on the
    // way), read by every block of outputs.
    f.int8Rows = int8RowsSlots(b, M, K);
  } else if (f.tiling.dot != ProductDot::FMA) {
    if (norm && !f.tiling.stageNorm)
      return op->emitOpError("a bf16 dot family needs its folded norm staged (stage_norm = true)");
    // AMX input tiles read whole tiles of rows: the rows past M are
    // scratch whose products no output keeps. They are packed one tile
    // after another ([rows / 16, K / 32, 16, 32]: each 16 x 32 tile 1 KiB
    // contiguous), not in rows 2K bytes apart.
    if (isAMXDot(f.tiling.dot)) {
      int64_t rows = (M + f.tiling.rows - 1) / f.tiling.rows * f.tiling.rows;
      f.rounded = arenaSlot(b, MemRefType::get({rows / 16, K / kAMXTileDepth, 16, kAMXTileDepth}, b.getBF16Type()));
    } else {
      f.rounded = arenaSlot(b, MemRefType::get({M, K}, b.getBF16Type()));
    }
  }
  if (rowLayout && !llvm::isa<LinearOp>(op)) { // unfused fallback
    int64_t N = llvm::cast<RankedTensorType>(weight.getType()).getDimSize(0);
    f.product = arenaSlot(b, MemRefType::get({M, N}, x.getElementType()));
  }
  if (norm) {
    f.norm = buffer(norm);
    f.eps = eps.getValueAsDouble();
    // Normalised rows (row layout, or a staged norm), else 1/rms per row.
    if (rowLayout || f.tiling.stageNorm) f.normalised = arenaSlot(b, MemRefType::get({M, K}, x.getElementType()));
    else f.invRms = arenaSlot(b, MemRefType::get({M}, b.getF32Type()));
  }
  return f;
}

LogicalResult FunctionLowering::lowerOp(Operation &op, OpBuilder &b) {
  llvm::SaveAndRestore at(currentLoc, op.getLoc());
  return llvm::TypeSwitch<Operation *, LogicalResult>(&op)
      .Case([&](arith::ConstantOp c) -> LogicalResult {
        if (auto dense = llvm::dyn_cast<DenseElementsAttr>(c.getValue())) {
          // A constant table (the layer-kind table): a private global.
          std::string name;
          do name = "q3_const_" + std::to_string(constCounter++);
          while (module.lookupSymbol(name));
          auto type = memrefFor(c.getType());
          {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(module.getBody());
            memref::GlobalOp::create(b, loc(), name, b.getStringAttr("private"), type, dense, true,
                                     IntegerAttr());
          }
          map.map(c.getResult(), memref::GetGlobalOp::create(b, loc(), type, name));
          return success();
        }
        b.clone(*c, map);
        return success();
      })
      .Case([&](tensor::ExtractOp e) -> LogicalResult {
        SmallVector<Value> indices;
        for (Value i : e.getIndices()) indices.push_back(map.lookup(i));
        map.map(e.getResult(), memref::LoadOp::create(b, loc(), buffer(e.getTensor()), indices));
        return success();
      })
      .Case([&](tensor::ExpandShapeOp r) -> LogicalResult {
        map.map(r.getResult(), memref::ExpandShapeOp::create(b, loc(), memrefFor(r.getType()),
                                                             buffer(r.getSrc()),
                                                             r.getReassociationIndices()));
        return success();
      })
      .Case([&](tensor::CollapseShapeOp r) -> LogicalResult {
        map.map(r.getResult(), memref::CollapseShapeOp::create(b, loc(), buffer(r.getSrc()),
                                                               r.getReassociationIndices()));
        return success();
      })
      // @decode_batch's rows: copies in and out of the row-major [T, heads,
      // D] buffers (contiguous, so each is one memcpy).
      .Case([&](tensor::ExtractSliceOp e) -> LogicalResult {
        // Offsets may be dynamic (the one row of logits a prompt's last chunk
        // keeps); sizes and strides are static.
        if (!e.hasUnitStride() || !e.getSizes().empty() || !e.getStrides().empty())
          return e.emitOpError("only static-size unit-stride slices are supported by q3-lower-to-loops");
        SmallVector<OpFoldResult> offsets;
        for (OpFoldResult o : e.getMixedOffsets())
          offsets.push_back(llvm::isa<Value>(o) ? OpFoldResult(map.lookup(llvm::cast<Value>(o))) : o);
        Value view = memref::SubViewOp::create(b, loc(), buffer(e.getSource()), offsets, e.getMixedSizes(),
                                               e.getMixedStrides());
        memref::CopyOp::create(b, loc(), view, allocate(b, e.getResult()));
        return success();
      })
      .Case([&](tensor::ConcatOp c) -> LogicalResult {
        Value out = allocate(b, c.getResult());
        auto outType = llvm::cast<MemRefType>(out.getType());
        int64_t at = 0, dim = int64_t(c.getDim());
        for (Value in : c.getInputs()) {
          auto inType = llvm::cast<RankedTensorType>(in.getType());
          SmallVector<OpFoldResult> offsets(outType.getRank(), b.getIndexAttr(0)), sizes, strides;
          offsets[size_t(dim)] = b.getIndexAttr(at);
          for (int64_t d : inType.getShape()) sizes.push_back(b.getIndexAttr(d));
          strides.assign(size_t(outType.getRank()), b.getIndexAttr(1));
          Value view = memref::SubViewOp::create(b, loc(), out, offsets, sizes, strides);
          memref::CopyOp::create(b, loc(), buffer(in), view);
          at += inType.getDimSize(dim);
        }
        return success();
      })
      .Case([&](scf::ForOp f) { return lowerFor(f, b); })
      .Case([&](scf::IfOp i) { return lowerIf(i, b); })
      .Case([&](func::CallOp c) -> LogicalResult {
        return c.emitOpError("calls must be inlined before q3-lower-to-loops");
      })
      .Default([&](Operation *o) -> LogicalResult {
        if (llvm::isa<Q3Dialect>(o->getDialect())) return lowerQ3(*o, b);
        if (o->getNumRegions() == 0 && llvm::none_of(o->getResultTypes(), [](Type t) {
              return llvm::isa<TensorType>(t);
            })) {
          b.clone(*o, map); // index arithmetic and the like
          return success();
        }
        return o->emitOpError("is not supported by q3-lower-to-loops");
      });
}

LogicalResult FunctionLowering::lowerFor(scf::ForOp op, OpBuilder &b) {
  // Each carried tensor keeps one buffer for the whole loop.
  SmallVector<Value> carried;
  for (Value init : op.getInitArgs()) {
    Value buf = buffer(init);
    if (!init.hasOneUse()) { // still read after the loop: carry a copy
      Value copy = arenaSlot(b, llvm::cast<MemRefType>(buf.getType()));
      memref::CopyOp::create(b, loc(), buf, copy);
      buf = copy;
    }
    carried.push_back(buf);
  }
  auto loop = scf::ForOp::create(b, loc(), map.lookup(op.getLowerBound()),
                                 map.lookup(op.getUpperBound()), map.lookup(op.getStep()));
  OpBuilder inner = OpBuilder::atBlockBegin(loop.getBody());
  map.map(op.getInductionVar(), loop.getInductionVar());
  for (auto [arg, buf] : llvm::zip(op.getRegionIterArgs(), carried)) map.map(arg, buf);
  if (failed(lowerOps(*op.getBody(), inner))) return failure();
  auto yield = llvm::cast<scf::YieldOp>(op.getBody()->getTerminator());
  for (auto [v, buf] : llvm::zip(yield.getOperands(), carried))
    if (buffer(v) != buf) memref::CopyOp::create(inner, loc(), buffer(v), buf);
  for (auto [r, buf] : llvm::zip(op.getResults(), carried)) map.map(r, buf);
  return success();
}

LogicalResult FunctionLowering::lowerIf(scf::IfOp op, OpBuilder &b) {
  auto ifOp = scf::IfOp::create(b, loc(), map.lookup(op.getCondition()), /*withElse=*/true);
  OpBuilder thenB = OpBuilder::atBlockTerminator(ifOp.thenBlock());
  OpBuilder elseB = OpBuilder::atBlockTerminator(ifOp.elseBlock());
  if (failed(lowerOps(*op.thenBlock(), thenB)) || failed(lowerOps(*op.elseBlock(), elseB)))
    return failure();
  auto thenYield = op.thenYield(), elseYield = op.elseYield();
  for (unsigned i = 0; i < op.getNumResults(); ++i) {
    Value tb = buffer(thenYield.getOperand(i)), eb = buffer(elseYield.getOperand(i));
    if (tb == eb) { // both branches updated the same buffer (a cache)
      map.map(op.getResult(i), tb);
      continue;
    }
    OpBuilder before(ifOp); // the slot must exist in both branches
    Value slot = allocate(before, op.getResult(i));
    memref::CopyOp::create(thenB, loc(), tb, slot);
    memref::CopyOp::create(elseB, loc(), eb, slot);
  }
  return success();
}

LogicalResult FunctionLowering::lowerQ3(Operation &op, OpBuilder &b) {
  KernelEmitter k(b, loc(), module);
  using EW = KernelEmitter::Elementwise;
  // The fused linears: scratch and tiling from fusion(), the op's own
  // epilogue and outputs from `complete`.
  auto fusedLinear = [&](Operation *op, Value norm, FloatAttr eps,
                         llvm::function_ref<void(LinearFusion &)> complete) -> LogicalResult {
    auto f = fusion(b, op, norm, eps);
    if (failed(f)) return failure();
    complete(*f);
    k.fusedLinear(buffer(op->getOperand(0)), buffer(op->getOperand(1)), *f);
    return success();
  };
  // q3.norm_rope and q3.norm_rope_write: rows to `out`, or into `cache`.
  auto normRope = [&](auto op, Value out, Value cache, Value layer) {
    int64_t D = op.getInput().getType().getDimSize(2);
    Value table = arenaSlot(b, MemRefType::get({2, D / 2}, b.getF32Type())); // cos, sin
    Value row = cache && k.isQuantisedCache(cache) ? arenaSlot(b, MemRefType::get({D}, b.getF32Type())) : Value();
    k.normRope(buffer(op.getInput()), buffer(op.getNorm()), op.getEpsAttr().getValueAsDouble(),
               map.lookup(op.getOffset()), ropeSpecOf(op),
               op.getStyle() == RopeStyle::SplitHalves, table, out, cache, layer, row);
  };
  return llvm::TypeSwitch<Operation *, LogicalResult>(&op)
      .Case([&](WeightOp w) -> LogicalResult {
        if (!w->hasAttr("q3.slot")) {
          if (packedInStack(w)) return success(); // no view of its own
          return w.emitOpError("has no q3.slot: run q3-plan-weights first");
        }
        map.map(w.getResult(), weightView(b, w));
        return success();
      })
      .Case([&](ConcatOp c) -> LogicalResult {
        if (!c->hasAttr("q3.slot")) return c.emitOpError("has no q3.slot: run q3-plan-weights first");
        map.map(c.getResult(), weightView(b, c));
        return success();
      })
      .Case([&](LinearResidualOp l) {
        return fusedLinear(l, Value(), FloatAttr(), [&](LinearFusion &f) {
          f.residual = buffer(l.getResidual());
          f.outs.push_back(allocate(b, l.getResult()));
        });
      })
      .Case([&](LinearSplitOp l) {
        return fusedLinear(l, l.getNorm(), l.getNormEpsAttr(), [&](LinearFusion &f) {
          for (Value r : l.getResults()) f.outs.push_back(allocate(b, r));
        });
      })
      .Case([&](LinearSwiGLUOp l) {
        return fusedLinear(l, l.getNorm(), l.getNormEpsAttr(), [&](LinearFusion &f) {
          f.gated = true;
          f.outs.push_back(allocate(b, l.getResult()));
        });
      })
      .Case([&](NormRopeOp r) {
        normRope(r, allocate(b, r.getResult()), Value(), Value());
        return success();
      })
      .Case([&](NormRopeWriteOp w) {
        Value cache = buffer(w.getCache());
        normRope(w, Value(), keyWriters.contains(w) ? keyView(b, cache) : cache, map.lookup(w.getLayer()));
        map.map(w.getResult(), cache); // in place
        return success();
      })
      .Case([&](EmbeddingOp e) {
        k.embedding(buffer(e.getTable()), buffer(e.getIds()), allocate(b, e.getResult()),
                    scalesOf.lookup(buffer(e.getTable())), nibbleViews.contains(buffer(e.getTable())));
        return success();
      })
      .Case([&](RMSNormOp n) {
        k.rmsNorm(buffer(n.getInput()), buffer(n.getWeight()), n.getEpsAttr().getValueAsDouble(),
                  allocate(b, n.getResult()));
        return success();
      })
      .Case([&](LinearOp l) -> LogicalResult {
        if (l.getScales()) return l.emitOpError("quantised weights are not supported by the CPU code generator yet");
        return fusedLinear(l, Value(), FloatAttr(), [&](LinearFusion &f) { f.outs.push_back(allocate(b, l.getResult())); });
      })
      .Case([&](RopeOp r) {
        k.rope(buffer(r.getInput()), map.lookup(r.getOffset()), ropeSpecOf(r),
               r.getStyle() == RopeStyle::SplitHalves, allocate(b, r.getResult()));
        return success();
      })
      .Case([&](KVWriteOp w) {
        Value cache = buffer(w.getCache());
        k.kvWrite(buffer(w.getValue()), keyWriters.contains(w) ? keyView(b, cache) : cache, map.lookup(w.getLayer()),
                  map.lookup(w.getOffset()));
        map.map(w.getResult(), cache); // in place
        return success();
      })
      .Case([&](AttentionOp a) -> LogicalResult {
        std::string error;
        AttentionTiling tiling = attentionTilingOf(a, error);
        if (!error.empty()) return a.emitOpError(error);
        if (keyBlock && !a.getOnlineSoftmax())
          return a.emitOpError("a key-blocked cache (q3.key_cache_block) needs the online softmax");
        if (keyBlock && tiling.scoreBlock != keyBlock)
          return a.emitOpError("score_block = " + std::to_string(tiling.scoreBlock) + " over a key-blocked cache: " +
                               "a score vector is one block of " + std::to_string(keyBlock) + " keys");
        if (!keyBlock && tiling.kvSplit > 1)
          return a.emitOpError("kv_split = " + std::to_string(tiling.kvSplit) +
                               " needs the key-blocked cache (q3.key_cache_block)");
        if (keyBlock && !isAMXDot(tiling.dot) && tiling.valueBlock == 0)
          return a.emitOpError("the " + stringifyProductDot(tiling.dot).str() +
                               " kernel over a key-blocked cache needs a value_block in its q3.attention_config");
        if (!keyBlock && tiling.valueBlock != 0)
          return a.emitOpError("value_block = " + std::to_string(tiling.valueBlock) +
                               " is for the key-blocked cache (q3.key_cache_block)");
        if (!keyBlock && tiling.queryTiles > 1)
          return a.emitOpError("query_tiles = " + std::to_string(tiling.queryTiles) +
                               " needs the key-blocked cache (q3.key_cache_block)");
        if (!keyBlock && tiling.queryBlock > 1)
          return a.emitOpError("query_block = " + std::to_string(tiling.queryBlock) +
                               " needs the key-blocked cache (q3.key_cache_block)");
        auto keys = llvm::cast<RankedTensorType>(a.getKeys().getType());
        auto query = llvm::cast<RankedTensorType>(a.getQuery().getType());
        // The bf16 families read bf16 pairs of dims: 32 at a time on tiles.
        if (roundsToBF16(tiling.dot)) {
          auto values = llvm::cast<RankedTensorType>(a.getValues().getType());
          const int64_t depth = isAMXDot(tiling.dot) ? kAMXTileDepth : 2;
          if (!keyBlock || !keys.getElementType().isBF16() || !values.getElementType().isBF16() ||
              query.getDimSize(2) % depth != 0)
            return a.emitOpError("dot = " + stringifyProductDot(tiling.dot).str() +
                                 " needs a key-blocked bf16 cache and a head dim that is a multiple of " +
                                 std::to_string(depth));
        }
        // One row of scores per query head (heads run in parallel), unless
        // the softmax is online.
        Value scores = a.getOnlineSoftmax()
                           ? Value()
                           : arenaSlot(b, MemRefType::get({query.getDimSize(1), keys.getDimSize(2)}, b.getF32Type()));
        // Split keys (decode): each range's unnormalised output rows, then
        // its running maximum and sum, per work item and split.
        Value partials;
        if (tiling.kvSplit > 1) {
          const int64_t D = query.getDimSize(2), G = query.getDimSize(1) / keys.getDimSize(1);
          const int64_t items = keys.getDimSize(1) * (G / tiling.headBlock);
          partials = arenaSlot(b, MemRefType::get({items * tiling.kvSplit, tiling.headBlock, D + 2}, b.getF32Type()));
        }
        k.attention(buffer(a.getQuery()), keyView(b, buffer(a.getKeys())), buffer(a.getValues()),
                    map.lookup(a.getLayer()), map.lookup(a.getOffset()),
                    a.getScaleAttr().getValueAsDouble(), scores, allocate(b, a.getResult()), tiling, partials);
        return success();
      })
      .Case([&](SiLUOp s) {
        k.elementwise(EW::SiLU, buffer(s.getInput()), Value(), allocate(b, s.getResult()));
        return success();
      })
      .Case([&](SwiGLUOp s) {
        k.elementwise(EW::SwiGLU, buffer(s.getGate()), buffer(s.getUp()), allocate(b, s.getResult()));
        return success();
      })
      .Case([&](AddOp a) {
        k.elementwise(EW::Add, buffer(a.getLhs()), buffer(a.getRhs()), allocate(b, a.getResult()));
        return success();
      })
      .Case([&](MulOp m) {
        k.elementwise(EW::Mul, buffer(m.getLhs()), buffer(m.getRhs()), allocate(b, m.getResult()));
        return success();
      })
      .Case([&](MoERouterOp r) {
        auto logits = llvm::cast<RankedTensorType>(r.getLogits().getType());
        Value probs = arenaSlot(b, MemRefType::get({logits.getDimSize(1)}, b.getF32Type()));
        k.moeRouter(buffer(r.getLogits()), r.getTopKAttr().getInt(), r.getNormTopkProb(), probs,
                    allocate(b, r.getWeights()), allocate(b, r.getExperts()));
        return success();
      })
      .Case([&](MoEExpertsOp m) -> LogicalResult {
        int64_t T = m.getInput().getType().getDimSize(0);
        int64_t I = llvm::cast<RankedTensorType>(m.getGate().getType()).getDimSize(1);
        const bool tiled = hasTiledExperts(m), grouped = runsGroupedByExpert(m);
        Value x = buffer(m.getInput()), w = buffer(m.getWeights()), e = buffer(m.getExperts());
        Value gate = buffer(m.getGate()), up = buffer(m.getUp()), down = buffer(m.getDown());
        if (!tiled && !grouped) { // row-layout experts, one token and selection at a time
          Value act = arenaSlot(b, MemRefType::get({I}, b.getF32Type()));
          k.moeExperts(x, w, e, gate, up, down, act, allocate(b, m.getResult()));
          return success();
        }
        // Scratch of the kernels that gather rows: the tokens (and their
        // router weights) an expert runs over, its SwiGLU rows.
        std::string error;
        auto [gateUp, downTiling] = tiled ? expertTilingsOf(m, error) : std::pair<LinearTiling, LinearTiling>();
        if (!error.empty()) return m.emitOpError(error);
        Value tokens = arenaSlot(b, MemRefType::get({T}, b.getI32Type()));
        Value sel = arenaSlot(b, MemRefType::get({T}, b.getF32Type()));
        Value act = arenaSlot(b, MemRefType::get({T, I}, b.getF32Type()));
        Value out = allocate(b, m.getResult());
        if (tiled) { // k16 expert weights (or their int8 / int4 forms): two register-tiled products per expert
          ExpertScales scales{scalesOf.lookup(gate), scalesOf.lookup(up), scalesOf.lookup(down),
                              nibbleViews.contains(gate), nibbleViews.contains(down)};
          if (bool(scales.gate) != bool(scales.up))
            return m.emitOpError("gate and up expert weights must share one format (both quantised or neither)");
          // The int8 dot's quantised rows: of x for gate/up, of act for down.
          if (isI8Dot(gateUp.dot)) scales.inputRows = int8RowsSlots(b, T, m.getInput().getType().getDimSize(1));
          if (isI8Dot(downTiling.dot)) scales.actRows = int8RowsSlots(b, T, I);
          if (isBF16Dot(gateUp.dot))
            scales.inputRounded = arenaSlot(b, MemRefType::get({T, m.getInput().getType().getDimSize(1)}, b.getBF16Type()));
          if (isBF16Dot(downTiling.dot)) scales.actRounded = arenaSlot(b, MemRefType::get({T, I}, b.getBF16Type()));
          k.moeExpertsTiled(x, w, e, gate, up, down, tokens, sel, act, out, grouped, gateUp, downTiling, scales);
        }
        else
          k.moeExpertsGrouped(x, w, e, gate, up, down, tokens, sel, act, out);
        return success();
      })
      .Case([&](ArgmaxOp a) -> LogicalResult {
        if (a.getResult().getType().getRank() == 0)
          return a.emitOpError("rank-0 argmax is not supported by the CPU code generator yet");
        k.argmax(buffer(a.getInput()), allocate(b, a.getResult()));
        return success();
      })
      .Default([&](Operation *o) { return o->emitOpError("has no CPU lowering yet"); });
}

struct LowerToLoopsPass : impl::LowerToLoopsBase<LowerToLoopsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto plan = WeightPlan::read(module);
    if (!plan) {
      module.emitError("q3-lower-to-loops needs q3.weight_plan: run q3-plan-weights first");
      return signalPassFailure();
    }
    OpBuilder b(module.getContext());
    Location loc = module.getLoc();
    // The per-layer weight offsets, compiled into the model.
    SmallVector<int64_t> table;
    for (const WeightSlot &s : plan->slots)
      for (int64_t l = 0; l < plan->numLayers; ++l)
        table.push_back(s.perLayer ? s.offsets[size_t(l)] : s.offsets[0]);
    auto tableType = MemRefType::get({int64_t(table.size())}, b.getI64Type());
    b.setInsertionPointToStart(module.getBody());
    memref::GlobalOp::create(
        b, loc, kOffsetsTable, b.getStringAttr("private"), tableType,
        DenseElementsAttr::get(RankedTensorType::get({int64_t(table.size())}, b.getI64Type()),
                               ArrayRef<int64_t>(table)),
        true, IntegerAttr());

    int64_t arena = 0;
    SmallVector<func::FuncOp> entries;
    for (auto fn : module.getOps<func::FuncOp>())
      if (fn.isPublic() && !fn.isExternal()) entries.push_back(fn);
    for (func::FuncOp src : entries) {
      // (inputs as buffers..., out-params for non-cache results..., weights, arena)
      SmallVector<Type> inputs;
      for (Type t : src.getArgumentTypes())
        inputs.push_back(llvm::isa<RankedTensorType>(t) ? Type(memrefFor(t)) : t);
      for (Type t : src.getResultTypes()) {
        bool cache = llvm::cast<RankedTensorType>(t).getRank() == 4 &&
                     llvm::is_contained(src.getArgumentTypes(), t);
        if (!cache) inputs.push_back(memrefFor(t));
      }
      auto blob = MemRefType::get({ShapedType::kDynamic}, b.getI8Type());
      inputs.push_back(blob);
      inputs.push_back(blob);
      b.setInsertionPoint(src);
      auto dst = func::FuncOp::create(b, loc, (src.getName() + ".lowered").str(),
                                      b.getFunctionType(inputs, {}));
      dst->setAttr("llvm.emit_c_interface", b.getUnitAttr());
      FunctionLowering lowering(module, *plan, tableType);
      if (failed(lowering.run(src, dst))) return signalPassFailure();
      arena = std::max(arena, lowering.arenaBytes());
      std::string name = src.getName().str();
      src.erase();
      dst.setName(name);
    }
    module->setAttr("q3.arena_bytes", b.getI64IntegerAttr(arena));
  }
};

} // namespace
} // namespace q3
