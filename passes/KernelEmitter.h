//===- KernelEmitter.h - q3 ops as loop nests on memrefs --------*- C++ -*-===//
//
// Builds, with MLIR's own builders, the loops that compute each q3 op:
// scf.for nests over vector<VWxf32> registers (VW = 16 for AVX-512 when the
// innermost size allows, narrower otherwise), bf16/f16 operands widened in
// registers, f32 accumulation. Products are register tiles whose shape the
// q3.lowering_config gives (linearK16: f32 FMA, the bf16 pair dot, int8
// weights widened in registers; AMXProduct.cpp: AMX-BF16 tiles), parallel
// loops are scf.parallel (OpenMP regions the runtime's pool runs as slices).
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_PASSES_KERNELEMITTER_H
#define QWEN3C_PASSES_KERNELEMITTER_H

#include "passes/LoweringConfig.h"
#include "passes/TargetInfo.h"

#include "passes/FunctionLowering.h" // ElementwiseKind

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <functional>

namespace q3 {

// The int8 dot's input rows (k16_q8_quads / k16_q4_quads weights): [M, K]
// i8 scratch for the rows quantised per group of 32 k, their [M, K / 32]
// f32 scales and i32 sums of q (times the unsigned weights' offset, what
// they add to a group's dot).
struct Int8Rows {
  mlir::Value values, scales, sums;
};

// An int8 KV cache row's f32 scale, stored after its head_dim bytes
// (QuantisedCache.cpp): the memref of an i8 cache has rows of D + 4.
inline constexpr int64_t kCacheScaleBytes = 4;

// What a fused linear adds to y = x * W^T (see the q3.linear_* ops).
struct LinearFusion {
  mlir::Value norm;           // [K]: normalise input rows on load (RMSNorm)
  double eps = 0;
  mlir::Value invRms;         // [M] f32 scratch: the norm prologue's 1/rms per row
  mlir::Value residual;       // added in the epilogue
  bool gated = false;         // out = silu(gate half) * up half
  llvm::SmallVector<mlir::Value> outs; // one output, or one per split part
  // Scratch: the normalised input rows (row-layout weights, or a k16 tile
  // with several rows), and the full product for the unfused fallback of
  // row-layout weights (no k16 tile to fuse into).
  mlir::Value product, normalised;
  LinearTiling tiling; // k16 weights: the q3.lowering_config (see LoweringConfig.h)
  // Expert products (q3.moe_experts on k16 expert weights): the weights are
  // Wp[e][n / 16][k][n % 16] and `expert` (index) picks one; a gated pair
  // may come from two weights, gate in the main one and `up` (the pair's
  // blocks 2j and 2j + 1 are gate block j and up block j). `rowCount`
  // (index) is the number of input rows instead of all of them; input row m
  // reads x[inRows[m]], and output row m adds outScale[m] * value to
  // out[outRows[m]] (i32 / f32 memrefs).
  mlir::Value expert, up, rowCount, inRows, outRows, outScale;
  // [M, K] bf16 scratch: the activations rounded for a bf16 dot family.
  mlir::Value rounded;
  // int8 / int4 weights (k16_q8 / k16_q4): Ws[n / 16][k / 32][n % 16] f16,
  // one scale per output and group of 32 k; the weight operand is then
  // Wq[n / 16][k][n % 16] i8 (int4: see below).
  mlir::Value scales;
  // A gated pair from two weights (`up`): the up weight's scales.
  mlir::Value upScales;
  // The int8 dot families: the quantised input rows' scratch.
  Int8Rows int8Rows;
  // int4 (k16_q4): the weight operand is Wq[n / 16][k / 2][n % 16] bytes,
  // k even in the low nibble, each value q - 8 for q in [0, 16).
  bool int4 = false;
};

// Quantised expert weights (k16_q8 / k16_q4 per expert): each weight's
// Ws[e][n / 16][k / 32][n % 16] f16 view, or null for a bf16 / f32 one.
struct ExpertScales {
  mlir::Value gate, up, down;
  bool gateUpInt4 = false, downInt4 = false;
  // The int8 dot's scratch for the gate/up product's input rows ([T, H])
  // and the down product's ([T, I]), where their configs have an int8 dot.
  Int8Rows inputRows, actRows;
  // The same rows rounded to bf16 ([T, H] and [T, I] bf16), where their
  // configs have a bf16 pair dot.
  mlir::Value inputRounded, actRounded;
};

class KernelEmitter {
public:
  KernelEmitter(mlir::OpBuilder &b, mlir::Location loc, mlir::ModuleOp module)
      : b(b), loc(loc), module(module) {}

