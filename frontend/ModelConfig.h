//===- ModelConfig.h - a Qwen3 config.json, validated ----------*- C++ -*-===//
#ifndef QWEN3C_FRONTEND_MODELCONFIG_H
#define QWEN3C_FRONTEND_MODELCONFIG_H

#include "dialect/RopeFrequencies.h"
#include "frontend/DType.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace q3c {

struct ModelConfig {
  std::string architecture; // Qwen3ForCausalLM or Qwen3MoeForCausalLM
  bool moe = false;

  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0; // dense FFN width (unused when every layer is sparse)
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t numKVHeads = 0;
  int64_t headDim = 0;
  double rmsNormEps = 1e-6;
  double ropeTheta = 1e6;
  // rope_scaling {"rope_type": "yarn", ...} (Hugging Face's YaRN): the
  // positions reach `factor` times `originalContext`.
  std::optional<q3::YarnScaling> yarn;
  int64_t maxPositionEmbeddings = 0;
  int64_t vocabSize = 0;
  bool tieWordEmbeddings = false;
  DType torchDtype = DType::BF16;
  int64_t bosTokenId = -1;
  std::vector<int64_t> eosTokenIds;

  // Mixture of experts (Qwen3MoeForCausalLM only).
  int64_t numExperts = 0;
  int64_t numExpertsPerTok = 0;
  int64_t moeIntermediateSize = 0;
  bool normTopkProb = true;
  int64_t decoderSparseStep = 1;
  std::vector<int64_t> mlpOnlyLayers;

  // Hugging Face's rule: a layer is sparse unless listed in mlp_only_layers,
  // and then only every decoder_sparse_step-th layer (1-based).
  bool isSparseLayer(int64_t layer) const;

  // The positions a build may hold: max_position_embeddings, or with YaRN
  // factor * original_max_position_embeddings when that is more (Qwen3's
  // 32K models reach 128K so).
  int64_t positionLimit() const {
    if (!yarn) return maxPositionEmbeddings;
    const double scaled = yarn->factor * double(yarn->originalContext);
    return scaled > double(maxPositionEmbeddings) && scaled < 9.0e15 ? int64_t(scaled) : maxPositionEmbeddings;
  }
  // The KV-cache capacity `build`, `emit-ir` and `run-eager` use without
  // --max-context: min(4096, max_position_embeddings).
  int64_t defaultContext() const { return maxPositionEmbeddings < 4096 ? maxPositionEmbeddings : 4096; }

  // Parameters: all of them, and those one token touches (MoE: k experts).
  int64_t parameterCount() const;
  int64_t activeParameterCount() const;

  // `source` names the file in error messages.
  static ModelConfig fromJson(const nlohmann::json &j, const std::string &source);
  static ModelConfig load(const std::string &path);
  nlohmann::json toJson() const;
};

} // namespace q3c

#endif
