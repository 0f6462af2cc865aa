//===- EagerModel.h - a checkpoint run by the eager interpreter -*- C++ -*-===//
#ifndef QWEN3C_TOOLS_EAGERMODEL_H
#define QWEN3C_TOOLS_EAGERMODEL_H

#include "eager/Interpreter.h"
#include "frontend/Checkpoint.h"
#include "frontend/GraphBuilder.h"

#include "mlir/IR/MLIRContext.h"

#include <memory>
#include <vector>

namespace q3c {

// Builds the q3 graph for a checkpoint and evaluates token chunks with the
// interpreter, holding the KV cache between calls: the eager twin of a
// compiled model's context.
class EagerModel {
public:
  EagerModel(const std::string &checkpointDir, int64_t chunk, int64_t maxContext);
  // Runs the q3 module in `irPath` (for instance the output of a pass) with
  // the checkpoint's weights instead of building one: the differential
  // harness for passes. Chunk and context come from its @prefill signature.
  EagerModel(const std::string &checkpointDir, const std::string &irPath);

  const ModelConfig &config() const { return ck.config(); }
  int64_t maxContext() const { return options.maxContext; }

  // Evaluates `tokens` at positions pos .. pos+n-1 (prefill chunks of the
  // compiled chunk size, padded; or one decode step) and returns n rows of
  // vocab_size logits.
  std::vector<float> forward(const std::vector<int32_t> &tokens, int64_t pos, bool allRows);

private:
  void start(); // interpreter, weights, KV caches
  Checkpoint ck;
  GraphOptions options;
  mlir::MLIRContext ctx;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  eager::CheckpointWeights weights;
  std::unique_ptr<eager::Interpreter> interp;
  eager::Tensor kCache, vCache;
};

} // namespace q3c

#endif
