//===- EagerModel.cpp -------------------------------------------------------===//
#include "tools/qwen3c/EagerModel.h"
#include "frontend/Error.h"
#include "frontend/TensorInventory.h"

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
  interp = std::make_unique<eager::Interpreter>(*module, weights);
  weights.preload();
  const ModelConfig &c = ck.config();
  std::vector<size_t> cacheShape{size_t(c.numLayers), size_t(c.numKVHeads), size_t(maxContext),
                                 size_t(c.headDim)};
  kCache = eager::Tensor::floats(xt::zeros<float>(cacheShape));
  vCache = eager::Tensor::floats(xt::zeros<float>(cacheShape));
}

std::vector<float> EagerModel::forward(const std::vector<int32_t> &tokens, int64_t pos) {
  const int64_t V = ck.config().vocabSize, n = int64_t(tokens.size());
  if (pos + n > options.maxContext)
    fail("positions ", pos, "..", pos + n - 1, " exceed the context of ", options.maxContext);
  std::vector<float> logits;
  logits.reserve(size_t(n * V));
  for (int64_t start = 0; start < n;) {
    bool decode = n - start == 1;
    int64_t T = decode ? 1 : options.prefillChunk, valid = std::min(T, n - start);
    xt::xarray<int32_t> ids = xt::zeros<int32_t>({size_t(T)});
    std::copy_n(tokens.begin() + start, valid, ids.begin());
    std::vector<eager::RtValue> args;
    args.push_back(eager::Tensor::ints(std::move(ids)));
    args.push_back(int64_t(pos + start));
    args.push_back(std::move(kCache));
    args.push_back(std::move(vCache));
    auto results = interp->call(decode ? "decode" : "prefill", std::move(args));
    const auto &out = *std::get<eager::Tensor>(results[0]).f;
    logits.insert(logits.end(), out.data(), out.data() + valid * V);
    kCache = std::get<eager::Tensor>(std::move(results[1]));
    vCache = std::get<eager::Tensor>(std::move(results[2]));
    start += valid;
  }
  return logits;
}

} // namespace q3c
