//===- GraphBuilder.cpp - emit Qwen3 dense and MoE graphs in q3 -------------===//
//
// Follows Hugging Face's Qwen3 / Qwen3-MoE modelling code block by block:
//   x += o_proj(attention(rope(q_norm(q)), rope(k_norm(k)), v))  with RMSNorm in front
//   x += mlp(post_attention_layernorm(x))   (SwiGLU, or router + experts)
//
//===----------------------------------------------------------------------===//
#include "frontend/GraphBuilder.h"
#include "dialect/Q3Ops.h"
#include "frontend/Error.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"

#include <cmath>

using namespace mlir;

namespace q3c {

void loadQ3Dialects(MLIRContext &ctx) {
  ctx.loadDialect<q3::Q3Dialect, func::FuncDialect, arith::ArithDialect, scf::SCFDialect,
                  tensor::TensorDialect>();
}

namespace {

Type elementType(MLIRContext *ctx, DType t) {
  switch (t) {
  case DType::F32: return Float32Type::get(ctx);
  case DType::BF16: return BFloat16Type::get(ctx);
  case DType::F16: return Float16Type::get(ctx);
  default: break; // ggml's block types are how a checkpoint stores weights, never a graph element type
  }
  return {};
}

class ModelBuilder {
public:
  ModelBuilder(MLIRContext &ctx, const ModelConfig &c, const GraphOptions &o)
      : ctx(&ctx), b(&ctx), loc(UnknownLoc::get(&ctx)), c(c), o(o) {
    f32 = b.getF32Type();
    i32 = b.getI32Type();
    Type cacheElement = o.cacheDType == CacheDType::F32    ? Type(f32)
                        : o.cacheDType == CacheDType::BF16 ? Type(b.getBF16Type())
                        : o.cacheDType == CacheDType::F16  ? Type(b.getF16Type())
                                                           : Type(b.getI8Type());
    cacheType = RankedTensorType::get({c.numLayers, c.numKVHeads, o.maxContext, c.headDim}, cacheElement);
  }

  OwningOpRef<ModuleOp> build() {
    OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
    Operation *m = module->getOperation();
    m->setAttr("q3.model", b.getStringAttr(c.architecture));
    m->setAttr("q3.num_layers", b.getI64IntegerAttr(c.numLayers));
    SmallVector<bool> sparse;
    for (int64_t l = 0; l < c.numLayers; ++l) sparse.push_back(c.isSparseLayer(l));
    m->setAttr("q3.sparse_layers", b.getDenseBoolArrayAttr(sparse));
    b.setInsertionPointToEnd(module->getBody());
    buildEntry(*module, "prefill", o.prefillChunk);
    for (int64_t T : o.promptChunks)
      buildEntry(*module, "prefill_" + std::to_string(T), T)->setAttr(q3::kPromptOnlyAttr, b.getUnitAttr());
    buildEntry(*module, "decode", 1);
    if (o.decodeBatch > 0) buildEntry(*module, "decode_batch", o.decodeBatch, /*batched=*/true);
    return module;
  }

private:
  RankedTensorType act(ArrayRef<int64_t> shape) { return RankedTensorType::get(shape, f32); }

  // The ops built next carry `name` as their location: Hugging Face's module
  // path ("model.layers.{layer}.self_attn.q_proj"), so a dump, a fused op
  // (the fused location of its parts) and the lowered loops name the block
  // they compute (`qwen3c explain` finds them by it).
  void named(const std::string &name) { loc = NameLoc::get(b.getStringAttr(name)); }

  Value weight(const std::string &pattern, ArrayRef<int64_t> shape, Value layer = {}) {
    DType dt = o.weightDType ? o.weightDType(pattern) : c.torchDtype;
    auto type = RankedTensorType::get(shape, elementType(ctx, dt));
    return q3::WeightOp::create(b, NameLoc::get(b.getStringAttr(pattern)), type, b.getStringAttr(pattern), layer);
  }

  Value rmsNorm(Value x, Value w) {
    return q3::RMSNormOp::create(b, loc, x.getType(), x, w, b.getF64FloatAttr(c.rmsNormEps));
  }