  // Each writes its result into `out` (memrefs with identity layout).
  // `scales`: the table is k16_q8 (Wq i8 and Ws f16 views), rows dequantised;
  // with `int4`, k16_q4 (nibbles).
  void embedding(mlir::Value table, mlir::Value ids, mlir::Value out, mlir::Value scales = {}, bool int4 = false);
  void rmsNorm(mlir::Value x, mlir::Value w, double eps, mlir::Value out);
  // Row-layout weights (k16 products go through fusedLinear's tile).
  void linear(mlir::Value x, mlir::Value w, mlir::Value out);
  void fusedLinear(mlir::Value x, mlir::Value w, const LinearFusion &f);
  void rope(mlir::Value x, mlir::Value offset, const RopeSpec &spec, bool splitHalves, mlir::Value out);
  // QK-norm then RoPE; rows go to `out`, or into cache[layer] at offset + t
  // when `cache` is given. `table` is [2, head_dim / 2] f32 scratch, and
  // `row` [head_dim] f32 scratch where an int8 cache needs the whole row
  // before it can store one byte (its scale is the row's max|x|).
  void normRope(mlir::Value x, mlir::Value norm, double eps, mlir::Value offset, const RopeSpec &spec,
                bool splitHalves, mlir::Value table, mlir::Value out, mlir::Value cache, mlir::Value layer,
                mlir::Value row = {});
  void kvWrite(mlir::Value value, mlir::Value cache, mlir::Value layer, mlir::Value offset);
  // `scores` null: online softmax (one pass, running maximum and sum); a
  // rank-5 (key-blocked) `k` goes to attentionBlockedKeys (`partials`: its
  // scratch for a kv_split).
  void attention(mlir::Value q, mlir::Value k, mlir::Value v, mlir::Value layer,
                 mlir::Value offset, double scale, mlir::Value scores, mlir::Value out,
                 const AttentionTiling &tiling, mlir::Value partials = {});
  using Elementwise = ElementwiseKind;
  void elementwise(Elementwise kind, mlir::Value lhs, mlir::Value rhs, mlir::Value out);
  void moeRouter(mlir::Value logits, int64_t topK, bool normalise, mlir::Value probs,
                 mlir::Value weights, mlir::Value experts);
  void moeExperts(mlir::Value x, mlir::Value weights, mlir::Value experts, mlir::Value gate,
                  mlir::Value up, mlir::Value down, mlir::Value act, mlir::Value out);
  // Expert weights in k16 tiles (`gateUp` and `down` tilings): per token and
  // selection (`grouped` false; decode) or per expert over the tokens that
  // chose it (`grouped`), the expert's SwiGLU FFN as two register-tiled
  // products, the second adding each row, scaled by its router weight, into
  // its token's output row. `tokens` [T] i32, `sel` [T] f32 and `act`
  // [T, I] f32 are scratch.
  void moeExpertsTiled(mlir::Value x, mlir::Value weights, mlir::Value experts, mlir::Value gate,
                       mlir::Value up, mlir::Value down, mlir::Value tokens, mlir::Value sel, mlir::Value act,
                       mlir::Value out, bool grouped, const LinearTiling &gateUp, const LinearTiling &downTiling,
                       const ExpertScales &scales = {});
  // The same by expert: per expert, the tokens that chose it (`tokens` [T]
  // i32 and `sel` [T] f32 scratch) share each weight row; `act` is [T, I].
  void moeExpertsGrouped(mlir::Value x, mlir::Value weights, mlir::Value experts, mlir::Value gate,
                         mlir::Value up, mlir::Value down, mlir::Value tokens, mlir::Value sel,
                         mlir::Value act, mlir::Value out);
  void argmax(mlir::Value x, mlir::Value out);

