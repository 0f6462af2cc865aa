//===- EagerModel.cpp -------------------------------------------------------===//
#include "tools/qwen3c/EagerModel.h"
#include "frontend/Error.h"
#include "frontend/TensorInventory.h"
#include "runtime/Generate.h"

#include <xtensor/xadapt.hpp>

#include "dialect/Q3Dialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"

#include <algorithm>

namespace q3c {

EagerModel::EagerModel(const std::string &dir, int64_t chunk, int64_t maxContext)
    : ck(Checkpoint::open(dir)), weights(ck) {
  options.prefillChunk = chunk;
  options.maxContext = maxContext;
  // Declare each weight with the dtype the checkpoint stores it in (that of
  // the first layer that has it).
  options.weightDType = [this](const std::string &pattern) -> DType {
    const ModelConfig &c = ck.config();
    bool perLayer = pattern.find("{layer}") != std::string::npos;
    for (int64_t l = 0; l < (perLayer ? c.numLayers : 1); ++l) {
      std::string name = expandName(pattern, perLayer ? l : -1, 0);
      if (ck.tensors().count(name) || name == "lm_head.weight") return ck.tensor(name).dtype;
    }
    fail(ck.dir(), ": no tensor matches '", pattern, "'");
  };
  module = buildModel(ctx, ck.config(), options);
  start();
}

EagerModel::EagerModel(const std::string &dir, const std::string &irPath) : ck(Checkpoint::open(dir)), weights(ck) {
  ctx.loadDialect<q3::Q3Dialect, mlir::func::FuncDialect, mlir::arith::ArithDialect, mlir::scf::SCFDialect,
                  mlir::tensor::TensorDialect>();
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &d) {
    diagnostics += d.str() + "\n";
    return mlir::success();
  });
  module = mlir::parseSourceFile<mlir::ModuleOp>(irPath, &ctx);
  if (!module) fail(irPath, ": not a valid q3 module: ", diagnostics);
  auto prefill = module->lookupSymbol<mlir::func::FuncOp>("prefill");
  auto decode = module->lookupSymbol<mlir::func::FuncOp>("decode");
  if (!prefill || !decode || prefill.getNumArguments() != 4)
    fail(irPath, ": needs @prefill and @decode (tokens, position, k cache, v cache)");
  auto tokens = llvm::dyn_cast<mlir::RankedTensorType>(prefill.getArgumentTypes()[0]);
  auto cache = llvm::dyn_cast<mlir::RankedTensorType>(prefill.getArgumentTypes()[2]);
  const ModelConfig &c = ck.config();
  if (!tokens || tokens.getRank() != 1 || !cache || cache.getRank() != 4 || cache.getDimSize(0) != c.numLayers ||
      cache.getDimSize(1) != c.numKVHeads || cache.getDimSize(3) != c.headDim)
    fail(irPath, ": @prefill's signature does not match ", dir, "/config.json");
  options.prefillChunk = tokens.getDimSize(0);
  options.maxContext = cache.getDimSize(2);
  start();
}

void EagerModel::start() {
  interp = std::make_unique<eager::Interpreter>(*module, weights);
  weights.preload();
  const ModelConfig &c = ck.config();
  std::vector<size_t> cacheShape{size_t(c.numLayers), size_t(c.numKVHeads), size_t(options.maxContext),
                                 size_t(c.headDim)};
  kCache = eager::Tensor::floats(xt::zeros<float>(cacheShape));
  vCache = eager::Tensor::floats(xt::zeros<float>(cacheShape));
}

std::vector<float> EagerModel::forward(const std::vector<int32_t> &tokens, int64_t pos, bool allRows) {
  eager::Tensor out;
  return qwen3c_rt::evaluateInChunks(
      tokens, pos, qwen3c_rt::ChunkShapes{options.prefillChunk, {options.prefillChunk}}, ck.config().vocabSize, options.maxContext, allRows,
      [&](const std::vector<int32_t> &ids, int64_t position, bool decode, bool, int64_t) { // every row's logits
        std::vector<eager::RtValue> args;
        args.push_back(eager::Tensor::ints(xt::adapt(ids, {ids.size()})));
        args.push_back(position);
        args.push_back(std::move(kCache));
        args.push_back(std::move(vCache));
        auto results = interp->call(decode ? "decode" : "prefill", std::move(args));
        out = std::get<eager::Tensor>(std::move(results[0]));
        kCache = std::get<eager::Tensor>(std::move(results[1]));
        vCache = std::get<eager::Tensor>(std::move(results[2]));
        return static_cast<const float *>(out.f->data());
      });
}

} // namespace q3c