  Value linear(Value x, Value w) {
    auto xt = llvm::cast<RankedTensorType>(x.getType());
    auto wt = llvm::cast<RankedTensorType>(w.getType());
    SmallVector<int64_t> shape(xt.getShape());
    shape.back() = wt.getDimSize(0);
    return q3::LinearOp::create(b, loc, act(shape), x, w, Value());
  }

  // [T, heads*D] <-> [T, heads, D]
  Value splitHeads(Value x, int64_t heads) {
    int64_t T = llvm::cast<RankedTensorType>(x.getType()).getDimSize(0);
    return tensor::ExpandShapeOp::create(b, loc, act({T, heads, c.headDim}), x,
                                         ArrayRef<ReassociationIndices>{{0}, {1, 2}});
  }
  Value mergeHeads(Value x) {
    auto t = llvm::cast<RankedTensorType>(x.getType());
    return tensor::CollapseShapeOp::create(
        b, loc, act({t.getDimSize(0), t.getDimSize(1) * t.getDimSize(2)}), x,
        ArrayRef<ReassociationIndices>{{0}, {1, 2}});
  }

  Value rope(Value x, Value pos) {
    q3::YarnAttr yarn;
    if (c.yarn)
      yarn = q3::YarnAttr::get(ctx, b.getF64FloatAttr(c.yarn->factor), c.yarn->originalContext,
                               b.getF64FloatAttr(c.yarn->betaFast), b.getF64FloatAttr(c.yarn->betaSlow),
                               b.getF64FloatAttr(c.yarn->attentionFactor));
    return q3::RopeOp::create(b, loc, x.getType(), x, pos, b.getF64FloatAttr(c.ropeTheta),
                              q3::RopeStyleAttr::get(ctx, q3::RopeStyle::SplitHalves), yarn);
  }

  std::string layerName(const std::string &suffix) { return "model.layers.{layer}." + suffix; }

  // QK-norm and RoPE of the q or k heads, named self_attn.q_norm /
  // self_attn.rotary_emb.q and their k twins.
  Value qNormOf(const std::string &which, Value heads, Value w) {
    named(layerName("self_attn." + which + "_norm"));
    return rmsNorm(heads, w);
  }
  Value ropeOf(const std::string &which, Value x, Value pos) {
    named(layerName("self_attn.rotary_emb." + which));
    return rope(x, pos);
  }

  // The caches of @decode_batch: one sequence's layers after another's.
  RankedTensorType stackedCacheType(int64_t sequences) {
    return RankedTensorType::get({sequences * c.numLayers, c.numKVHeads, o.maxContext, c.headDim},
                                 cacheType.getElementType());
  }

  // Row t of [T, heads, D] as [1, heads, D].
  Value row(Value x, int64_t t) {
    auto type = llvm::cast<RankedTensorType>(x.getType());
    auto rowType = act({1, type.getDimSize(1), type.getDimSize(2)});
    SmallVector<OpFoldResult> offsets{b.getIndexAttr(t), b.getIndexAttr(0), b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(type.getDimSize(1)),
                                    b.getIndexAttr(type.getDimSize(2))};
    SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
    return tensor::ExtractSliceOp::create(b, loc, rowType, x, offsets, sizes, strides);
  }

