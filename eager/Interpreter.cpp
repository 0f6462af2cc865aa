//===- Interpreter.cpp - run q3 IR op by op ---------------------------------===//
#include "eager/Interpreter.h"
#include "dialect/Q3Ops.h"
#include "eager/Kernels.h"
#include "frontend/Checkpoint.h"
#include "frontend/Error.h"
#include "frontend/TensorInventory.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <xtensor/xadapt.hpp>
#include <xtensor/xstrided_view.hpp>

using namespace mlir;

namespace q3c::eager {

std::shared_ptr<const xt::xarray<float>> CheckpointWeights::get(const std::string &name) {
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  const TensorView &v = ck.tensor(name);
  std::vector<size_t> shape(v.shape.begin(), v.shape.end());
  auto arr = std::make_shared<xt::xarray<float>>(shape);
  toF32(v.dtype, v.data, arr->data(), arr->size());
  cache.emplace(name, arr);
  return arr;
}

void CheckpointWeights::preload() {
  for (const auto &[name, view] : ck.tensors()) get(name);
}

namespace {

std::string shapeOf(ArrayRef<int64_t> s) { return shapeString(std::vector<int64_t>(s.begin(), s.end())); }

std::vector<size_t> staticShape(Type t) {
  auto rt = llvm::cast<RankedTensorType>(t);
  return std::vector<size_t>(rt.getShape().begin(), rt.getShape().end());
}

// Values of bf16/f16 tensors are kept exactly representable in their type;
// an i8 tensor (only a KV cache is one) as its int8 rows and scales hold it.
void roundTo(Type t, xt::xarray<float> &x) {
  Type e = llvm::cast<RankedTensorType>(t).getElementType();
  if (e.isBF16()) roundToBf16(x);
  else if (e.isF16()) roundToF16(x);
  else if (e.isInteger(8)) roundToInt8Rows(x);
}

} // namespace

struct Interpreter::Impl {
  ModuleOp module;
  WeightSource &weights;
  using Env = llvm::DenseMap<Value, RtValue>;

  Impl(ModuleOp m, WeightSource &w) : module(m), weights(w) {}

  // --- value access --------------------------------------------------------

  const RtValue &get(Env &env, Value v) {
    auto it = env.find(v);
    if (it == env.end()) fail("eager: internal error: value used before definition");
    return it->second;
  }
  // The operand's value, moved out when this is its last use (one use, in
  // the same region, so not re-read by a later loop iteration).
  RtValue take(Env &env, OpOperand &operand) {
    Value v = operand.get();
    if (v.hasOneUse() && v.getParentRegion() == operand.getOwner()->getParentRegion()) {
      auto it = env.find(v);
      if (it == env.end()) fail("eager: internal error: value used before definition");
      RtValue out = std::move(it->second);
      env.erase(it);
      return out;
    }
    return get(env, v);
  }
  std::vector<RtValue> takeAll(Env &env, MutableArrayRef<OpOperand> operands) {
    std::vector<RtValue> out;
    for (OpOperand &o : operands) out.push_back(take(env, o));
    return out;
  }
  int64_t scalar(Env &env, Value v) {
    const RtValue &r = get(env, v);
    if (!std::holds_alternative<int64_t>(r)) fail("eager: expected a scalar");
    return std::get<int64_t>(r);
  }
  const xt::xarray<float> &floats(Env &env, Value v) {
    const RtValue &r = get(env, v);
    if (!std::holds_alternative<Tensor>(r) || !std::get<Tensor>(r).f)
      fail("eager: expected a float tensor");
    return *std::get<Tensor>(r).f;
  }
  const xt::xarray<int32_t> &ints(Env &env, Value v) {
    const RtValue &r = get(env, v);
    if (!std::holds_alternative<Tensor>(r) || !std::get<Tensor>(r).i)
      fail("eager: expected an integer tensor");
    return *std::get<Tensor>(r).i;
  }
  void setFloats(Env &env, Value result, xt::xarray<float> a) {
    roundTo(result.getType(), a);
    env[result] = Tensor::floats(std::move(a));
  }

  // --- control flow --------------------------------------------------------

  std::vector<RtValue> runFunction(func::FuncOp fn, std::vector<RtValue> args) {
    if (fn.isExternal()) fail("eager: function @", fn.getName().str(), " has no body");
    Block &entry = fn.getBody().front();
    if (args.size() != entry.getNumArguments())
      fail("eager: @", fn.getName().str(), " takes ", entry.getNumArguments(),
           " arguments, got ", args.size());
    Env env;
    for (auto [arg, val] : llvm::zip(entry.getArguments(), args)) env[arg] = std::move(val);
    return runBlock(entry, env);
  }

