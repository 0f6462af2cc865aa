//===- Interpreter.h - run q3 IR op by op ----------------------*- C++ -*-===//
//
// The in-tree eager baseline and the differential-testing oracle: it runs a
// q3 module (func/scf/arith/tensor glue plus q3 ops) directly, resolving
// q3.weight against a checkpoint.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_EAGER_INTERPRETER_H
#define QWEN3C_EAGER_INTERPRETER_H

#include "eager/Value.h"

#include "mlir/IR/BuiltinOps.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace q3c {
class Checkpoint;
}

namespace q3c::eager {

// Supplies weights by full checkpoint name, converted to f32.
class WeightSource {
public:
  virtual ~WeightSource() = default;
  virtual std::shared_ptr<const xt::xarray<float>> get(const std::string &name) = 0;
};

// Weights from a checkpoint, converted once and kept.
class CheckpointWeights : public WeightSource {
public:
  explicit CheckpointWeights(const Checkpoint &ck) : ck(ck) {}
  std::shared_ptr<const xt::xarray<float>> get(const std::string &name) override;
  // Converts every tensor now, so later timings measure compute only.
  void preload();

private:
  const Checkpoint &ck;
  std::map<std::string, std::shared_ptr<const xt::xarray<float>>> cache;
};

class Interpreter {
public:
  Interpreter(mlir::ModuleOp module, WeightSource &weights);
  ~Interpreter();

  // Calls a function of the module; arguments are consumed (moved).
  std::vector<RtValue> call(const std::string &function, std::vector<RtValue> args);

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace q3c::eager

#endif
