//===- FunctionLowering.cpp - an entry point's tensors as buffers ---------===//
#include "passes/FunctionLowering.h"
#include "dialect/Q3Ops.h"
#include "passes/KernelEmitter.h" // kCacheScaleBytes
#include "passes/LoweringConfig.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/SaveAndRestore.h"

namespace q3 {

using namespace mlir;

namespace {
constexpr const char *kOffsetsTable = "q3_weight_offsets";
} // namespace

MemRefType memrefFor(Type t) {
  auto rt = llvm::cast<RankedTensorType>(t);
  SmallVector<int64_t> shape(rt.getShape());
  // An int8 KV cache (the only rank-4 i8 tensor): each row's f32 scale
  // follows its head_dim bytes (QuantisedCache.cpp).
  if (rt.getRank() == 4 && rt.getElementType().isInteger(8)) shape.back() += kCacheScaleBytes;
  return MemRefType::get(shape, rt.getElementType());
}

std::optional<ElementwiseOp> elementwiseOf(Operation &op) {
  return llvm::TypeSwitch<Operation *, std::optional<ElementwiseOp>>(&op)
      .Case([](SiLUOp s) { return ElementwiseOp{ElementwiseKind::SiLU, s.getInput(), Value(), s.getResult()}; })
      .Case([](SwiGLUOp s) { return ElementwiseOp{ElementwiseKind::SwiGLU, s.getGate(), s.getUp(), s.getResult()}; })
      .Case([](AddOp a) { return ElementwiseOp{ElementwiseKind::Add, a.getLhs(), a.getRhs(), a.getResult()}; })
      .Case([](MulOp m) { return ElementwiseOp{ElementwiseKind::Mul, m.getLhs(), m.getRhs(), m.getResult()}; })
      .Default([](Operation *) { return std::nullopt; });
}

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
  beginFunction(b, dst);
  if (failed(lowerOps(entry, b))) return failure();
  func::ReturnOp::create(b, loc());
  return success();
}

LogicalResult FunctionLowering::lowerOps(Block &block, OpBuilder &b) {
  for (Operation &op : block.without_terminator())
    if (failed(lowerOp(op, b))) return failure();
  return success();
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
        auto v = loadScalar(b, e, buffer(e.getTensor()), indices);
        if (failed(v)) return failure();
        map.map(e.getResult(), *v);
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
        copy(b, view, allocate(b, e.getResult()));
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
          copy(b, buffer(in), view);
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
      Value slot = arenaSlot(b, llvm::cast<MemRefType>(buf.getType()));
      copy(b, buf, slot);
      buf = slot;
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
    if (buffer(v) != buf) copy(inner, buffer(v), buf);
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
    copy(thenB, tb, slot);
    copy(elseB, eb, slot);
  }
  return success();
}


FunctionLowering::FunctionLowering(ModuleOp module, const WeightPlan &plan, MemRefType tableType)
    : module(module), plan(plan), tableType(tableType), currentLoc(UnknownLoc::get(module.getContext())) {}

Value FunctionLowering::index(OpBuilder &b, int64_t v) { return arith::ConstantIndexOp::create(b, loc(), v); }

void FunctionLowering::copy(OpBuilder &b, Value from, Value to) { memref::CopyOp::create(b, loc(), from, to); }

FailureOr<Value> FunctionLowering::loadScalar(OpBuilder &b, Operation *, Value buffer, ValueRange indices) {
  return Value(memref::LoadOp::create(b, loc(), buffer, indices));
}


LogicalResult lowerEntryPoints(ModuleOp module, llvm::StringRef passName, const FunctionLoweringFactory &make) {
  auto plan = WeightPlan::read(module);
  if (!plan) {
    return module.emitError(passName.str() + " needs q3.weight_plan: run q3-plan-weights first");
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
    std::unique_ptr<FunctionLowering> lowering = make(module, *plan, tableType);
    if (failed(lowering->run(src, dst))) return failure();
    arena = std::max(arena, lowering->arenaBytes());
    std::string name = src.getName().str();
    src.erase();
    dst.setName(name);
  }
  module->setAttr("q3.arena_bytes", b.getI64IntegerAttr(arena));
  return success();
}

} // namespace q3