  // Runs a block up to its terminator and returns the terminator's operands.
  std::vector<RtValue> runBlock(Block &block, Env &env) {
    for (Operation &op : block) {
      if (op.hasTrait<OpTrait::IsTerminator>()) return takeAll(env, op.getOpOperands());
      run(op, env);
    }
    fail("eager: block without terminator");
  }

  void run(Operation &op, Env &env) {
    llvm::TypeSwitch<Operation *>(&op)
        .Case([&](func::CallOp call) {
          auto fn = module.lookupSymbol<func::FuncOp>(call.getCallee());
          if (!fn) fail("eager: unknown function @", call.getCallee().str());
          auto results = runFunction(fn, takeAll(env, call->getOpOperands()));
          for (auto [r, v] : llvm::zip(call.getResults(), results)) env[r] = std::move(v);
        })
        .Case([&](scf::ForOp loop) {
          int64_t lb = scalar(env, loop.getLowerBound()), ub = scalar(env, loop.getUpperBound()),
                  step = scalar(env, loop.getStep());
          std::vector<RtValue> carried;
          for (OpOperand &o : loop.getInitArgsMutable()) carried.push_back(take(env, o));
          Block &body = *loop.getBody();
          for (int64_t i = lb; i < ub; i += step) {
            env[body.getArgument(0)] = i;
            for (size_t k = 0; k < carried.size(); ++k)
              env[body.getArgument(unsigned(k + 1))] = std::move(carried[k]);
            carried = runBlock(body, env);
          }
          for (auto [r, v] : llvm::zip(loop.getResults(), carried)) env[r] = std::move(v);
        })
        .Case([&](scf::IfOp ifOp) {
          bool cond = scalar(env, ifOp.getCondition()) != 0;
          Region &region = cond ? ifOp.getThenRegion() : ifOp.getElseRegion();
          std::vector<RtValue> results;
          if (!region.empty()) results = runBlock(region.front(), env);
          for (auto [r, v] : llvm::zip(ifOp.getResults(), results)) env[r] = std::move(v);
        })
        .Case([&](arith::ConstantOp c) { env[c.getResult()] = constant(c.getValue()); })
        .Case([&](tensor::ExtractOp e) {
          const RtValue &src = get(env, e.getTensor());
          const Tensor &t = std::get<Tensor>(src);
          size_t flat = 0;
          auto shape = staticShape(e.getTensor().getType());
          for (size_t d = 0; d < shape.size(); ++d)
            flat = flat * shape[d] + size_t(scalar(env, e.getIndices()[d]));
          if (!t.i) fail("eager: tensor.extract of a float tensor is not supported");
          env[e.getResult()] = int64_t(t.i->data()[flat]);
        })
        .Case([&](tensor::ExpandShapeOp r) { reshape(env, r.getSrc(), r.getResult()); })
        .Case([&](tensor::CollapseShapeOp r) { reshape(env, r.getSrc(), r.getResult()); })
        .Default([&](Operation *o) { runQ3(*o, env); });
  }

  RtValue constant(Attribute attr) {
    if (auto i = llvm::dyn_cast<IntegerAttr>(attr)) return i.getValue().getSExtValue();
    if (auto bools = llvm::dyn_cast<DenseIntElementsAttr>(attr)) {
      xt::xarray<int32_t> a(staticShape(bools.getType()));
      size_t k = 0;
      for (const APInt &v : bools.getValues<APInt>())
        a.data()[k++] = int32_t(v.getBitWidth() == 1 ? v.getZExtValue() : v.getSExtValue());
      return Tensor::ints(std::move(a));
    }
    if (auto fl = llvm::dyn_cast<DenseFPElementsAttr>(attr)) {
      xt::xarray<float> a(staticShape(fl.getType()));
      size_t k = 0;
      for (const APFloat &v : fl.getValues<APFloat>()) a.data()[k++] = float(v.convertToDouble());
      return Tensor::floats(std::move(a));
    }
    fail("eager: unsupported constant");
  }

  void reshape(Env &env, Value src, Value result) {
    const Tensor &t = std::get<Tensor>(get(env, src));
    auto shape = staticShape(result.getType());
    if (t.f) {
      xt::xarray<float> a = *t.f;
      a.reshape(shape);
      env[result] = Tensor::floats(std::move(a));
    } else {
      xt::xarray<int32_t> a = *t.i;
      a.reshape(shape);
      env[result] = Tensor::ints(std::move(a));
    }
  }

  // --- q3 ops --------------------------------------------------------------

