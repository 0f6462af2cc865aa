//===- LowerToGpu.cpp - q3-lower-to-gpu -------------------------------------===//
//
// The CUDA target's kernel lowering: FunctionLowering assigns the buffers as
// for the CPU (device memory: arena, weights, caches, inputs and outputs),
// this file turns each q3 op into the gpu.launch kernels of its family
// (GpuKernelEmitter). The host code left around the launches computes views
// and loops over layers; it never reads a device buffer, so a scalar the
// function reads itself must come from a host constant (the layer-kind
// table) or a host argument (below).
//
// Weights are read in the checkpoint's row layout ([out, in]); quantised
// weights, int8 caches and key-blocked caches are not lowered yet and fail
// here by name. @decode_batch's positions are the one input the host code
// reads: the runtime keeps them in host memory.
//
//===----------------------------------------------------------------------===//
#include "dialect/Q3Ops.h"
#include "passes/FunctionLowering.h"
#include "passes/GpuKernelEmitter.h"
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "llvm/ADT/TypeSwitch.h"

namespace q3 {
#define GEN_PASS_DEF_LOWERTOGPU
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

class GpuFunctionLowering : public FunctionLowering {
public:
  GpuFunctionLowering(ModuleOp module, const WeightPlan &plan, MemRefType table, GpuLaunchShapes shapes)
      : FunctionLowering(module, plan, table), shapes(shapes) {}

private:
  LogicalResult lowerQ3(Operation &op, OpBuilder &b) override;
  void copy(OpBuilder &b, Value from, Value to) override { GpuKernelEmitter(b, loc(), module, shapes).copy(from, to); }
  // The host reads a constant table, or an entry's argument that stays in
  // host memory: @decode_batch's positions (the runtime passes them so);
  // anything a kernel computed is on the device.
  FailureOr<Value> loadScalar(OpBuilder &b, Operation *at, Value buffer, ValueRange indices) override {
    auto arg = llvm::dyn_cast<BlockArgument>(buffer);
    const bool hostArgument = arg && llvm::isa<func::FuncOp>(arg.getOwner()->getParentOp());
    if (!buffer.getDefiningOp<memref::GetGlobalOp>() && !hostArgument)
      return at->emitOpError("reads a device buffer on the host: not supported by the GPU code generator");
    return FunctionLowering::loadScalar(b, at, buffer, indices);
  }
  // The entry's index arguments (a chunk's position, a prompt's last row)
  // as i64 at the arena's start, where the runtime writes them before each
  // call: the kernels read them there, so a captured CUDA graph of the
  // function replays with the next call's values. The view is the
  // function's first slice and pinned (q3-plan-arena keeps it at 0).
  void beginFunction(OpBuilder &b, func::FuncOp dst) override {
    for (BlockArgument a : dst.getArguments())
      if (a.getType().isIndex()) indexSlots[a] = int64_t(indexSlots.size());
    if (indexSlots.empty()) return;
    deviceIndices = arenaSlot(b, MemRefType::get({int64_t(indexSlots.size())}, b.getI64Type()));
    deviceIndices.getDefiningOp()->setAttr(kArenaPinnedAttr, b.getUnitAttr());
  }
  KernelIndex kernelIndex(Value host) {
    auto it = indexSlots.find(host);
    if (it == indexSlots.end()) return {host, Value(), 0};
    return {host, deviceIndices, it->second};
  }
  GpuLaunchShapes shapes; // the module's #q3.gpu_launch
  llvm::DenseMap<Value, int64_t> indexSlots;
  Value deviceIndices;
  // Products: an optional folded norm first (normalised rows in scratch),
  // then the product and its epilogue.
  LogicalResult product(OpBuilder &b, Operation *op, Value norm, FloatAttr eps, GpuProduct p);
};

LogicalResult GpuFunctionLowering::product(OpBuilder &b, Operation *op, Value norm, FloatAttr eps, GpuProduct p) {
  GpuKernelEmitter k(b, loc(), module, shapes);
  Value x = buffer(op->getOperand(0)), w = buffer(op->getOperand(1));
  auto xt = llvm::cast<MemRefType>(x.getType()), wt = llvm::cast<MemRefType>(w.getType());
  if (xt.getRank() != 2 || wt.getRank() != 2)
    return op->emitOpError("the GPU code generator needs [rows, k] inputs and row-layout [n, k] weights");
  if (!wt.getElementType().isF32() && !wt.getElementType().isBF16())
    return op->emitOpError("the GPU code generator reads bf16 or f32 weights (quantised weights are not lowered yet)");
  if (norm) {
    Value normalised = arenaSlot(b, MemRefType::get(xt.getShape(), b.getF32Type()));
    k.rmsNorm(x, buffer(norm), eps.getValueAsDouble(), normalised);
    x = normalised;
  }
  k.product(x, w, p);
  return success();
}

LogicalResult GpuFunctionLowering::lowerQ3(Operation &op, OpBuilder &b) {
  GpuKernelEmitter k(b, loc(), module, shapes);
  auto checkCache = [&](Operation *o, Value cache) -> LogicalResult {
    auto t = llvm::cast<MemRefType>(cache.getType());
    if (!t.getElementType().isF32() && !t.getElementType().isBF16())
      return o->emitOpError("the GPU code generator needs an f32 or bf16 KV cache (--kv-dtype f32 or bf16)");
    if (keyBlock) return o->emitOpError("the GPU code generator reads the row cache, not the key-blocked one");
    return success();
  };
  if (auto e = elementwiseOf(op)) {
    k.elementwise(e->kind, buffer(e->lhs), e->rhs ? buffer(e->rhs) : Value(), allocate(b, e->result));
    return success();
  }
  return llvm::TypeSwitch<Operation *, LogicalResult>(&op)
      .Case<WeightOp, ConcatOp>([&](Operation *w) -> LogicalResult {
        if (!w->hasAttr("q3.slot")) {
          if (llvm::isa<WeightOp>(w) && packedInStack(w)) return success(); // no view of its own
          return w->emitOpError("has no q3.slot: run q3-plan-weights first");
        }
        const WeightSlot &slot = plan.slots[size_t(w->getAttrOfType<IntegerAttr>("q3.slot").getInt())];
        if (slot.layout)
          return w->emitOpError("layout '" + slot.layoutName() + "': the GPU code generator reads row-layout weights");
        map.map(w->getResult(0), weightView(b, w));
        return success();
      })
      .Case([&](LinearOp l) -> LogicalResult {
        if (l.getScales()) return l.emitOpError("quantised weights are not supported by the GPU code generator yet");
        GpuProduct p;
        p.outs.push_back(allocate(b, l.getResult()));
        return product(b, l, Value(), FloatAttr(), p);
      })
      .Case([&](LinearResidualOp l) {
        GpuProduct p;
        p.residual = buffer(l.getResidual());
        p.outs.push_back(allocate(b, l.getResult()));
        return product(b, l, Value(), FloatAttr(), p);
      })
      .Case([&](LinearSplitOp l) {
        GpuProduct p;
        for (Value r : l.getResults()) p.outs.push_back(allocate(b, r));
        return product(b, l, l.getNorm(), l.getNormEpsAttr(), p);
      })
      .Case([&](LinearSwiGLUOp l) {
        GpuProduct p;
        p.gated = true;
        p.outs.push_back(allocate(b, l.getResult()));
        return product(b, l, l.getNorm(), l.getNormEpsAttr(), p);
      })
      .Case([&](EmbeddingOp e) -> LogicalResult {
        if (llvm::cast<MemRefType>(buffer(e.getTable()).getType()).getRank() != 2 || scalesOf.count(buffer(e.getTable())))
          return e.emitOpError("the GPU code generator reads a row-layout bf16 or f32 embedding");
        k.embedding(buffer(e.getTable()), buffer(e.getIds()), allocate(b, e.getResult()));
        return success();
      })
      .Case([&](RMSNormOp n) {
        k.rmsNorm(buffer(n.getInput()), buffer(n.getWeight()), n.getEpsAttr().getValueAsDouble(),
                  allocate(b, n.getResult()));
        return success();
      })
      .Case([&](RopeOp r) {
        k.rope(buffer(r.getInput()), Value(), 0, kernelIndex(map.lookup(r.getOffset())), ropeSpecOf(r),
               r.getStyle() == RopeStyle::SplitHalves, allocate(b, r.getResult()), Value(), Value());
        return success();
      })
      .Case([&](NormRopeOp r) {
        k.rope(buffer(r.getInput()), buffer(r.getNorm()), r.getEpsAttr().getValueAsDouble(), kernelIndex(map.lookup(r.getOffset())),
               ropeSpecOf(r), r.getStyle() == RopeStyle::SplitHalves, allocate(b, r.getResult()), Value(), Value());
        return success();
      })
      .Case([&](NormRopeWriteOp w) -> LogicalResult {
        Value cache = buffer(w.getCache());
        if (failed(checkCache(w, cache))) return failure();
        k.rope(buffer(w.getInput()), buffer(w.getNorm()), w.getEpsAttr().getValueAsDouble(), kernelIndex(map.lookup(w.getOffset())),
               ropeSpecOf(w), w.getStyle() == RopeStyle::SplitHalves, Value(), cache, map.lookup(w.getLayer()));
        map.map(w.getResult(), cache); // in place
        return success();
      })
      .Case([&](KVWriteOp w) -> LogicalResult {
        Value cache = buffer(w.getCache());
        if (failed(checkCache(w, cache))) return failure();
        k.kvWrite(buffer(w.getValue()), cache, map.lookup(w.getLayer()), kernelIndex(map.lookup(w.getOffset())));
        map.map(w.getResult(), cache); // in place
        return success();
      })
      .Case([&](AttentionOp a) -> LogicalResult {
        // online_softmax or not, one kernel: the scores of a (head, token)
        // live in scratch, a row of the cache's capacity each.
        if (failed(checkCache(a, buffer(a.getKeys()))) || failed(checkCache(a, buffer(a.getValues()))))
          return failure();
        auto query = llvm::cast<RankedTensorType>(a.getQuery().getType());
        auto keys = llvm::cast<RankedTensorType>(a.getKeys().getType());
        Value scores = arenaSlot(
            b, MemRefType::get({query.getDimSize(0), query.getDimSize(1), keys.getDimSize(2)}, b.getF32Type()));
        // One token (decode): its keys split into ranges (flash-decoding),
        // each range's unnormalised sum, maximum and exp-sum in scratch.
        Value partials;
        if (query.getDimSize(0) == 1)
          partials = arenaSlot(b, MemRefType::get({query.getDimSize(1), shapes.decodeSplits,
                                                   query.getDimSize(2) + 2},
                                                  b.getF32Type()));
        k.attention(buffer(a.getQuery()), buffer(a.getKeys()), buffer(a.getValues()), map.lookup(a.getLayer()),
                    kernelIndex(map.lookup(a.getOffset())), a.getScaleAttr().getValueAsDouble(), scores,
                    allocate(b, a.getResult()), partials);
        return success();
      })
      .Case([&](MoERouterOp r) {
        auto logits = llvm::cast<RankedTensorType>(r.getLogits().getType());
        Value probs = arenaSlot(b, MemRefType::get(logits.getShape(), b.getF32Type()));
        k.moeRouter(buffer(r.getLogits()), r.getTopKAttr().getInt(), r.getNormTopkProb(), probs,
                    allocate(b, r.getWeights()), allocate(b, r.getExperts()));
        return success();
      })
      .Case([&](MoEExpertsOp m) -> LogicalResult {
        // group_by_expert or not, one kernel pair: the experts are read per
        // (token, selection) (the prefill's grouping is a CPU strategy).
        Value gate = buffer(m.getGate()), up = buffer(m.getUp()), down = buffer(m.getDown());
        for (Value w : {gate, up, down})
          if (llvm::cast<MemRefType>(w.getType()).getRank() != 3 || scalesOf.count(w))
            return m.emitOpError("the GPU code generator reads row-layout bf16 or f32 expert weights");
        auto weights = llvm::cast<RankedTensorType>(m.getWeights().getType());
        const int64_t T = m.getInput().getType().getDimSize(0), I = llvm::cast<MemRefType>(gate.getType()).getDimSize(1);
        Value act = arenaSlot(b, MemRefType::get({T * weights.getDimSize(1), I}, b.getF32Type()));
        k.moeExperts(buffer(m.getInput()), buffer(m.getWeights()), buffer(m.getExperts()), gate, up, down, act,
                     allocate(b, m.getResult()));
        return success();
      })
      .Default([&](Operation *o) { return o->emitOpError("has no GPU lowering yet"); });
}

struct LowerToGpuPass : impl::LowerToGpuBase<LowerToGpuPass> {
  void runOnOperation() override {
    auto launch = getOperation()->getAttrOfType<GpuLaunchAttr>(kGpuLaunchAttrName);
    if (!launch) {
      getOperation().emitError("q3-lower-to-gpu needs q3.gpu_launch: run q3-choose-gpu-launch first");
      return signalPassFailure();
    }
    const GpuLaunchShapes shapes = GpuLaunchShapes::of(launch);
    if (failed(lowerEntryPoints(getOperation(), getArgument(), [&](ModuleOp m, const WeightPlan &plan, MemRefType table) {
          return std::make_unique<GpuFunctionLowering>(m, plan, table, shapes);
        })))
      signalPassFailure();
  }
};

} // namespace
} // namespace q3
