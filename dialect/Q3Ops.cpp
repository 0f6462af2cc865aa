//===- Q3Ops.cpp - q3 verifiers and type inference --------------------------===//
//
// Every message names the operand or attribute at fault and shows the sizes
// that disagree, so a graph-builder bug reads as a sentence.
//
//===----------------------------------------------------------------------===//
#include "dialect/Q3Ops.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace q3;

namespace {

std::string shapeStr(ShapedType t) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleave(t.getShape(), os, "x");
  os << "]";
  return s;
}

RankedTensorType tensorOf(Value v) {
  return llvm::cast<RankedTensorType>(v.getType());
}

bool isFloat(Type t) { return llvm::isa<FloatType>(t); }

} // namespace

//===----------------------------------------------------------------------===//
// q3.weight
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  StringRef name = getName();
  if (name.empty())
    return emitOpError("weight name must not be empty");
  bool wantsLayer = name.contains("{layer}");
  if (wantsLayer && !getLayer())
    return emitOpError("name '") << name
                                 << "' contains {layer} but no layer operand is given";
  if (!wantsLayer && getLayer())
    return emitOpError("layer operand given but name '")
           << name << "' has no {layer} placeholder";
  if (name.contains("{expert}") && getResult().getType().getRank() < 2)
    return emitOpError("{expert} stacks experts on a new leading dimension, so "
                       "the result needs rank >= 2, got ")
           << shapeStr(getResult().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// q3.embedding
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::verify() {
  auto table = tensorOf(getTable());
  auto ids = tensorOf(getIds());
  auto result = getResult().getType();
  if (table.getRank() != 2)
    return emitOpError("table must be [vocab, hidden], got ") << shapeStr(table);
  if (!isFloat(table.getElementType()))
    return emitOpError("table element type ")
           << table.getElementType()
           << " is not supported: quantised embedding tables need scales";
  if (ids.getRank() != 1)
    return emitOpError("ids must be [tokens], got ") << shapeStr(ids);
  if (result.getRank() != 2 || result.getDimSize(0) != ids.getDimSize(0) ||
      result.getDimSize(1) != table.getDimSize(1))
    return emitOpError("result ")
           << shapeStr(result) << " must be [tokens x hidden] = ["
           << ids.getDimSize(0) << "x" << table.getDimSize(1) << "]";
  return success();
}

//===----------------------------------------------------------------------===//
// q3.rms_norm
//===----------------------------------------------------------------------===//

LogicalResult RMSNormOp::verify() {
  auto input = tensorOf(getInput());
  auto weight = tensorOf(getWeight());
  double eps = getEpsAttr().getValueAsDouble();
  if (!(eps > 0.0))
    return emitOpError("eps must be positive, got ") << eps;
  if (input.getRank() < 1)
    return emitOpError("input must have rank >= 1");
  if (!isFloat(weight.getElementType()))
    return emitOpError("weight element type must be f32, bf16 or f16, got ")
           << weight.getElementType();
  if (weight.getRank() != 1 ||
      weight.getDimSize(0) != input.getShape().back())
    return emitOpError("weight ")
           << shapeStr(weight) << " must be [" << input.getShape().back()
           << "], the input's last dimension";
  return success();
}

//===----------------------------------------------------------------------===//
// q3.linear
//===----------------------------------------------------------------------===//

// The optional `norm` of the linear family: a [in] vector and its eps.
static LogicalResult verifyNormOnLoad(Operation *op, Value norm, FloatAttr eps, int64_t in) {
  if (!norm) {
    if (eps) return op->emitOpError("norm_eps is set but there is no norm weight");
    return success();
  }
  auto nt = tensorOf(norm);
  if (nt.getRank() != 1 || nt.getDimSize(0) != in)
    return op->emitOpError("norm weight ") << shapeStr(nt) << " must be [" << in << "]";
  if (!isFloat(nt.getElementType()))
    return op->emitOpError("norm weight must be a float tensor");
  if (!eps || !(eps.getValueAsDouble() > 0.0))
    return op->emitOpError("a norm needs a positive norm_eps");
  return success();
}

// Input [..., in] against a float weight [rows, in].
static LogicalResult verifyProduct(Operation *op, RankedTensorType input, RankedTensorType weight) {
  if (weight.getRank() != 2)
    return op->emitOpError("weight must be [out, in], got ") << shapeStr(weight);
  if (input.getRank() < 1 || input.getShape().back() != weight.getDimSize(1))
    return op->emitOpError("weight in-features (")
           << weight.getDimSize(1) << ") must equal the input's last dimension";
  if (!isFloat(weight.getElementType()))
    return op->emitOpError("quantised weights are not supported by fused linears");
  return success();
}

LogicalResult LinearOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto input = tensorOf(adaptor.getInput());
  auto weight = tensorOf(adaptor.getWeight());
  if (weight.getRank() != 2)
    return emitOptionalError(loc, "'q3.linear' op weight must be [out, in], got ",
                             shapeStr(weight));
  if (input.getRank() < 1)
    return emitOptionalError(loc, "'q3.linear' op input must have rank >= 1");
  SmallVector<int64_t> shape(input.getShape());
  shape.back() = weight.getDimSize(0);
  results.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult LinearOp::verify() {
  auto input = tensorOf(getInput());
  auto weight = tensorOf(getWeight());
  int64_t out = weight.getDimSize(0), in = weight.getDimSize(1);
  if (input.getShape().back() != in)
    return emitOpError("weight in-features (")
           << in << ") must equal the input's last dimension ("
           << input.getShape().back() << ")";
  bool quantised = !isFloat(weight.getElementType());
  if (quantised && !getScales())
    return emitOpError("weight element type ")
           << weight.getElementType() << " is quantised and needs scales";
  if (!quantised && getScales())
    return emitOpError("scales are only allowed with integer (quantised) weights");
  if (auto scales = getScales()) {
    auto st = tensorOf(scales);
    bool perRow = st.getRank() == 1 && st.getDimSize(0) == out;
    bool perGroup = st.getRank() == 2 && st.getDimSize(0) == out &&
                    st.getDimSize(1) > 0 && in % st.getDimSize(1) == 0;
    if (!perRow && !perGroup)
      return emitOpError("scales ")
             << shapeStr(st) << " must be [" << out << "] (per row) or ["
             << out << "x" << "G] with G dividing " << in << " (per group)";
  }
  return success();
}

LogicalResult LinearSwiGLUOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &results) {
  auto input = tensorOf(adaptor.getInput());
  auto weight = tensorOf(adaptor.getWeight());
  if (weight.getRank() != 2 || weight.getDimSize(0) % 2 != 0)
    return emitOptionalError(loc, "'q3.linear_swiglu' op weight must be [2 * inter, in], got ",
                             shapeStr(weight));
  if (input.getRank() < 1)
    return emitOptionalError(loc, "'q3.linear_swiglu' op input must have rank >= 1");
  SmallVector<int64_t> shape(input.getShape());
  shape.back() = weight.getDimSize(0) / 2;
  results.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult LinearSwiGLUOp::verify() {
  auto input = tensorOf(getInput());
  if (failed(verifyProduct(*this, input, tensorOf(getWeight()))))
    return failure();
  return verifyNormOnLoad(*this, getNorm(), getNormEpsAttr(), input.getShape().back());
}

LogicalResult LinearSplitOp::verify() {
  auto input = tensorOf(getInput());
  auto weight = tensorOf(getWeight());
  if (failed(verifyProduct(*this, input, weight)))
    return failure();
  if (getResults().empty())
    return emitOpError("needs at least one result");
  int64_t rows = 0;
  for (Value r : getResults()) {
    auto rt = tensorOf(r);
    if (rt.getRank() != input.getRank() || rt.getElementType() != input.getElementType() ||
        rt.getShape().drop_back() != input.getShape().drop_back())
      return emitOpError("result ") << rt << " must be the input's shape but for the last dimension";
    rows += rt.getShape().back();
  }
  if (rows != weight.getDimSize(0))
    return emitOpError("results' last dimensions sum to ")
           << rows << ", but the weight has " << weight.getDimSize(0) << " rows";
  return verifyNormOnLoad(*this, getNorm(), getNormEpsAttr(), input.getShape().back());
}

LogicalResult ConcatOp::verify() {
  auto result = tensorOf(getResult());
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  int64_t rows = 0;
  for (Value v : getInputs()) {
    auto t = tensorOf(v);
    if (t.getRank() != result.getRank() || t.getElementType() != result.getElementType() ||
        t.getShape().drop_front() != result.getShape().drop_front())
      return emitOpError("input ") << shapeStr(t) << " does not stack into " << shapeStr(result);
    rows += t.getDimSize(0);
  }
  if (rows != result.getDimSize(0))
    return emitOpError("inputs have ") << rows << " rows, the result " << result.getDimSize(0);
  return success();
}

LogicalResult LinearResidualOp::verify() {
  auto input = tensorOf(getInput());
  auto weight = tensorOf(getWeight());
  if (failed(verifyProduct(*this, input, weight)))
    return failure();
  SmallVector<int64_t> shape(input.getShape());
  shape.back() = weight.getDimSize(0);
  auto result = tensorOf(getResult());
  if (result.getShape() != ArrayRef<int64_t>(shape) || result.getElementType() != input.getElementType())
    return emitOpError("result ") << result << " must be the input's shape with " << weight.getDimSize(0)
                                  << " features";
  return success();
}

//===----------------------------------------------------------------------===//
// q3.rope
//===----------------------------------------------------------------------===//

LogicalResult RopeOp::verify() {
  auto input = tensorOf(getInput());
  if (input.getRank() != 3)
    return emitOpError("input must be [tokens, heads, head_dim], got ")
           << shapeStr(input);
  if (input.getDimSize(2) % 2 != 0)
    return emitOpError("head_dim (") << input.getDimSize(2) << ") must be even";
  double theta = getThetaAttr().getValueAsDouble();
  if (!(theta > 1.0))
    return emitOpError("theta must be greater than 1, got ") << theta;
  return success();
}

//===----------------------------------------------------------------------===//
// KV cache and attention
//===----------------------------------------------------------------------===//

// A cache is [layers, kv_heads, capacity, head_dim].
static LogicalResult verifyCache(Operation *op, StringRef what,
                                 RankedTensorType cache) {
  if (cache.getRank() != 4)
    return op->emitOpError() << what
                             << " must be [layers, kv_heads, capacity, head_dim], got "
                             << shapeStr(cache);
  return success();
}

LogicalResult KVWriteOp::verify() {
  auto value = tensorOf(getValue());
  auto cache = tensorOf(getCache());
  if (failed(verifyCache(*this, "cache", cache)))
    return failure();
  if (value.getRank() != 3)
    return emitOpError("value must be [tokens, kv_heads, head_dim], got ")
           << shapeStr(value);
  if (value.getDimSize(1) != cache.getDimSize(1) ||
      value.getDimSize(2) != cache.getDimSize(3))
    return emitOpError("value heads x head_dim (")
           << value.getDimSize(1) << "x" << value.getDimSize(2)
           << ") must match the cache's (" << cache.getDimSize(1) << "x"
           << cache.getDimSize(3) << ")";
  if (value.getDimSize(0) > cache.getDimSize(2))
    return emitOpError("chunk of ")
           << value.getDimSize(0) << " tokens exceeds the cache capacity ("
           << cache.getDimSize(2) << ")";
  return success();
}

// QK-norm + RoPE on [T, heads, head_dim].
static LogicalResult verifyNormRope(Operation *op, RankedTensorType input, RankedTensorType norm,
                                    double eps, double theta) {
  if (input.getRank() != 3)
    return op->emitOpError("input must be [tokens, heads, head_dim], got ") << shapeStr(input);
  int64_t D = input.getDimSize(2);
  if (D % 2 != 0)
    return op->emitOpError("head_dim (") << D << ") must be even";
  if (norm.getRank() != 1 || norm.getDimSize(0) != D)
    return op->emitOpError("norm weight ") << shapeStr(norm) << " must be [" << D << "]";
  if (!(eps > 0.0))
    return op->emitOpError("eps must be positive");
  if (!(theta > 1.0))
    return op->emitOpError("theta must be greater than 1, got ") << theta;
  return success();
}

LogicalResult NormRopeOp::verify() {
  return verifyNormRope(*this, tensorOf(getInput()), tensorOf(getNorm()),
                        getEpsAttr().getValueAsDouble(), getThetaAttr().getValueAsDouble());
}

LogicalResult NormRopeWriteOp::verify() {
  auto input = tensorOf(getInput());
  if (failed(verifyNormRope(*this, input, tensorOf(getNorm()), getEpsAttr().getValueAsDouble(),
                            getThetaAttr().getValueAsDouble())))
    return failure();
  auto cache = tensorOf(getCache());
  if (failed(verifyCache(*this, "cache", cache)))
    return failure();
  if (input.getDimSize(1) != cache.getDimSize(1) || input.getDimSize(2) != cache.getDimSize(3))
    return emitOpError("input heads x head_dim (")
           << input.getDimSize(1) << "x" << input.getDimSize(2) << ") must match the cache's ("
           << cache.getDimSize(1) << "x" << cache.getDimSize(3) << ")";
  if (input.getDimSize(0) > cache.getDimSize(2))
    return emitOpError("chunk of ") << input.getDimSize(0) << " tokens exceeds the cache capacity";
  return success();
}

LogicalResult AttentionOp::verify() {
  auto query = tensorOf(getQuery());
  auto keys = tensorOf(getKeys());
  if (query.getRank() != 3)
    return emitOpError("query must be [tokens, q_heads, head_dim], got ")
           << shapeStr(query);
  if (failed(verifyCache(*this, "keys", keys)))
    return failure();
  int64_t qHeads = query.getDimSize(1), kvHeads = keys.getDimSize(1);
  if (kvHeads == 0 || qHeads % kvHeads != 0)
    return emitOpError("q_heads (") << qHeads << ") must be a multiple of kv_heads ("
                                    << kvHeads << ")";
  if (query.getDimSize(2) != keys.getDimSize(3))
    return emitOpError("query head_dim (")
           << query.getDimSize(2) << ") must equal the cache head_dim ("
           << keys.getDimSize(3) << ")";
  double scale = getScaleAttr().getValueAsDouble();
  if (!(scale > 0.0))
    return emitOpError("scale must be positive, got ") << scale;
  return success();
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

LogicalResult MoERouterOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  auto logits = tensorOf(adaptor.getLogits());
  if (logits.getRank() != 2)
    return emitOptionalError(loc, "'q3.moe_router' op logits must be [tokens, "
                                  "experts], got ",
                             shapeStr(logits));
  auto topK = adaptor.getTopKAttr();
  if (!topK || topK.getInt() < 1)
    return emitOptionalError(loc, "'q3.moe_router' op top_k must be >= 1");
  SmallVector<int64_t> shape{logits.getDimSize(0), topK.getInt()};
  results.push_back(RankedTensorType::get(shape, logits.getElementType()));
  results.push_back(RankedTensorType::get(shape, IntegerType::get(ctx, 32)));
  return success();
}

LogicalResult MoERouterOp::verify() {
  int64_t experts = tensorOf(getLogits()).getDimSize(1);
  if (getTopKAttr().getInt() > experts)
    return emitOpError("top_k (") << getTopKAttr().getInt()
                                  << ") exceeds the number of experts (" << experts
                                  << ")";
  return success();
}

LogicalResult MoEExpertsOp::verify() {
  auto input = tensorOf(getInput());
  auto weights = tensorOf(getWeights());
  auto experts = tensorOf(getExperts());
  auto gate = tensorOf(getGate());
  auto up = tensorOf(getUp());
  auto down = tensorOf(getDown());
  if (input.getRank() != 2)
    return emitOpError("input must be [tokens, hidden], got ") << shapeStr(input);
  if (weights.getRank() != 2 || weights.getDimSize(0) != input.getDimSize(0))
    return emitOpError("weights ") << shapeStr(weights) << " must be ["
                                   << input.getDimSize(0) << "xK]";
  if (experts.getShape() != weights.getShape())
    return emitOpError("experts ") << shapeStr(experts)
                                   << " must have the shape of weights "
                                   << shapeStr(weights);
  if (gate.getRank() != 3)
    return emitOpError("gate must be [experts, inter, hidden], got ")
           << shapeStr(gate);
  if (gate.getDimSize(2) != input.getDimSize(1))
    return emitOpError("gate hidden size (")
           << gate.getDimSize(2) << ") must equal the input's ("
           << input.getDimSize(1) << ")";
  if (up.getShape() != gate.getShape())
    return emitOpError("up ") << shapeStr(up) << " must have the shape of gate "
                              << shapeStr(gate);
  if (down.getRank() != 3 || down.getDimSize(0) != gate.getDimSize(0) ||
      down.getDimSize(1) != gate.getDimSize(2) ||
      down.getDimSize(2) != gate.getDimSize(1))
    return emitOpError("down ") << shapeStr(down) << " must be ["
                                << gate.getDimSize(0) << "x" << gate.getDimSize(2)
                                << "x" << gate.getDimSize(1) << "]";
  for (auto [name, t] : {std::pair<StringRef, RankedTensorType>{"gate", gate},
                         {"up", up}, {"down", down}})
    if (!isFloat(t.getElementType()))
      return emitOpError() << name << " element type " << t.getElementType()
                           << " is not supported: quantised experts need scales";
  return success();
}

//===----------------------------------------------------------------------===//
// q3.argmax
//===----------------------------------------------------------------------===//

LogicalResult ArgmaxOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto input = tensorOf(adaptor.getInput());
  if (input.getRank() < 1)
    return emitOptionalError(loc, "'q3.argmax' op input must have rank >= 1");
  results.push_back(RankedTensorType::get(input.getShape().drop_back(),
                                          IntegerType::get(ctx, 32)));
  return success();
}

LogicalResult ArgmaxOp::verify() {
  if (tensorOf(getInput()).getShape().back() == 0)
    return emitOpError("cannot take the argmax of an empty dimension");
  return success();
}

#define GET_OP_CLASSES
#include "dialect/Q3Ops.cpp.inc"