  // One decoder layer: (x, k_cache, v_cache, layer, pos) -> (x, k_cache, v_cache).
  // Batched (T independent sequences): pos is tensor<Txi64>, one position
  // per row, and the caches are stacked (stackedCacheType).
  func::FuncOp buildLayer(ModuleOp module, const std::string &name, int64_t T, bool sparse, bool batched = false) {
    const int64_t H = c.hiddenSize, D = c.headDim, Hq = c.numHeads, Hkv = c.numKVHeads;
    auto x0Type = act({T, H});
    Type posType = batched ? Type(RankedTensorType::get({T}, b.getI64Type())) : Type(b.getIndexType());
    RankedTensorType kvType = batched ? stackedCacheType(T) : cacheType;
    auto fnType = b.getFunctionType({x0Type, kvType, kvType, b.getIndexType(), posType},
                                    {x0Type, kvType, kvType});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(module.getBody());
    auto fn = func::FuncOp::create(b, loc, name, fnType);
    fn.setPrivate();
    fn->setAttr("q3.layer_kind", b.getStringAttr(sparse ? "moe" : "dense"));
    Block *body = fn.addEntryBlock();
    b.setInsertionPointToStart(body);
    Value x = body->getArgument(0), kc = body->getArgument(1), vc = body->getArgument(2),
          layer = body->getArgument(3), pos = body->getArgument(4);

    // Attention block.
    named(layerName("input_layernorm"));
    Value h = rmsNorm(x, weight(layerName("input_layernorm.weight"), {H}, layer));
    named(layerName("self_attn.q_proj"));
    Value q = linear(h, weight(layerName("self_attn.q_proj.weight"), {Hq * D, H}, layer));
    named(layerName("self_attn.k_proj"));
    Value k = linear(h, weight(layerName("self_attn.k_proj.weight"), {Hkv * D, H}, layer));
    named(layerName("self_attn.v_proj"));
    Value v = linear(h, weight(layerName("self_attn.v_proj.weight"), {Hkv * D, H}, layer));
    Value qNorm = weight(layerName("self_attn.q_norm.weight"), {D}, layer);
    Value kNorm = weight(layerName("self_attn.k_norm.weight"), {D}, layer);
    auto scale = b.getF64FloatAttr(1.0 / std::sqrt(double(D)));
    Value attn;
    if (!batched) {
      q = ropeOf("q", qNormOf("q", splitHeads(q, Hq), qNorm), pos);
      k = ropeOf("k", qNormOf("k", splitHeads(k, Hkv), kNorm), pos);
      named(layerName("self_attn.k_cache"));
      kc = q3::KVWriteOp::create(b, loc, cacheType, k, kc, layer, pos);
      named(layerName("self_attn.v_cache"));
      vc = q3::KVWriteOp::create(b, loc, cacheType, splitHeads(v, Hkv), vc, layer, pos);
      named(layerName("self_attn.attention"));
      attn = q3::AttentionOp::create(b, loc, q.getType(), q, kc, vc, layer, pos, scale);
    } else {
      // Each row is its own sequence: its position, its layers of the
      // stacked caches. The row's ops are those of a one-token decode, so
      // the fusions and kernels are the same.
      Value qs = splitHeads(q, Hq), ks = splitHeads(k, Hkv), vs = splitHeads(v, Hkv);
      SmallVector<Value> rows;
      for (int64_t t = 0; t < T; ++t) {
        Value at = tensor::ExtractOp::create(b, loc, pos, ValueRange{arith::ConstantIndexOp::create(b, loc, t)});
        Value rowPos = arith::IndexCastOp::create(b, loc, b.getIndexType(), at);
        Value rowLayer = arith::AddIOp::create(b, loc, layer, arith::ConstantIndexOp::create(b, loc, t * c.numLayers));
        Value qt = ropeOf("q", qNormOf("q", row(qs, t), qNorm), rowPos);
        Value kt = ropeOf("k", qNormOf("k", row(ks, t), kNorm), rowPos);
        named(layerName("self_attn.k_cache"));
        kc = q3::KVWriteOp::create(b, loc, kvType, kt, kc, rowLayer, rowPos);
        named(layerName("self_attn.v_cache"));
        vc = q3::KVWriteOp::create(b, loc, kvType, row(vs, t), vc, rowLayer, rowPos);
        named(layerName("self_attn.attention"));
        rows.push_back(q3::AttentionOp::create(b, loc, qt.getType(), qt, kc, vc, rowLayer, rowPos, scale));
      }
      attn = tensor::ConcatOp::create(b, loc, /*dim=*/0, rows);
    }
    named(layerName("self_attn.o_proj"));
    Value o = linear(mergeHeads(attn), weight(layerName("self_attn.o_proj.weight"), {H, Hq * D}, layer));
    named(layerName("attention_residual"));
    x = q3::AddOp::create(b, loc, x, o);

    // Feed-forward block.
    named(layerName("post_attention_layernorm"));
    h = rmsNorm(x, weight(layerName("post_attention_layernorm.weight"), {H}, layer));
    Value ffn;
    if (sparse) {
      const int64_t E = c.numExperts, I = c.moeIntermediateSize;
      named(layerName("mlp.gate"));
      Value logits = linear(h, weight(layerName("mlp.gate.weight"), {E, H}, layer));
      named(layerName("mlp.router"));
      auto router = q3::MoERouterOp::create(b, loc, logits, b.getI64IntegerAttr(c.numExpertsPerTok),
                                            b.getBoolAttr(c.normTopkProb));
      named(layerName("mlp.experts"));
      ffn = q3::MoEExpertsOp::create(
          b, loc, h.getType(), h, router.getWeights(), router.getExperts(),
          weight(layerName("mlp.experts.{expert}.gate_proj.weight"), {E, I, H}, layer),
          weight(layerName("mlp.experts.{expert}.up_proj.weight"), {E, I, H}, layer),
          weight(layerName("mlp.experts.{expert}.down_proj.weight"), {E, H, I}, layer));
    } else {
      const int64_t I = c.intermediateSize;
      named(layerName("mlp.gate_proj"));
      Value gate = linear(h, weight(layerName("mlp.gate_proj.weight"), {I, H}, layer));
      named(layerName("mlp.up_proj"));
      Value up = linear(h, weight(layerName("mlp.up_proj.weight"), {I, H}, layer));
      named(layerName("mlp.act_fn"));
      Value act = q3::SwiGLUOp::create(b, loc, gate, up);
      named(layerName("mlp.down_proj"));
      ffn = linear(act, weight(layerName("mlp.down_proj.weight"), {H, I}, layer));
    }
    named(layerName("mlp_residual"));
    x = q3::AddOp::create(b, loc, x, ffn);
    func::ReturnOp::create(b, loc, ValueRange{x, kc, vc});
    loc = UnknownLoc::get(ctx);
    return fn;
  }

