//===- LowerToLoops.cpp - q3-lower-to-loops ---------------------------------===//
//
// The CPU's kernel lowering: FunctionLowering assigns the buffers, this file
// turns each q3 op into the scf/vector loop nest its #q3.lowering_config
// describes (KernelEmitter), with the scratch each kernel family needs.
//
//===----------------------------------------------------------------------===//
#include "dialect/Q3Ops.h"
#include "passes/FunctionLowering.h"
#include "passes/KernelEmitter.h"
#include "passes/Passes.h"
#include "passes/WeightPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/TypeSwitch.h"

namespace q3 {
#define GEN_PASS_DEF_LOWERTOLOOPS
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

class CpuFunctionLowering : public FunctionLowering {
public:
  using FunctionLowering::FunctionLowering;

private:
  LogicalResult lowerQ3(Operation &op, OpBuilder &b) override;
  // The int8 dot's scratch for M input rows of K (Int8Rows).
  Int8Rows int8RowsSlots(OpBuilder &b, int64_t M, int64_t K);
  // What a fused linear needs besides its operands (scratch for a folded
  // norm, and for the unfused fallback on row-layout weights).
  FailureOr<LinearFusion> fusion(OpBuilder &b, Operation *op, Value norm, FloatAttr eps);
  Value index(OpBuilder &b, int64_t v) { return FunctionLowering::index(b, v); }
};

Int8Rows CpuFunctionLowering::int8RowsSlots(OpBuilder &b, int64_t M, int64_t K) {
  return {arenaSlot(b, MemRefType::get({M, K}, b.getI8Type())),
          arenaSlot(b, MemRefType::get({M, K / kQ8Group}, b.getF32Type())),
          arenaSlot(b, MemRefType::get({M, K / kQ8Group}, b.getI32Type()))};
}

FailureOr<LinearFusion> CpuFunctionLowering::fusion(OpBuilder &b, Operation *op, Value norm, FloatAttr eps) {
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

LogicalResult CpuFunctionLowering::lowerQ3(Operation &op, OpBuilder &b) {
  KernelEmitter k(b, loc(), module);
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
  if (auto e = elementwiseOf(op)) {
    k.elementwise(e->kind, buffer(e->lhs), e->rhs ? buffer(e->rhs) : Value(), allocate(b, e->result));
    return success();
  }
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
    if (failed(lowerEntryPoints(getOperation(), getArgument(), [](ModuleOp m, const WeightPlan &plan, MemRefType table) {
          return std::make_unique<CpuFunctionLowering>(m, plan, table);
        })))
      signalPassFailure();
  }
};

} // namespace
} // namespace q3
