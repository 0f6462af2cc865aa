//===- GraphBuilder.h - a Qwen3 config as a q3 module -----------*- C++ -*-===//
#ifndef QWEN3C_FRONTEND_GRAPHBUILDER_H
#define QWEN3C_FRONTEND_GRAPHBUILDER_H

#include "frontend/DType.h"
#include "frontend/ModelConfig.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <functional>
#include <string>

namespace q3c {

struct GraphOptions {
  int64_t prefillChunk = 16;  // tokens per prefill call (the tail is padded)
  int64_t maxContext = 4096;  // KV-cache capacity
  DType cacheDType = DType::F32;
  // Element type of each weight, asked with the tensor name pattern
  // ("model.layers.{layer}.mlp.up_proj.weight"); by default torch_dtype.
  std::function<DType(const std::string &pattern)> weightDType;
};

// The module holds, for each entry point (`prefill` with T = prefillChunk,
// `decode` with T = 1):
//   func @<entry>(%tokens: tensor<Txi32>, %pos: index,
//                 %k_cache, %v_cache: tensor<L x kv_heads x capacity x head_dim>)
//       -> (logits tensor<T x vocab x f32>, k_cache, v_cache)
// which loops over layers calling one layer function per layer kind
// (@<entry>_dense_layer, @<entry>_moe_layer): never one copy per layer.
mlir::OwningOpRef<mlir::ModuleOp> buildModel(mlir::MLIRContext &ctx, const ModelConfig &config,
                                             const GraphOptions &options);

// Loads the dialects buildModel and the interpreter need.
void loadQ3Dialects(mlir::MLIRContext &ctx);

} // namespace q3c

#endif