  func::FuncOp buildEntry(ModuleOp module, const std::string &name, int64_t T, bool batched = false) {
    const int64_t H = c.hiddenSize, V = c.vocabSize, L = c.numLayers;
    bool anySparse = false, anyDense = false;
    for (int64_t l = 0; l < L; ++l) (c.isSparseLayer(l) ? anySparse : anyDense) = true;
    func::FuncOp dense, sparse;
    if (anyDense) dense = buildLayer(module, name + "_dense_layer", T, false, batched);
    if (anySparse) sparse = buildLayer(module, name + "_moe_layer", T, true, batched);

    auto tokensType = RankedTensorType::get({T}, i32);
    auto logitsType = act({T, V});
    Type posType = batched ? Type(RankedTensorType::get({T}, b.getI64Type())) : Type(b.getIndexType());
    RankedTensorType kvType = batched ? stackedCacheType(T) : cacheType;
    auto fnType = b.getFunctionType({tokensType, posType, kvType, kvType}, {logitsType, kvType, kvType});
    auto fn = func::FuncOp::create(b, loc, name, fnType);
    OpBuilder::InsertionGuard guard(b);
    Block *body = fn.addEntryBlock();
    b.setInsertionPointToStart(body);
    Value tokens = body->getArgument(0), pos = body->getArgument(1);

    Value embed = weight("model.embed_tokens.weight", {V, H});
    named("model.embed_tokens");
    Value x = q3::EmbeddingOp::create(b, loc, act({T, H}), embed, tokens);
    loc = UnknownLoc::get(ctx);

    // Per-layer kind table, only when the model mixes dense and sparse layers.
    Value kinds;
    if (anyDense && anySparse) {
      SmallVector<bool> isSparse;
      for (int64_t l = 0; l < L; ++l) isSparse.push_back(c.isSparseLayer(l));
      auto type = RankedTensorType::get({L}, b.getI1Type());
      kinds = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, ArrayRef<bool>(isSparse)));
    }
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    Value cL = arith::ConstantIndexOp::create(b, loc, L);
    Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
    auto loop = scf::ForOp::create(
        b, loc, c0, cL, c1, ValueRange{x, body->getArgument(2), body->getArgument(3)},
        [&](OpBuilder &lb, Location l, Value layer, ValueRange carried) {
          SmallVector<Value> args{carried[0], carried[1], carried[2], layer, pos};
          ValueRange results;
          if (!kinds) {
            results = func::CallOp::create(lb, l, anySparse ? sparse : dense, args).getResults();
          } else {
            Value isSparse = tensor::ExtractOp::create(lb, l, kinds, ValueRange{layer});
            auto ifOp = scf::IfOp::create(lb, l, TypeRange(carried), isSparse, true);
            OpBuilder tb = ifOp.getThenBodyBuilder();
            scf::YieldOp::create(tb, l, func::CallOp::create(tb, l, sparse, args).getResults());
            OpBuilder eb = ifOp.getElseBodyBuilder();
            scf::YieldOp::create(eb, l, func::CallOp::create(eb, l, dense, args).getResults());
            results = ifOp.getResults();
          }
          scf::YieldOp::create(lb, l, results);
        });
    x = loop.getResult(0);
    named("model.norm");
    x = rmsNorm(x, weight("model.norm.weight", {H}));
    std::string head = c.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight";
    named("lm_head");
    Value logits = linear(x, weight(head, {V, H}));
    loc = UnknownLoc::get(ctx);
    func::ReturnOp::create(b, loc, ValueRange{logits, loop.getResult(1), loop.getResult(2)});
    return fn;
  }

