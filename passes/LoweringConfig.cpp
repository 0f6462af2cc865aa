//===- LoweringConfig.cpp ---------------------------------------------------===//
#include "passes/LoweringConfig.h"
#include "dialect/Q3Ops.h"

#include "mlir/IR/Builders.h"

#include <optional>

using namespace mlir;

namespace q3 {
namespace {

// Of 32 zmm: room left for broadcasts and a weight vector.
constexpr int64_t kMaxAccumulators = 28;

Value weightOf(Operation *op) { return op->getOperand(1); }

bool blocksFit(const ProductShape &shape, int64_t blocks) {
  if (blocks < 1 || (shape.gated && blocks % 2 != 0)) return false;
  for (int64_t e : shape.partEnds)
    if (e % blocks != 0) return false;
  return true;
}

// What the weight's q3.layout says of the product: paired, int8 or int4.
void setWeightFormat(Value weight, ProductShape &s) {
  Operation *w = weight.getDefiningOp();
  auto layout = w ? w->getAttrOfType<WeightLayoutAttr>("q3.layout") : WeightLayoutAttr();
  if (!layout) return;
  s.paired = isPairedLayout(layout.getValue());
  s.quantised = isQuantisedLayout(layout.getValue());
  s.int4 = isQ4Layout(layout.getValue());
  s.quads = isQuadLayout(layout.getValue());
}

// The fewest blocks a work item of `shape` can have: 1, or 2 for a gated pair.
int64_t fewestBlocks(const ProductShape &shape) {
  for (int64_t blocks : {1, 2})
    if (blocksFit(shape, blocks)) return blocks;
  return 0;
}

// A streaming tile (each weight block read from memory once) whose step is
// one dot instruction per 64 bytes (vpdpbusd on quads, vdpbf16ps on pairs),
// where the hardware prefetchers stream alone (Zen 4): the fewest blocks a
// work item, so each thread reads one weight stream (a block's quads and
// scales, or its pairs), which those prefetchers follow better than four.
// Measured on Zen 4 (0.6B, tg64, 4-5 alternating runs, medians, tokens/s at
// 1 / 2 threads): int8 (int8 LM head) 23.5 -> 30.1 and 36.6 -> 43.1; int4
// 35.2 -> 43.2 and 52.5 -> 59.9; the bf16 decode dot 20.7 (4 blocks) -> 22.7
// at 1 thread. f32 FMA keeps its blocks: one block's chain of FMAs measured
// slower.
void streamOneBlock(const ProductShape &shape, const TargetInfo &target, LinearTiling &t) {
  if (!target.prefetchesStreams() && fewestBlocks(shape)) t.blocks = fewestBlocks(shape);
}

// Decode (one row) on paired weights under a bf16 pair family: that family,
// the folded norm staged (the kernel reads the rounded, normalised row),
// one weight stream a work item where the target wants it.
void onePairedRow(const ProductShape &shape, const TargetInfo &target, ProductDot family, LinearTiling &t) {
  if (!shape.paired || !isBF16Dot(family)) return;
  t.dot = family;
  t.stageNorm = true;
  streamOneBlock(shape, target, t);
}

// A q3.moe_experts' gate/up (true) or down product.
ProductShape expertProductShape(MoEExpertsOp m, bool gateUp) {
  auto x = m.getInput().getType(), gate = llvm::cast<RankedTensorType>(m.getGate().getType());
  int64_t T = x.getDimSize(0), H = x.getDimSize(1), E = gate.getDimSize(0), I = gate.getDimSize(1);
  int64_t topK = llvm::cast<RankedTensorType>(m.getExperts().getType()).getDimSize(1);
  ProductShape s;
  // Grouped by expert, an expert sees T * top_k / E rows on average;
  // otherwise one token at a time.
  s.rows = runsGroupedByExpert(m) ? std::max<int64_t>(1, T * topK / E) : 1;
  s.gated = gateUp;
  s.partEnds = {gateUp ? 2 * I / 16 : H / 16};
  s.depth = gateUp ? H : I;
  setWeightFormat(gateUp ? m.getGate() : m.getDown(), s);
  return s;
}

} // namespace

bool runsGroupedByExpert(MoEExpertsOp m) { return m.getGroupByExpert() && m.getInput().getType().getDimSize(0) > 1; }

ProductShape productShape(Operation *op) {
  ProductShape s;
  auto x = llvm::cast<RankedTensorType>(op->getOperand(0).getType());
  s.rows = x.getNumElements() / x.getShape().back();
  s.gated = llvm::isa<LinearSwiGLUOp>(op);
  s.depth = x.getShape().back();
  setWeightFormat(weightOf(op), s);
  int64_t rows = 0;
  for (Value r : op->getResults()) {
    rows += llvm::cast<RankedTensorType>(r.getType()).getShape().back() * (s.gated ? 2 : 1);
    s.partEnds.push_back(rows / 16);
  }
  return s;
}

bool hasTiledExperts(Operation *op) {
  auto m = llvm::dyn_cast<MoEExpertsOp>(op);
  if (!m) return false;
  return llvm::all_of(ValueRange{m.getGate(), m.getUp(), m.getDown()}, [](Value w) {
    Operation *def = w.getDefiningOp();
    return def && def->getAttrOfType<WeightLayoutAttr>("q3.layout");
  });
}

bool isTiledProduct(Operation *op) {
  if (!llvm::isa<LinearOp, LinearResidualOp, LinearSplitOp, LinearSwiGLUOp>(op)) return false;
  Operation *w = weightOf(op).getDefiningOp();
  return w && w->getAttrOfType<WeightLayoutAttr>("q3.layout");
}

LinearTiling chooseLinearTiling(Operation *op, const TargetInfo &target, ProductDot family, ProductDot int8Family,
                                bool decodeFamily) {
  ProductShape shape = productShape(op);
  LinearTiling t = chooseTiling(shape, target, int8Family);
  if (shape.rows == 1) {
    if (decodeFamily) onePairedRow(shape, target, family, t);
    return t; // else exact f32 (or the int8 dot on int8 quads)
  }
  if (!isAMXDot(family)) {
    if (shape.paired) t.dot = family;
    return t;
  }
  // int8 / int4 weights too: the AMX kernel widens each work item's blocks
  // to bf16 tiles, amortised over the chunk's rows.
  if (!(shape.paired || shape.quantised) || shape.rows < 16 || shape.depth % kAMXTileDepth != 0) return t;
  LinearTiling amx;
  amx.dot = family;
  amx.rows = shape.rows >= 32 ? 32 : 16;
  amx.blocks = blocksFit(shape, 2) ? 2 : 1;
  amx.vectorWidth = t.vectorWidth; // the epilogue's
  amx.stageNorm = true;            // tiles load the rounded, normalised rows
  // k in 2 to 4 blocks of 256: a block's weight tiles (2 x 16 KiB) then
  // stay in L1 for all the row tiles, where a whole k of 1024 (64 KiB) came
  // from L2 for each. Measured on the Intel AMX host (qwen3c-kernel-bench,
  // alternating with the unblocked kernel): the 0.6B's q_proj and gate_proj
  // at 512 rows +10%, at 64 rows +0-5%; down_proj (k = 3072, 12 blocks, the
  // accumulators' round trips through memory growing with the blocks) -4%,
  // so a deeper k stays whole.
  if (shape.depth > kAMXKBlock && shape.depth <= 4 * kAMXKBlock && shape.depth % kAMXKBlock == 0)
    amx.kBlock = kAMXKBlock;
  return amx;
}

LinearTiling chooseTiling(const ProductShape &shape, const TargetInfo &target, ProductDot int8Family) {
  LinearTiling t;
  t.vectorWidth = std::clamp<int64_t>(target.f32Lanes(), 4, 16);
  // Quads are read 16 outputs' 4 k at a time (64 bytes): by vpdpbusd or its
  // emulation a block is one 16-lane vector even on a narrower target; by
  // AVX2's i8_madd two 256-bit halves.
  if (shape.quads) {
    t.dot = isI8Dot(int8Family) ? int8Family : ProductDot::I8Emulated;
    t.vectorWidth = i8DotVectorWidth(t.dot);
  }
  const int64_t perBlock = 16 / t.vectorWidth, registers = target.vectorRegisters;
  const int64_t M = shape.rows;
  t.stageNorm = stagesFoldedNorm(M);
  // The tile with the most rows (each weight vector, widened from bf16 at
  // some cost, is reused per row), then the most accumulators, that fits:
  // accumulators + one broadcast per row + a weight vector within the
  // register file. A block's vectors all at once first; in split passes
  // (fewer accumulators, the block's weights read once per pass) only if
  // that fits more rows.
  // Nothing fits only when no block count divides the output parts; the
  // lowering then refuses the default one-row, one-block tile by name.
  int64_t bestRows = 0, best = 0;
  for (int64_t rows : {4, 2, 1}) {
    if (rows > 1 && M < rows) continue;
    for (bool split : {false, true}) {
      if (split && perBlock == 1) continue;
      for (int64_t blocks : {4, 2, 1}) {
        if (!blocksFit(shape, blocks)) continue;
        int64_t acc = rows * blocks * (split ? 1 : perBlock);
        // int8 weights keep a group's partial sum beside each accumulator
        // (the int8 dot: an i32 one, and each block's unsigned bytes).
        int64_t live = shape.quantised ? 2 * acc + (shape.quads ? blocks : 0) : acc;
        if (live + rows + 1 > registers || live > kMaxAccumulators) continue;
        if (rows < bestRows || (rows == bestRows && acc <= best)) continue;
        bestRows = rows;
        best = acc;
        t.rows = rows;
        t.blocks = blocks;
        t.splitBlocks = split;
      }
    }
  }
  // When one row tile covers every row (decode, and @decode_batch's few
  // rows) each weight block streams from memory once: ask for it 64 k steps
  // (2 KiB of bf16) ahead (+~10% tokens/s on the 0.6B), on the CPUs whose
  // streams gain from it; larger prefill chunks reuse blocks from cache.
  // int8 blocks are half the bytes per k step: the same 2 KiB is 128 steps;
  // int4, 256.
  const bool streams = M <= std::max<int64_t>(t.rows, 1);
  t.prefetch = streams && target.prefetchesStreams() ? (shape.int4 ? 256 : shape.quantised ? 128 : 64) : 0;
  if (streams && shape.quads) streamOneBlock(shape, target, t); // the int8 dot's one stream (Zen 4)
  return t;
}

LinearTiling linearTilingOf(Operation *op, std::string &error) {
  if (!op->hasAttr(kLoweringConfigAttrName) && !isTiledProduct(op)) return LinearTiling();
  return tilingOf(op, kLoweringConfigAttrName, productShape(op), error);
}

std::pair<LinearTiling, LinearTiling> expertTilingsOf(MoEExpertsOp m, std::string &error) {
  LinearTiling gateUp = tilingOf(m, kGateUpConfigAttrName, expertProductShape(m, true), error);
  if (!error.empty()) return {gateUp, gateUp};
  return {gateUp, tilingOf(m, kDownConfigAttrName, expertProductShape(m, false), error)};
}

std::pair<LinearTiling, LinearTiling> chooseExpertTilings(MoEExpertsOp m, const TargetInfo &target, ProductDot family,
                                                          ProductDot int8Family, bool decodeFamily) {
  const bool chunk = runsGroupedByExpert(m);
  auto choose = [&](bool gateUp) {
    ProductShape shape = expertProductShape(m, gateUp);
    LinearTiling t = chooseTiling(shape, target, int8Family);
    if (chunk && shape.paired && isBF16Dot(family)) t.dot = family;
    else if (!chunk && decodeFamily) onePairedRow(shape, target, family, t);
    return t;
  };
  return {choose(true), choose(false)};
}

LinearTiling tilingOf(Operation *op, llvm::StringRef name, const ProductShape &shape, std::string &error) {
  LinearTiling t;
  auto attr = op->getAttrOfType<LoweringConfigAttr>(name);
  if (!attr) {
    error = op->hasAttr(name) ? name.str() + " must be a #q3.lowering_config<...>"
                              : "has no " + name.str() + " (run q3-choose-lowering-config: the lowering does not choose)";
    return t;
  }
  t.dot = attr.getDot();
  if (isI8Dot(t.dot) != shape.quads && !(isAMXDot(t.dot) && shape.quads)) {
    error = name.str() + (shape.quads ? ": quads weights (k16_q8_quads, k16_q4_quads) need dot = i8, i8_emulated, amx or amx_emulated"
                                      : ": dot = " + stringifyProductDot(t.dot).str() + " needs quads weights (k16_q8_quads, k16_q4_quads)");
    return t;
  }
  if (isI8Dot(t.dot) && attr.getVectorWidth() != i8DotVectorWidth(t.dot)) {
    error = name.str() + ": dot = " + stringifyProductDot(t.dot).str() +
            (t.dot == ProductDot::I8Madd ? " needs vector_width = 8 (a block's two 256-bit halves)"
                                         : " needs vector_width = 16 (a block's 16 lanes)");
    return t;
  }
  if (t.dot != ProductDot::FMA && !isI8Dot(t.dot) && !shape.paired && !(isAMXDot(t.dot) && shape.quantised)) {
    error = name.str() + ": dot = " + stringifyProductDot(t.dot).str() + " needs k16_pairs weights" +
            (isAMXDot(t.dot) ? " (or k16_q8 / k16_q4)" : "");
    return t;
  }
  t.rows = attr.getTileRows();
  t.blocks = attr.getTileBlocks();
  t.vectorWidth = attr.getVectorWidth();
  t.prefetch = attr.getPrefetch();
  t.stageNorm = attr.getStageNorm().getValue();
  t.splitBlocks = attr.getSplitBlocks().getValue();
  t.kBlock = attr.getKBlock();
  if (!blocksFit(shape, t.blocks))
    error = name.str() + ": tile_blocks = " + std::to_string(t.blocks) +
            " does not divide every output part into whole 16-row blocks" +
            (shape.gated ? " (and must be even for a gated weight)" : "");
  else if (isAMXDot(t.dot) && shape.depth % kAMXTileDepth != 0)
    error = name.str() + ": dot = " + stringifyProductDot(t.dot).str() + " needs k a multiple of " +
            std::to_string(kAMXTileDepth) + ", got " + std::to_string(shape.depth);
  else if (t.kBlock != 0 && shape.depth % t.kBlock != 0)
    error = name.str() + ": k_block = " + std::to_string(t.kBlock) + " does not divide k = " + std::to_string(shape.depth);
  else if (!isAMXDot(t.dot) && t.accumulators() * (shape.quantised ? 2 : 1) + (shape.quads ? t.blocks : 0) > kMaxAccumulators)
    error = name.str() + ": a " + std::to_string(t.rows) + " x " + std::to_string(t.blocks) + " tile of " +
            std::to_string(t.vectorWidth) + "-lane vectors needs more than " + std::to_string(kMaxAccumulators) +
            " accumulator registers";
  return t;
}

namespace {

// (query heads per KV head, f32 row vectors of 16 lanes per head row).
std::pair<int64_t, int64_t> attentionShape(Operation *op) {
  auto q = llvm::cast<RankedTensorType>(op->getOperand(0).getType());
  auto k = llvm::cast<RankedTensorType>(op->getOperand(1).getType());
  int64_t D = q.getDimSize(2);
  return {q.getDimSize(1) / k.getDimSize(1), std::max<int64_t>(1, D / 16)};
}

// The AMX attention tiling of `op`, when it has one: a prompt chunk (16 or
// more query rows) of a bf16 cache, head dim a multiple of 32.
std::optional<AttentionTiling> amxAttentionTiling(AttentionOp op, int64_t G, ProductDot family) {
  auto q = llvm::cast<RankedTensorType>(op.getQuery().getType());
  auto k = llvm::cast<RankedTensorType>(op.getKeys().getType());
  auto v = llvm::cast<RankedTensorType>(op.getValues().getType());
  const int64_t T = q.getDimSize(0), D = q.getDimSize(2);
  if (!isAMXDot(family) || T < 16 || D % kAMXTileDepth != 0 || !k.getElementType().isBF16() ||
      !v.getElementType().isBF16())
    return std::nullopt;
  AttentionTiling t;
  t.dot = family;
  t.scoreBlock = kKeyCacheBlock;
  t.headBlock = G;
  while (t.headBlock > 1 && t.headBlock > kMaxAMXAttentionRows / 16) --t.headBlock;
  while (G % t.headBlock != 0) --t.headBlock;
  // The most rows (power-of-two query blocks dividing T) up to the limit.
  std::optional<AttentionTiling> best;
  for (int64_t r = 1; r <= T && t.headBlock * r <= kMaxAMXAttentionRows; r *= 2)
    if (T % r == 0 && (t.headBlock * r) % 16 == 0) {
      t.queryBlock = r;
      best = t;
    }
  return best;
}

} // namespace

AttentionTiling chooseAttentionTiling(Operation *op, const TargetInfo &target, bool keysBlocked, ProductDot family) {
  AttentionTiling t;
  auto [G, rowVectors] = attentionShape(op);
  if (keysBlocked)
    if (auto amx = amxAttentionTiling(llvm::cast<AttentionOp>(op), G, family)) return *amx;
  if (keysBlocked) {
    // One 16-lane score accumulator per tile row, 512 / vector_bits
    // registers each; four registers stay for the K vector and broadcasts.
    int64_t T = llvm::cast<RankedTensorType>(llvm::cast<AttentionOp>(op).getQuery().getType()).getDimSize(0);
    int64_t perRow = std::max<int64_t>(1, 512 / target.vectorBits);
    int64_t maxRows = std::min(kMaxAttentionTileRows, (target.vectorRegisters - 4) / perRow);
    for (int64_t c = 1; c <= std::min(G, maxRows); ++c)
      if (G % c == 0) t.headBlock = c;
    while (T % (2 * t.queryBlock) == 0 && t.headBlock * 2 * t.queryBlock <= maxRows) t.queryBlock *= 2;
    t.scoreBlock = kKeyCacheBlock;
    // The weighted value sum runs in passes over the head dim, each V
    // vector widened once for all rows: the widest pass (a multiple of
    // one register's lanes dividing D) whose rows x pass accumulators, its
    // V vectors and a broadcast fit the registers (AVX2: 4 rows x 16 lanes
    // = 8 ymm + 2; 2 rows (decode) x 32; measured 1.3-1.5x / 1.25-1.3x
    // faster than one row at a time through a widened V scratch, Zen 3).
    const int64_t D = llvm::cast<RankedTensorType>(llvm::cast<AttentionOp>(op).getQuery().getType()).getDimSize(2);
    const int64_t lanes = target.vectorBits / 32, rows = t.headBlock * t.queryBlock;
    int64_t unit = 1;
    for (int64_t w : {16, 8, 4, 2})
      if (w <= lanes && D % w == 0) {
        unit = w;
        break;
      }
    t.valueBlock = unit;
    for (int64_t c = 2; c * unit <= D; ++c)
      if (D % (c * unit) == 0 && (rows + 1) * c + 2 <= target.vectorRegisters) t.valueBlock = c * unit;
    // A prompt: register tiles per work item (each key block read once
    // for all of them), the most (a power of two dividing the rows) that
    // leave at least kAttentionWorkItems items for the threads.
    auto keys = llvm::cast<RankedTensorType>(llvm::cast<AttentionOp>(op).getKeys().getType());
    const int64_t items = keys.getDimSize(1) * (G / t.headBlock); // work items of one query row
    while (T > 1 && 2 * t.queryTiles <= kMaxAttentionQueryTiles && T % (2 * t.queryTiles * t.queryBlock) == 0 &&
           items * (T / (2 * t.queryTiles * t.queryBlock)) >= kAttentionWorkItems)
      t.queryTiles *= 2;
    // A prompt chunk over a bf16 cache with the bf16 pair family: both
    // products as vdpbf16ps on the same tile (queries and weights rounded
    // to bf16, as the AMX kernel); decode, bound by the cache's bytes, stays
    // exact f32.
    auto values = llvm::cast<RankedTensorType>(llvm::cast<AttentionOp>(op).getValues().getType());
    if (isBF16Dot(family) && T > 1 && D % 2 == 0 && keys.getElementType().isBF16() && values.getElementType().isBF16())
      t.dot = family;
    // Measured on Zen 4 (0.6B decode after 4096 positions, 1 thread,
    // alternating builds): 11.05 / 11.59 tokens/s with the V prefetch, 13.96
    // / 14.18 without (session 18); 9.16 / 10.61 against 9.99 / 12.68
    // (session 19, where 2 threads were within the noise both ways).
    t.prefetchValues = target.prefetchesStreams();
    if (T == 1) {
      const int64_t blocks = keys.getDimSize(2) / kKeyCacheBlock;
      while (items * t.kvSplit < kAttentionWorkItems && 2 * t.kvSplit <= std::min(blocks, kMaxAttentionKVSplit))
        t.kvSplit *= 2;
    }
    return t;
  }
  // Up to 24 16-lane query row vectors per item, on every target so far:
  // on AVX2 (16 ymm) one 0.6B head per item fits the registers but ran
  // 3.6 ms at 4096 positions against 2.3 ms for two heads that spill, since
  // each K/V row is then read once for both (qwen3c-kernel-bench, Zen 3).
  for (int64_t c = 1; c <= G; ++c)
    if (G % c == 0 && c * rowVectors <= 24) t.headBlock = c;
  return t;
}

int64_t chooseKeyCacheBlock(ModuleOp module) {
  bool blocked = true, any = false;
  module.walk([&](AttentionOp a) {
    any = true;
    auto keys = llvm::cast<RankedTensorType>(a.getKeys().getType());
    blocked &= a.getOnlineSoftmax() && keys.getDimSize(2) % kKeyCacheBlock == 0;
  });
  return any && blocked ? kKeyCacheBlock : 0;
}

int64_t keyCacheBlockOf(ModuleOp module) {
  auto attr = module->getAttrOfType<IntegerAttr>(kKeyCacheBlockAttrName);
  return attr ? attr.getInt() : 0;
}

AttentionTiling attentionTilingOf(Operation *op, std::string &error) {
  AttentionTiling t;
  auto attr = op->getAttrOfType<AttentionConfigAttr>(kAttentionConfigAttrName);
  if (!attr) {
    error = op->hasAttr(kAttentionConfigAttrName)
                ? "q3.attention_config must be a #q3.attention_config<...>"
                : "has no q3.attention_config (run q3-choose-lowering-config: the lowering does not choose)";
    return t;
  }
  t.headBlock = attr.getHeadBlock();
  t.scoreBlock = attr.getScoreBlock();
  t.queryBlock = attr.getQueryBlock();
  t.dot = attr.getDot();
  t.kvSplit = attr.getKvSplit();
  t.valueBlock = attr.getValueBlock();
  t.queryTiles = attr.getQueryTiles();
  t.prefetchValues = attr.getPrefetchValues();
  int64_t G = attentionShape(op).first;
  int64_t T = llvm::cast<RankedTensorType>(llvm::cast<AttentionOp>(op).getQuery().getType()).getDimSize(0);
  if (G % t.headBlock != 0)
    error = "q3.attention_config: head_block = " + std::to_string(t.headBlock) + " does not divide the " +
            std::to_string(G) + " query heads of a KV head";
  else if (t.queryBlock > 1 && T % t.queryBlock != 0)
    error = "q3.attention_config: query_block = " + std::to_string(t.queryBlock) + " does not divide the " +
            std::to_string(T) + " query rows";
  else if (t.queryTiles > 1 && T % (t.queryBlock * t.queryTiles) != 0)
    error = "q3.attention_config: query_block * query_tiles = " + std::to_string(t.queryBlock * t.queryTiles) +
            " does not divide the " + std::to_string(T) + " query rows";
  else if (t.kvSplit > 1 && T != 1)
    error = "q3.attention_config: kv_split = " + std::to_string(t.kvSplit) + " is for one query row (decode), got " +
            std::to_string(T);
  else if (const int64_t D = llvm::cast<RankedTensorType>(op->getOperand(0).getType()).getDimSize(2);
           t.valueBlock > 0 && D % t.valueBlock != 0)
    error = "q3.attention_config: value_block = " + std::to_string(t.valueBlock) + " does not divide the head dim " +
            std::to_string(D);
  else if (isAMXDot(t.dot) && t.queryBlock > T)
    error = "q3.attention_config: dot = " + stringifyProductDot(t.dot).str() + " needs " +
            std::to_string(t.queryBlock) + " query rows, got " + std::to_string(T);
  return t;
}

AttentionConfigAttr toAttr(MLIRContext *ctx, const AttentionTiling &t) {
  return AttentionConfigAttr::get(ctx, t.headBlock, t.scoreBlock, t.queryBlock, t.dot, t.kvSplit, t.valueBlock,
                                  t.queryTiles, t.prefetchValues);
}

LoweringConfigAttr toAttr(MLIRContext *ctx, const LinearTiling &t) {
  return LoweringConfigAttr::get(ctx, t.rows, t.blocks, t.vectorWidth, t.prefetch, BoolAttr::get(ctx, t.stageNorm),
                                 BoolAttr::get(ctx, t.splitBlocks), t.dot, t.kBlock);
}

bool decodeDot(llvm::StringRef preference, std::string &error) {
  if (preference == "auto") return true;
  if (preference == "fma") return false;
  error = "'" + preference.str() + "' is not auto or fma";
  return false;
}

ProductDot prefillDot(const TargetInfo &target, llvm::StringRef preference, std::string &error) {
  bool hasDot = target.has("avx512bf16") && target.f32Lanes() >= 8;
  bool hasAMX = target.has("amx-tile") && target.has("amx-bf16");
  if (preference == "auto") return hasAMX ? ProductDot::AMX : hasDot ? ProductDot::BF16 : ProductDot::FMA;
  if (preference == "fma") return ProductDot::FMA;
  if (preference == "bf16-emulated") return ProductDot::BF16Emulated;
  if (preference == "amx-emulated") return ProductDot::AMXEmulated;
  if (preference == "bf16") {
    if (!hasDot)
      error = "target " + target.cpu + " has no AVX512-BF16 (add the feature +avx512bf16, or use bf16-emulated "
              "for the same arithmetic by FMAs)";
    return ProductDot::BF16;
  }
  if (preference == "amx") {
    if (!hasAMX)
      error = "target " + target.cpu + " has no AMX-BF16 tiles (add the features +amx-tile,+amx-bf16, or use "
              "amx-emulated for the same tile loops by FMAs)";
    return ProductDot::AMX;
  }
  error = "'" + preference.str() + "' is not auto, fma, bf16, bf16-emulated, amx or amx-emulated";
  return ProductDot::FMA;
}

ProductDot int8Dot(const TargetInfo &target, llvm::StringRef preference, std::string &error) {
  bool hasVNNI = target.has("avx512vnni") && target.has("avx512bw") && target.f32Lanes() >= 16;
  bool hasAVX2 = target.has("avx2");
  // auto takes i8_madd only on 256-bit targets, where it was measured
  // (1.5-1.7x the fma family's prompts on Zen 3); an AVX-512 target
  // without VNNI keeps the 16-lane f32 tile.
  if (preference == "auto")
    return hasVNNI ? ProductDot::I8 : hasAVX2 && target.f32Lanes() <= 8 ? ProductDot::I8Madd : ProductDot::FMA;
  if (preference == "fma") return ProductDot::FMA;
  if (preference == "i8-emulated") return ProductDot::I8Emulated;
  if (preference == "i8") {
    if (!hasVNNI)
      error = "target " + target.cpu + " has no AVX512-VNNI with 512-bit vectors (add the features "
              "+avx512vnni,+avx512bw, or use i8-madd on AVX2, or i8-emulated for the same arithmetic in plain vector ops)";
    return ProductDot::I8;
  }
  if (preference == "i8-madd") {
    if (!hasAVX2)
      error = "target " + target.cpu + " has no AVX2 (add the feature +avx2, or use i8-emulated for the same "
              "arithmetic in plain vector ops)";
    return ProductDot::I8Madd;
  }
  error = "'" + preference.str() + "' is not auto, fma, i8, i8-madd or i8-emulated";
  return ProductDot::FMA;
}

} // namespace q3