  // Whether `cache` (a memref) is an int8 cache (QuantisedCache.cpp).
  bool isQuantisedCache(mlir::Value cache);

private:
  using Body = std::function<void(mlir::Value)>;
  using AccBody = std::function<llvm::SmallVector<mlir::Value>(mlir::Value, mlir::ValueRange)>;

  mlir::Value idx(int64_t v);
  mlir::Value f32(double v);
  mlir::Value zeros(int64_t width);
  void loop(mlir::Value lb, mlir::Value ub, int64_t step, const Body &body);
  void loop(int64_t lb, int64_t ub, int64_t step, const Body &body);
  // An scf.parallel: iterations split over the runtime's threads.
  void parallelLoop(int64_t lb, int64_t ub, int64_t step, const Body &body);
  llvm::SmallVector<mlir::Value> loopAcc(mlir::Value lb, mlir::Value ub, int64_t step,
                                         mlir::ValueRange init, const AccBody &body);
  mlir::Value loadVec(mlir::Value mem, mlir::ValueRange indices, int64_t width);
  void storeVec(mlir::Value vec, mlir::Value mem, mlir::ValueRange indices);
  mlir::Value loadScalar(mlir::Value mem, mlir::ValueRange indices);
  void storeScalar(mlir::Value v, mlir::Value mem, mlir::ValueRange indices);
  // sum_k a[aPrefix..., k] * b[bPrefix..., k] over k < K.
  mlir::Value dot(mlir::Value a, mlir::ValueRange aPrefix, mlir::Value bm, mlir::ValueRange bPrefix,
                  int64_t K);
  // 1 / sqrt(mean(mem[prefix..., :N]^2) + eps), as q3.rms_norm computes it.
  mlir::Value inverseRms(mlir::Value mem, mlir::ValueRange prefix, int64_t N, double eps);
  mlir::Value flatten(mlir::Value mem);          // any rank -> 1-D view
  mlir::Value rows(mlir::Value mem);             // any rank -> [rows, last]
  mlir::Value silu(mlir::Value x);               // scalar or vector f32
  mlir::Value constantTable(llvm::StringRef name, llvm::ArrayRef<float> values);
  // RoPE's theta^(-2i/D), i < D/2, as a constant table (shared by rope and norm_rope).
  mlir::Value ropeInverseFrequencies(int64_t D, const RopeSpec &spec);
  // cos or sin times the spec's scale (YaRN's attention factor), or as it is.
  mlir::Value ropeScaled(mlir::Value v, const RopeSpec &spec);
  void zeroFill(mlir::Value mem); // any rank
  // For each expert e that some token chose: the n tokens (their ids in
  // tokens[0, n), router weights in sel[0, n)) and body(e, n).
  void forEachChosenExpert(mlir::Value weights, mlir::Value experts, int64_t E, mlir::Value tokens,
                           mlir::Value sel, const std::function<void(mlir::Value, mlir::Value)> &body);
  void linearK16(mlir::Value x, mlir::Value wp, const LinearFusion &f);
  // The online softmax over a key-blocked K cache (AttentionBlockedKeys.cpp):
  // 16 scores per vector FMA, query rows tiled by the config's query_block.
  // With kv_split > 1, `partials` is [items * kv_split, head_block, D + 2]
  // f32 scratch: each split's output rows, maximum and sum.
  void attentionBlockedKeys(mlir::Value q, mlir::Value k, mlir::Value v, mlir::Value layer, mlir::Value offset,
                            double scale, mlir::Value out, const AttentionTiling &tiling, mlir::Value partials);
  // Scores of consecutive keys first.. (one lane each) times `scale`, those
  // of keys at or past `seen` (the keys a query row may see) masked to
  // -1e30, whose weight exp(-1e30 - m) is 0: causality and the end of the
  // context as one lane mask, shared by the blocked and the AMX attention.
  mlir::Value maskedScores(mlir::Value raw, mlir::Value first, mlir::Value seen, double scale);
  // The same over AMX-BF16 tiles (AttentionAMX.cpp): scores and weighted
  // values as tile products, 32 keys a step, the softmax in vectors.
  void attentionAMX(mlir::Value q, mlir::Value k, mlir::Value v, mlir::Value layer, mlir::Value offset,
                    double scale, mlir::Value out, const AttentionTiling &tiling);
  // Work item `item` of GQA attention in head blocks of gb (of the G query
  // heads per KV head): its KV head and first query head.
  std::pair<mlir::Value, mlir::Value> itemHeads(mlir::Value item, int64_t G, int64_t gb);
  // Positions a cache holds, and stores into row p of one (the row layout
  // [L, kv_heads, C, D] or the key-blocked [L, kv_heads, C / 16, D, 16]).
  int64_t cacheCapacity(mlir::Value cache);
  void storeCacheScalar(mlir::Value v, mlir::Value cache, mlir::Value layer, mlir::Value h, mlir::Value p,
                        mlir::Value d);
  void storeCacheVec(mlir::Value vec, mlir::Value cache, mlir::Value layer, mlir::Value h, mlir::Value p,
                     mlir::Value d);
  // The int8 cache (QuantisedCache.cpp; its memref rows are head_dim + 4
  // bytes): row `src[srcAt..., 0..D)` (f32) quantised into row p with its
  // scale, a row's scale (row layout) and a key block's 16 scales
  // (key-blocked layout) as f32.
  void storeQuantisedRow(mlir::Value src, mlir::ValueRange srcAt, int64_t D, mlir::Value cache, mlir::Value layer,
                         mlir::Value h, mlir::Value p);
  mlir::Value cacheRowScale(mlir::Value cache, mlir::Value layer, mlir::Value h, mlir::Value p);
  mlir::Value cacheBlockScales(mlir::Value cache, mlir::Value layer, mlir::Value h, mlir::Value block);
  // The AMX families (AMXProduct.cpp): k16_pairs weights as tile operands.
  void linearAMX(mlir::Value x, mlir::Value wp, const LinearFusion &f);
  // A product's outputs as [rows, last] views, the block where each part
  // ends, and the residual's view.
  struct ProductOutputs {
    llvm::SmallVector<mlir::Value> outs;
    llvm::SmallVector<int64_t> partEnd;
    mlir::Value residual;
  };
  ProductOutputs productOutputs(const LinearFusion &f);
  // One tile's results on the way out: value(r, h, i) is vector h0 + h (of
  // the config's vector_width lanes) of block blocks[r] for input row
  // rows[i].
  struct ProductTileValues {
    llvm::SmallVector<mlir::Value> rows, blocks;
    int64_t h0 = 0, hn = 1;
    std::function<mlir::Value(int64_t r, int64_t h, int64_t i)> value;
  };
  void storeProductTile(const LinearFusion &f, const ProductOutputs &outs, const ProductTileValues &tile);
  mlir::Value loadIndex(mlir::Value mem, mlir::ValueRange indices); // an i32 element as an index
  // `width` int8 values from mem[indices...] as f32 (sign-extended, converted).
  mlir::Value widenInt8(mlir::Value mem, mlir::ValueRange indices, int64_t width);
  // A quads row from mem[indices...] (64 bytes: 16 lanes' consecutive k) as
  // 16-lane f32 vectors in k order: int8 four (byte j of each lane), int4
  // eight (its bytes' low nibbles, then their high ones, q - 8).
  llvm::SmallVector<mlir::Value> widenQuads(mlir::Value mem, mlir::ValueRange indices, bool int4);
  // `width` bytes of two int4 values each from mem[indices...]: the low and
  // the high nibbles, q - 8, as f32 (k16_q4's even and odd k).
  std::pair<mlir::Value, mlir::Value> widenNibbles(mlir::Value mem, mlir::ValueRange indices, int64_t width);
  // Whether the module's target has `feature`: for instruction selection
  // that keeps the values (the strategy chooses everything else).
  bool targetHas(llvm::StringRef feature);
  mlir::Value roundToBF16(mlir::Value v);               // f32 (scalar or vector) -> bf16, nearest even
  // The int8 dot's activations: for the first `count` rows (row inRows[m]
  // when given) of x2, times `norm` when given, each group of 32 as int8
  // q = roundeven(x * (127 / max|x|)) into out.values, its scale max|x| /
  // 127 into out.scales and sum(q) into out.sums (0 for an all-zero group).
  void quantiseRows(mlir::Value x2, mlir::Value norm, const Int8Rows &out, mlir::Value count, mlir::Value inRows);
  // The symmetric int8 rule for values of largest magnitude `amax` (f32):
  // the scale amax / 127 and the multiplier 127 / amax (0 for amax = 0), as
  // the int8 dot's activations and the int8 KV cache's rows both use it.
  std::pair<mlir::Value, mlir::Value> int8Scale(mlir::Value amax);
  // The 32 bits at mem[indices...] (two bf16, four i8, ...) in every 32-bit
  // lane of a `type` vector of the same elements: vdpbf16ps' and vpdpbusd's
  // activation operand.
  mlir::Value broadcastWord(mlir::Value mem, mlir::ValueRange indices, mlir::VectorType type);
  // acc + sum over each lane's four byte pairs of u[j] * s[j] (u unsigned,
  // s signed; vector<64xi8> each, acc vector<16xi32>): vpdpbusd, or with
  // `emulated` the same sums in plain vector ops.
  mlir::Value dotBytes(mlir::Value acc, mlir::Value u, mlir::Value s, bool emulated);
  // AVX2's int8 dot (i8_madd): the activations' bytes with the weights'
  // signs, and the vpmaddubsw + vpmaddwd sums of (unsigned, signed) pairs.
  mlir::Value signBytes(mlir::Value x, mlir::Value w);
  mlir::Value maddPairs(mlir::Value acc, llvm::ArrayRef<std::pair<mlir::Value, mlir::Value>> operands);
  // r2[m] = bf16(x2[m]) for the first `count` rows (row inRows[m] when given).
  void roundRows(mlir::Value x2, mlir::Value r2, mlir::Value count, mlir::Value inRows);
  // vector<2VW x bf16> of (even, odd) k pairs -> (even, odd) as vector<VW x f32>.
  std::pair<mlir::Value, mlir::Value> widenPairs(mlir::Value pairs);
  // acc + each lane's (even, odd) pair of x times that of y (vector<2VW x
  // bf16> each, acc vector<VW x f32>): vdpbf16ps, or with `emulated` two
  // FMAs in its order (odd, then even) on the widened pairs.
  mlir::Value dotPairs(mlir::Value acc, mlir::Value x, mlir::Value y, bool emulated);
  void invRmsRows(mlir::Value x2, double eps, mlir::Value invRms); // the norm prologue

  mlir::OpBuilder &b;
  mlir::Location loc;
  mlir::ModuleOp module;
  // The module's q3.target, read once (targetHas).
  bool targetRead = false;
  std::optional<TargetInfo> target;
};

// Vector width for an innermost dimension of `size` f32 elements.
int64_t vectorWidth(int64_t size);

} // namespace q3

#endif