  MLIRContext *ctx;
  OpBuilder b;
  Location loc;
  const ModelConfig &c;
  const GraphOptions &o;
  Type f32, i32;
  RankedTensorType cacheType;
};

} // namespace

std::optional<CacheDType> parseCacheDType(const std::string &name) {
  if (name == "f32" || name == "float32") return CacheDType::F32;
  if (name == "bf16" || name == "bfloat16") return CacheDType::BF16;
  if (name == "f16" || name == "float16") return CacheDType::F16;
  if (name == "int8") return CacheDType::Int8;
  return std::nullopt;
}

const char *cacheDTypeName(CacheDType t) {
  switch (t) {
  case CacheDType::F32: return "f32";
  case CacheDType::BF16: return "bf16";
  case CacheDType::F16: return "f16";
  case CacheDType::Int8: return "int8";
  }
  return "?";
}

int64_t cacheRowBytes(CacheDType t, int64_t headDim) {
  switch (t) {
  case CacheDType::F32: return 4 * headDim;
  case CacheDType::BF16: case CacheDType::F16: return 2 * headDim;
  case CacheDType::Int8: return headDim + 4;
  }
  return 0;
}

void setPrefillChunks(GraphOptions &options, const std::vector<int64_t> &given) {
  std::vector<int64_t> sizes = given;
  if (sizes.empty()) {
    for (int64_t T : kDefaultPrefillChunks)
      if (T <= options.maxContext) sizes.push_back(T);
    if (sizes.empty()) sizes.push_back(options.maxContext);
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] < 1 || sizes[i] > options.maxContext)
      fail("--chunk: ", sizes[i], " is outside 1..", options.maxContext, " (the maximum context)");
    if (i && sizes[i] <= sizes[i - 1]) fail("--chunk: sizes must increase (", sizes[i - 1], " then ", sizes[i], ")");
  }
  options.prefillChunk = sizes.front();
  options.promptChunks.assign(sizes.begin() + 1, sizes.end());
}

void setDecodeBatch(GraphOptions &options, int64_t given) {
  if (given < 0 || given > 64) fail("--decode-batch: ", given, " is outside 0..64");
  options.decodeBatch = given == 1 ? 0 : given;
}

OwningOpRef<ModuleOp> buildModel(MLIRContext &ctx, const ModelConfig &config,
                                 const GraphOptions &options) {
  loadQ3Dialects(ctx);
  if (options.prefillChunk < 1 || options.prefillChunk > options.maxContext)
    fail("prefill chunk (", options.prefillChunk, ") must be between 1 and the context (",
         options.maxContext, ")");
  int64_t previous = options.prefillChunk;
  for (int64_t T : options.promptChunks) {
    if (T <= previous || T > options.maxContext)
      fail("prompt chunk ", T, " must exceed ", previous, " (chunks in increasing order) and be at most the context (",
           options.maxContext, ")");
    previous = T;
  }
  OwningOpRef<ModuleOp> module = ModelBuilder(ctx, config, options).build();
  if (failed(verify(*module)))
    fail("internal error: the q3 graph built for this config does not verify");
  return module;
}

} // namespace q3c
