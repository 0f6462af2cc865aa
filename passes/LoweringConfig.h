//===- LoweringConfig.h - how a product's kernel is generated ---*- C++ -*-===//
//
// Strategy apart from mechanism: q3-choose-lowering-config (the strategy)
// reads the target (#q3.target, TargetInfo.h) and writes a
// #q3.lowering_config on each k16 product; q3-lower-to-loops and
// KernelEmitter (the mechanism) build exactly that kernel and never choose.
// A k16 product without a config is an error. A lit test pins one by hand;
// the mechanism checks that it is legal.
//
//   q3.lowering_config = #q3.lowering_config<tile_rows = 4, tile_blocks = 4,
//       vector_width = 16, prefetch = 64, stage_norm = false, split_blocks = false>
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_PASSES_LOWERINGCONFIG_H
#define QWEN3C_PASSES_LOWERINGCONFIG_H

#include "dialect/Q3Dialect.h"
#include "dialect/Q3Ops.h"
#include "passes/TargetInfo.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Operation.h"

#include <cstdint>
#include <string>

namespace q3 {

// The C++ face of #q3.lowering_config.
struct LinearTiling {
  int64_t rows = 1, blocks = 1; // register tile: input rows x 16-output blocks
  int64_t vectorWidth = 16;     // f32 lanes per vector operation (16: zmm, 8: ymm)
  int64_t prefetch = 0;         // k steps each weight block is prefetched ahead, 0 off
  bool stageNorm = false;       // a folded norm writes normalised rows once (else applied on load)
  bool splitBlocks = false;     // one pass over k per vector of a block (see #q3.lowering_config)
  ProductDot dot = ProductDot::FMA; // the inner step's arithmetic
  int64_t kBlock = 0;           // AMX: k in blocks of this many over all row tiles (0: all of k)
  // Vector accumulators the tile keeps in registers during one pass.
  int64_t accumulators() const { return rows * blocks * (splitBlocks ? 1 : 16 / vectorWidth); }
};

inline constexpr const char *kLoweringConfigAttrName = "q3.lowering_config";
// A q3.moe_experts on k16 expert weights has one config per product: the
// gate/up pair (a gated tile over the two weights) and down.
inline constexpr const char *kGateUpConfigAttrName = "q3.gate_up_config";
inline constexpr const char *kDownConfigAttrName = "q3.down_config";

// What a tile is chosen for: input rows, the block count where each output
// part ends (a tile must not straddle two), and whether blocks come in
// gate/up pairs.
struct ProductShape {
  int64_t rows = 1;
  llvm::SmallVector<int64_t> partEnds;
  bool gated = false;
  bool paired = false; // weights in k16_pairs / k16_gated_pairs
  int64_t depth = 0;    // k: the length of each dot product
  bool quantised = false; // int8 / int4 weights (k16_q8 / k16_q4): a partial sum beside each accumulator
  bool int4 = false;      // k16_q4: half the bytes of int8 per k step
  bool quads = false;     // k16_q8_quads / k16_q4_quads: read by the int8 dot families (or widened for AMX tiles)
};
ProductShape productShape(mlir::Operation *linear);

// Products the configuration applies to: q3.linear and the fused linears,
// on k16-packed weights (#q3.layout<k16> or <k16_gated>).
bool isTiledProduct(mlir::Operation *op);
// A q3.moe_experts whose gate, up and down weights are k16 per expert.
bool hasTiledExperts(mlir::Operation *op);

// The strategy: for `target`, the widest vector the CPU has (16 f32 lanes
// with AVX-512, 8 with AVX2), and the register tile with the most rows (each
// widened weight vector reused per row), then the most accumulators, whose
// accumulators, broadcasts and a weight vector fit its vector registers
// (AVX-512: 4 x 4 = 16 zmm accumulators; AVX2: 4 rows x 1 block = 8 ymm, or
// 4 rows x 2 blocks in split passes for a gated pair);
// one row at decode, each block prefetched 64 k steps ahead (2 KiB of bf16,
// tuned on the 0.6B; 128 steps for int8, the same bytes: +2% / +6% tg128
// at 1 / 2 threads on the 0.6B int8 build, three alternating runs). A folded norm is staged for several rows (prefill):
// applied per k in a compute-bound tile it cost ~20% (0.6B, pp256).
//
// With the prefill family `family` (prefillDot) on paired weights, products
// of several rows get that arithmetic. The AMX families take products of at
// least 16 rows whose k is a multiple of 32: two input tiles (32 rows) when
// there are as many rows, else one, times two weight blocks (a gated pair,
// or two blocks of outputs) when they divide every output part: four f32
// accumulator tiles, all eight tile registers. Fewer rows, and any other k,
// stay f32 FMA: vdpbf16ps was measured at half the f32 FMA peak on the AMX
// host (MLIR22-CPU-NOTES.md, section 6).
//
// Products on quads weights (k16_q8_quads, k16_q4_quads) take the int8 dot family `int8Family`
// (i8 or i8_emulated: int8Dot) at every row count, in 16-lane vectors,
// except that products of AMX size on an AMX family stay AMX (their
// weights widened to bf16 tiles per work item).
//
// Decode (one row) stays f32 FMA, except on paired weights under a bf16 pair
// family with `decodeFamily` (decodeDot): then that family, the folded
// norm staged, and where the target streams without software prefetch
// (TargetInfo::prefetchesStreams) one block per work item. The weights
// stream from memory once, so the step's arithmetic is what binds: one
// vdpbf16ps per 64 bytes against two widenings and a chain of two FMAs,
// and one stream per thread for the prefetchers. Measured on Zen 4 (0.6B
// bf16, tg64, five alternating runs, medians): 18.66 -> 22.65 tokens/s at
// 1 thread (4 blocks: 20.68), 26.18 -> 26.45 at 2 (the bandwidth). The
// activations are then rounded to bf16 in decode as in prefill (and as
// PyTorch and llama.cpp's bf16).
LinearTiling chooseLinearTiling(mlir::Operation *op, const TargetInfo &target, ProductDot family,
                                ProductDot int8Family = ProductDot::I8, bool decodeFamily = true);

// A strategy pass's `decode-dot` option: auto (true: decode takes the bf16
// pair family where prefill has it) or fma (false); anything else sets
// `error`.
bool decodeDot(llvm::StringRef preference, std::string &error);

// The arithmetic of products with several rows (prefill) for a strategy
// pass's `dot` option: auto is amx where the target has AMX-BF16, else
// bf16 where it has AVX512-BF16 (and 8- or 16-lane vectors), else fma;
// amx or bf16 on a target without the instructions is an error (`error`
// set, without the option's name); bf16-emulated and amx-emulated work
// anywhere. Decode follows the bf16 pair families only (chooseLinearTiling).
ProductDot prefillDot(const TargetInfo &target, llvm::StringRef preference, std::string &error);
LinearTiling chooseTiling(const ProductShape &shape, const TargetInfo &target, ProductDot int8Family = ProductDot::I8);

// The arithmetic of int8 weights for a strategy pass's `int8-dot` option:
// auto is i8 where the target has AVX512-VNNI with 512-bit vectors, else
// fma; i8 on a target without it is an error (`error` set); fma keeps the
// int8 / int4 weights k16_q8 / k16_q4, widened to f32 with f32 activations
// (exact against the dequantised weights); i8-emulated works anywhere.
ProductDot int8Dot(const TargetInfo &target, llvm::StringRef preference, std::string &error);
// Whether a q3.moe_experts runs grouped by expert: marked group_by_expert
// and over more than one token (a prompt chunk).
bool runsGroupedByExpert(MoEExpertsOp experts);
// The same for an expert product, whose rows are the tokens that chose the
// expert: T * top_k / num_experts on average when grouped by expert, else 1.
// Grouped (a prompt chunk) on paired weights, the products take a bf16 pair
// family (vdpbf16ps or its emulation) as the chunk's other products do,
// whatever the rows per expert, so that every product of a prompt rounds
// alike; the AMX families leave the experts f32 FMA (vdpbf16ps runs at half
// the FMA peak on the AMX hosts measured). Decode takes the same family
// under `decodeFamily`, as the dense products do (chooseLinearTiling).
std::pair<LinearTiling, LinearTiling> chooseExpertTilings(MoEExpertsOp experts, const TargetInfo &target,
                                                          ProductDot family, ProductDot int8Family = ProductDot::I8,
                                                          bool decodeFamily = true);

// The tiling a k16 product is lowered with: its q3.lowering_config. Sets
// `error` when it has none, or when the pinned configuration is illegal
// (blocks not dividing every output part, odd blocks for a gated weight, a
// vector width other than 4, 8 or 16, more than 28 accumulators; for an
// AMX dot, a k that is not a multiple of 32).
LinearTiling linearTilingOf(mlir::Operation *op, std::string &error);
// (gate/up, down) of a q3.moe_experts with tiled experts.
std::pair<LinearTiling, LinearTiling> expertTilingsOf(MoEExpertsOp experts, std::string &error);
// The config in attribute `name`, checked against `shape`.
LinearTiling tilingOf(mlir::Operation *op, llvm::StringRef name, const ProductShape &shape, std::string &error);

// The strategy's staging rule, also what CostModel counts before any
// config exists: a norm folded into a product over `rows` input rows is
// staged when there are several.
inline bool stagesFoldedNorm(int64_t rows) { return rows > 1; }

LoweringConfigAttr toAttr(mlir::MLIRContext *ctx, const LinearTiling &t);

// The C++ face of #q3.attention_config (q3.attention's `q3.attention_config`).
struct AttentionTiling {
  int64_t headBlock = 1;   // query heads of one KV head per work item
  int64_t scoreBlock = 16; // key positions per score vector (online softmax)
  int64_t queryBlock = 1;  // consecutive query rows per work item (> 1: the query-tiled kernel)
  ProductDot dot = ProductDot::FMA; // amx / amx_emulated: scores and values as tile products
  int64_t kvSplit = 1;     // key ranges per decode work item (flash-decoding), combined after
  int64_t valueBlock = 0;  // key-blocked fma kernel: output elements per row per pass of the value sum
  int64_t queryTiles = 1;  // key-blocked fma kernel: register tiles per work item sharing each key block
  bool prefetchValues = true; // key-blocked fma kernel: ask for the next block's V rows (target.prefetchesStreams())
};

inline constexpr const char *kAttentionConfigAttrName = "q3.attention_config";

// The strategy: the most query heads of a KV head (a divisor of the group)
// whose query rows make at most 24 16-lane vectors (each K/V row is read once
// for all of them; measured to beat fewer heads even where they spill, on
// AVX2), at least one; score blocks of 16. Over a key-blocked cache
// (`keysBlocked`) every row's 16 scores are one accumulator: heads x query
// rows as many as those fit the registers beside a K vector (4 on AVX2, 8
// with AVX-512), the query block a power of two dividing the rows.
// With an AMX product family (`family`: the module's prefill dot, where the
// function's products use it) a prompt
// chunk over a key-blocked bf16 cache takes the AMX kernel instead: all the
// query heads of a KV head, query rows up to 64 in all (a multiple of 16),
// so that each block of keys and values is repacked once for 2-4 row tiles.
// On that kernel the weighted value sum runs in passes of value_block
// output elements, the widest whose accumulators (rows x value_block), V
// vectors and a broadcast fit the registers. A prompt chunk's work item
// runs query_tiles register tiles over each key block, the most (up to
// kMaxAttentionQueryTiles, a power of two dividing the rows) that leave at
// least kAttentionWorkItems work items. With the bf16 pair family
// (vdpbf16ps, or bf16_emulated) a prompt chunk over a key-blocked bf16
// cache takes the same tile with dot = family: both products on bf16
// pairs. Decode (one query row) over a
// key-blocked cache splits the keys into kv_split ranges, the fewest (a
// power of two) that make at least kAttentionWorkItems work items:
// threads beyond the KV heads get work. Over a key-blocked cache the
// next block's V rows are prefetched where the target's hardware
// prefetchers need the help (TargetInfo::prefetchesStreams).
inline constexpr int64_t kAttentionWorkItems = 32;
AttentionTiling chooseAttentionTiling(mlir::Operation *attention, const TargetInfo &target, bool keysBlocked,
                                      ProductDot family = ProductDot::FMA);

// The K cache's layout, a module attribute the strategy sets: positions in
// blocks of 16 ([layers, kv_heads, capacity / 16, D, 16]) when every
// attention has the online softmax and the capacity is a multiple of 16;
// absent, rows ([layers, kv_heads, capacity, D]). The V cache stays rows.
inline constexpr const char *kKeyCacheBlockAttrName = "q3.key_cache_block";
inline constexpr int64_t kKeyCacheBlock = 16;
int64_t chooseKeyCacheBlock(mlir::ModuleOp module); // kKeyCacheBlock or 0
int64_t keyCacheBlockOf(mlir::ModuleOp module);     // the attribute, 0 when absent

// The tiling q3.attention is lowered with: its q3.attention_config. Sets
// `error` when it has none, head_block does not divide the group, or a
// query block does not divide the query rows (that a query block needs the
// key-blocked cache, and that one the online softmax, q3-lower-to-loops
// checks: both are the module's choice, not the op's).
AttentionTiling attentionTilingOf(mlir::Operation *attention, std::string &error);

AttentionConfigAttr toAttr(mlir::MLIRContext *ctx, const AttentionTiling &t);

} // namespace q3

#endif