  void runQ3(Operation &op, Env &env) {
    llvm::TypeSwitch<Operation *>(&op)
        .Case([&](q3::WeightOp w) { env[w.getResult()] = weight(env, w); })
        .Case([&](q3::EmbeddingOp e) {
          setFloats(env, e.getResult(), embedding(floats(env, e.getTable()), ints(env, e.getIds())));
        })
        .Case([&](q3::RMSNormOp n) {
          setFloats(env, n.getResult(),
                    rmsNorm(floats(env, n.getInput()), floats(env, n.getWeight()),
                            n.getEpsAttr().getValueAsDouble()));
        })
        .Case([&](q3::LinearOp l) {
          if (l.getScales()) fail("eager: quantised q3.linear is not supported yet");
          setFloats(env, l.getResult(), linear(floats(env, l.getInput()), floats(env, l.getWeight())));
        })
        // The fused ops are defined as the unfused ops they replace, so the
        // interpreter runs them by composition: the differential tests then
        // compare a pass's output with its input on the same arithmetic.
        .Case([&](q3::LinearResidualOp l) {
          setFloats(env, l.getResult(),
                    linear(floats(env, l.getInput()), floats(env, l.getWeight())) +
                        floats(env, l.getResidual()));
        })
        .Case([&](q3::LinearSwiGLUOp l) {
          xt::xarray<float> y = linear(normOnLoad(env, l.getInput(), l.getNorm(), l.getNormEpsAttr()),
                                       floats(env, l.getWeight()));
          size_t I = y.shape().back() / 2;
          xt::xarray<float> gate = xt::strided_view(y, {xt::ellipsis(), xt::range(0, I)});
          xt::xarray<float> up = xt::strided_view(y, {xt::ellipsis(), xt::range(I, 2 * I)});
          setFloats(env, l.getResult(), swiglu(gate, up));
        })
        .Case([&](q3::LinearSplitOp l) {
          xt::xarray<float> y = linear(normOnLoad(env, l.getInput(), l.getNorm(), l.getNormEpsAttr()),
                                       floats(env, l.getWeight()));
          size_t start = 0;
          for (Value r : l.getResults()) {
            size_t n = size_t(llvm::cast<RankedTensorType>(r.getType()).getShape().back());
            setFloats(env, r, xt::strided_view(y, {xt::ellipsis(), xt::range(start, start + n)}));
            start += n;
          }
        })
        .Case([&](q3::ConcatOp c) {
          auto shape = staticShape(c.getResult().getType());
          auto arr = std::make_shared<xt::xarray<float>>(shape);
          size_t at = 0;
          for (Value v : c.getInputs()) {
            xt::xarray<float> part = floats(env, v);
            std::copy_n(part.data(), part.size(), arr->data() + at);
            at += part.size();
          }
          env[c.getResult()] = Tensor{arr, nullptr};
        })
        .Case([&](q3::NormRopeOp r) { setFloats(env, r.getResult(), normRope(env, r)); })
        .Case([&](q3::NormRopeWriteOp w) {
          xt::xarray<float> value = normRope(env, w);
          roundTo(w.getInput().getType(), value); // what q3.rope's result would hold
          writeCache(env, w, 2, std::move(value), scalar(env, w.getLayer()), scalar(env, w.getOffset()));
        })
        .Case([&](q3::RopeOp r) {
          setFloats(env, r.getResult(),
                    rope(floats(env, r.getInput()), scalar(env, r.getOffset()),
                         q3::ropeSpecOf(r), r.getStyle() == q3::RopeStyle::SplitHalves));
        })
        .Case([&](q3::KVWriteOp w) {
          writeCache(env, w, 1, floats(env, w.getValue()), scalar(env, w.getLayer()), scalar(env, w.getOffset()));
        })
        .Case([&](q3::AttentionOp a) {
          setFloats(env, a.getResult(),
                    attention(floats(env, a.getQuery()), floats(env, a.getKeys()),
                              floats(env, a.getValues()), scalar(env, a.getLayer()),
                              scalar(env, a.getOffset()), a.getScaleAttr().getValueAsDouble()));
        })
        .Case([&](q3::SiLUOp s) { setFloats(env, s.getResult(), silu(floats(env, s.getInput()))); })
        .Case([&](q3::SwiGLUOp s) {
          setFloats(env, s.getResult(), swiglu(floats(env, s.getGate()), floats(env, s.getUp())));
        })
        .Case([&](q3::AddOp a) {
          setFloats(env, a.getResult(), floats(env, a.getLhs()) + floats(env, a.getRhs()));
        })
        .Case([&](q3::MulOp m) {
          setFloats(env, m.getResult(), floats(env, m.getLhs()) * floats(env, m.getRhs()));
        })
        .Case([&](q3::MoERouterOp r) {
          xt::xarray<float> w;
          xt::xarray<int32_t> e;
          moeRouter(floats(env, r.getLogits()), r.getTopKAttr().getInt(),
                    r.getNormTopkProb(), w, e);
          setFloats(env, r.getWeights(), std::move(w));
          env[r.getExperts()] = Tensor::ints(std::move(e));
        })
        .Case([&](q3::MoEExpertsOp m) {
          setFloats(env, m.getResult(),
                    moeExperts(floats(env, m.getInput()), floats(env, m.getWeights()),
                               ints(env, m.getExperts()), floats(env, m.getGate()),
                               floats(env, m.getUp()), floats(env, m.getDown())));
        })
        .Case([&](q3::ArgmaxOp a) {
          env[a.getResult()] = Tensor::ints(argmax(floats(env, a.getInput())));
        })
        .Default([&](Operation *o) {
          fail("eager: unsupported op '", o->getName().getStringRef().str(), "'");
        });
  }

  // q3.kv_write's effect for `op`, whose operand `cacheOperand` is the cache
  // and whose result is the updated cache: in place when the cache has no
  // other holder, else a copy.
  void writeCache(Env &env, Operation *op, unsigned cacheOperand, xt::xarray<float> value, int64_t layer,
                  int64_t offset) {
    Tensor cache = std::get<Tensor>(take(env, op->getOpOperand(cacheOperand)));
    if (cache.f.use_count() != 1) cache = Tensor::floats(*cache.f);
    roundTo(op->getOperand(cacheOperand).getType(), value);
    kvWrite(*cache.f, value, layer, offset);
    env[op->getResult(0)] = std::move(cache);
  }

  // q3.rms_norm then q3.rope, the norm's result rounded as q3.rms_norm's is.
  template <typename Op> xt::xarray<float> normRope(Env &env, Op op) {
    xt::xarray<float> normed =
        rmsNorm(floats(env, op.getInput()), floats(env, op.getNorm()), op.getEpsAttr().getValueAsDouble());
    roundTo(op.getInput().getType(), normed);
    return rope(normed, scalar(env, op.getOffset()), q3::ropeSpecOf(op), op.getStyle() == q3::RopeStyle::SplitHalves);
  }

  // The input of a fused linear, normalised first when it has a norm.
  xt::xarray<float> normOnLoad(Env &env, Value input, Value norm, FloatAttr eps) {
    xt::xarray<float> x = floats(env, input);
    if (!norm) return x;
    xt::xarray<float> n = rmsNorm(x, floats(env, norm), eps.getValueAsDouble());
    roundTo(input.getType(), n); // what q3.rms_norm's result would hold
    return n;
  }

  // Expands {layer}, stacks {expert}, checks the shape the IR declares.
  Tensor weight(Env &env, q3::WeightOp w) {
    int64_t layer = w.getLayer() ? scalar(env, w.getLayer()) : -1;
    std::string name = expandName(w.getName().str(), layer);
    auto type = w.getResult().getType();
    auto expected = staticShape(type);
    if (name.find("{expert}") == std::string::npos) {
      auto arr = weights.get(name);
      if (!std::equal(arr->shape().begin(), arr->shape().end(), expected.begin(), expected.end()))
        fail("weight '", name, "' has shape ", shapeOf(std::vector<int64_t>(arr->shape().begin(), arr->shape().end())),
             " but the IR expects ", shapeOf(type.getShape()));
      // Shared, never written: kv_write only mutates values it holds alone.
      return Tensor{std::const_pointer_cast<xt::xarray<float>>(arr), nullptr};
    }
    std::string key = name + "#stacked";
    if (auto it = stacked.find(key); it != stacked.end()) return Tensor{it->second, nullptr};
    auto arr = std::make_shared<xt::xarray<float>>(expected);
    size_t per = arr->size() / expected[0];
    for (size_t e = 0; e < expected[0]; ++e) {
      auto part = weights.get(expandName(name, -1, int64_t(e)));
      if (part->size() != per)
        fail("weight '", expandName(name, -1, int64_t(e)), "' does not match the IR's ",
             shapeOf(type.getShape()));
      std::copy_n(part->data(), per, arr->data() + e * per);
    }
    stacked.emplace(key, arr);
    return Tensor{arr, nullptr};
  }

  std::map<std::string, std::shared_ptr<xt::xarray<float>>> stacked;
};

Interpreter::Interpreter(ModuleOp module, WeightSource &weights)
    : impl(std::make_unique<Impl>(module, weights)) {}
Interpreter::~Interpreter() = default;

std::vector<RtValue> Interpreter::call(const std::string &function, std::vector<RtValue> args) {
  auto fn = impl->module.lookupSymbol<func::FuncOp>(function);
  if (!fn) fail("eager: the module has no function @", function);
  return impl->runFunction(fn, std::move(args));
}

} // namespace q3c::eager
