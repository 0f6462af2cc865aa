//===- ModelConfig.cpp - config.json parsing and validation -----------------===//
#include "frontend/ModelConfig.h"
#include "frontend/Error.h"
#include "frontend/TensorInventory.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <fstream>

namespace q3c {
namespace {

// Reads keys of one JSON object, naming the file and key in every error.
class Reader {
public:
  Reader(const nlohmann::json &j, const std::string &source) : j(j), source(source) {}

  bool has(const char *key) const { return j.contains(key) && !j.at(key).is_null(); }

  int64_t integer(const char *key) const {
    if (!has(key)) fail(source, ": missing key '", key, "'");
    return integerValue(j.at(key), key);
  }
  int64_t integer(const char *key, int64_t dflt) const {
    return has(key) ? integerValue(j.at(key), key) : dflt;
  }
  // Sizes: positive, and small enough that products of a few of them (tensor
  // element counts) cannot overflow 64 bits.
  int64_t positive(const char *key) const {
    int64_t v = integer(key);
    if (v <= 0) fail(source, ": '", key, "' must be positive, got ", v);
    if (v > (int64_t(1) << 24)) fail(source, ": '", key, "' = ", v, " is implausibly large");
    return v;
  }
  double number(const char *key, double dflt) const {
    if (!has(key)) return dflt;
    const auto &v = j.at(key);
    if (!v.is_number()) fail(source, ": '", key, "' must be a number, got ", v.dump());
    return v.get<double>();
  }
  bool boolean(const char *key, bool dflt) const {
    if (!has(key)) return dflt;
    const auto &v = j.at(key);
    if (!v.is_boolean()) fail(source, ": '", key, "' must be true or false, got ", v.dump());
    return v.get<bool>();
  }
  std::string string(const char *key, const std::string &dflt) const {
    if (!has(key)) return dflt;
    const auto &v = j.at(key);
    if (!v.is_string()) fail(source, ": '", key, "' must be a string, got ", v.dump());
    return v.get<std::string>();
  }
  // An integer or a list of integers (eos_token_id takes both forms).
  std::vector<int64_t> integers(const char *key) const {
    std::vector<int64_t> out;
    if (!has(key)) return out;
    const auto &v = j.at(key);
    if (v.is_array()) {
      for (const auto &e : v) out.push_back(integerValue(e, key));
    } else {
      out.push_back(integerValue(v, key));
    }
    return out;
  }

private:
  int64_t integerValue(const nlohmann::json &v, const char *key) const {
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX))
      fail(source, ": '", key, "' is out of range: ", v.dump());
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_number_float()) { // 1e6-style integers
      double d = v.get<double>();
      if (std::isfinite(d) && std::fabs(d) < 9.0e18 && d == std::floor(d)) return int64_t(d);
    }
    fail(source, ": '", key, "' must be an integer, got ", v.dump());
  }

  const nlohmann::json &j;
  const std::string &source;
};

// rope_scaling: YaRN (rope_type or type "yarn"), or "default" (none).
// Other types fail naming the type.
std::optional<q3::YarnScaling> parseRopeScaling(const nlohmann::json &j, const std::string &source, int64_t maxPositions) {
  if (!j.is_object()) fail(source, ": rope_scaling must be an object or null, got ", j.dump());
  Reader r(j, source);
  const std::string type = r.string("rope_type", r.string("type", ""));
  if (type == "default") return std::nullopt;
  if (type != "yarn")
    fail(source, ": rope_scaling type '", type, "' is not supported (yarn, or null)");
  for (const char *key : {"mscale", "mscale_all_dim", "truncate"})
    if (r.has(key)) fail(source, ": rope_scaling '", key, "' is not supported (Qwen3's YaRN has none)");
  q3::YarnScaling y;
  y.factor = r.number("factor", 0);
  if (!(y.factor >= 1) || !std::isfinite(y.factor)) fail(source, ": rope_scaling 'factor' must be a number of at least 1");
  y.originalContext = r.integer("original_max_position_embeddings", maxPositions);
  if (y.originalContext <= 0) fail(source, ": rope_scaling 'original_max_position_embeddings' must be positive");
  y.betaFast = r.number("beta_fast", 32);
  y.betaSlow = r.number("beta_slow", 1);
  if (!(y.betaFast > 0) || !(y.betaSlow > 0)) fail(source, ": rope_scaling 'beta_fast' and 'beta_slow' must be positive");
  y.attentionFactor = r.has("attention_factor") ? r.number("attention_factor", 1) : q3::yarnDefaultAttentionFactor(y.factor);
  return y;
}

} // namespace

bool ModelConfig::isSparseLayer(int64_t layer) const {
  if (!moe || numExperts <= 0) return false;
  if (std::find(mlpOnlyLayers.begin(), mlpOnlyLayers.end(), layer) != mlpOnlyLayers.end())
    return false;
  return (layer + 1) % decoderSparseStep == 0;
}

ModelConfig ModelConfig::fromJson(const nlohmann::json &j, const std::string &source) {
  if (!j.is_object()) fail(source, ": expected a JSON object");
  Reader r(j, source);
  ModelConfig c;

  std::string modelType = r.string("model_type", "");
  if (r.has("architectures")) {
    const auto &a = j.at("architectures");
    if (!a.is_array() || a.empty() || !a[0].is_string())
      fail(source, ": 'architectures' must be a non-empty list of strings");
    c.architecture = a[0].get<std::string>();
  } else if (modelType == "qwen3") {
    c.architecture = "Qwen3ForCausalLM";
  } else if (modelType == "qwen3_moe") {
    c.architecture = "Qwen3MoeForCausalLM";
  }
  if (c.architecture == "Qwen3MoeForCausalLM") {
    c.moe = true;
  } else if (c.architecture != "Qwen3ForCausalLM") {
    fail(source, ": unsupported architecture '", c.architecture,
         "' (qwen3c compiles Qwen3ForCausalLM and Qwen3MoeForCausalLM)");
  }

  c.hiddenSize = r.positive("hidden_size");
  c.numLayers = r.positive("num_hidden_layers");
  c.numHeads = r.positive("num_attention_heads");
  c.numKVHeads = r.has("num_key_value_heads") ? r.positive("num_key_value_heads") : c.numHeads;
  if (c.numHeads % c.numKVHeads != 0)
    fail(source, ": num_attention_heads (", c.numHeads,
         ") must be a multiple of num_key_value_heads (", c.numKVHeads, ")");
  if (r.has("head_dim")) {
    c.headDim = r.positive("head_dim");
  } else {
    if (c.hiddenSize % c.numHeads != 0)
      fail(source, ": no 'head_dim' and hidden_size is not a multiple of num_attention_heads");
    c.headDim = c.hiddenSize / c.numHeads;
  }
  if (c.headDim % 2 != 0) fail(source, ": 'head_dim' must be even for RoPE, got ", c.headDim);
  c.vocabSize = r.positive("vocab_size");
  c.maxPositionEmbeddings = r.positive("max_position_embeddings");
  c.rmsNormEps = r.number("rms_norm_eps", 1e-6);
  if (!(c.rmsNormEps > 0)) fail(source, ": 'rms_norm_eps' must be positive");
  c.ropeTheta = r.number("rope_theta", 10000.0);
  if (!(c.ropeTheta > 1)) fail(source, ": 'rope_theta' must be greater than 1");
  c.tieWordEmbeddings = r.boolean("tie_word_embeddings", false);
  std::string dtype = r.string("torch_dtype", r.string("dtype", "bfloat16"));
  auto dt = parseTorchDType(dtype);
  if (!dt) fail(source, ": unsupported torch_dtype '", dtype, "' (float32, bfloat16, float16)");
  c.torchDtype = *dt;
  c.bosTokenId = r.integer("bos_token_id", -1);
  c.eosTokenIds = r.integers("eos_token_id");

  // Features of the wider Qwen family that these models do not use.
  if (r.has("rope_scaling")) c.yarn = parseRopeScaling(j.at("rope_scaling"), source, c.maxPositionEmbeddings);
  if (r.string("hidden_act", "silu") != "silu")
    fail(source, ": hidden_act '", r.string("hidden_act", ""), "' is not supported (silu)");
  if (r.boolean("attention_bias", false))
    fail(source, ": attention_bias true is not supported (Qwen3 has no attention bias)");
  if (r.boolean("use_sliding_window", false))
    fail(source, ": use_sliding_window true is not supported");

  if (c.moe) {
    c.numExperts = r.positive("num_experts");
    c.numExpertsPerTok = r.positive("num_experts_per_tok");
    if (c.numExpertsPerTok > c.numExperts)
      fail(source, ": num_experts_per_tok (", c.numExpertsPerTok, ") exceeds num_experts (",
           c.numExperts, ")");
    c.moeIntermediateSize = r.positive("moe_intermediate_size");
    c.normTopkProb = r.boolean("norm_topk_prob", false);
    c.decoderSparseStep = r.integer("decoder_sparse_step", 1);
    if (c.decoderSparseStep <= 0)
      fail(source, ": 'decoder_sparse_step' must be positive, got ", c.decoderSparseStep);
    c.mlpOnlyLayers = r.integers("mlp_only_layers");
    for (int64_t l : c.mlpOnlyLayers)
      if (l < 0 || l >= c.numLayers)
        fail(source, ": mlp_only_layers entry ", l, " is not a layer index (0..",
             c.numLayers - 1, ")");
  }
  bool anyDense = false;
  for (int64_t l = 0; l < c.numLayers; ++l) anyDense |= !c.isSparseLayer(l);
  c.intermediateSize = anyDense ? r.positive("intermediate_size")
                                : r.integer("intermediate_size", 0);
  return c;
}

ModelConfig ModelConfig::load(const std::string &path) {
  std::ifstream in(path);
  if (!in) fail(path, ": cannot open");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception &e) {
    fail(path, ": malformed JSON: ", e.what());
  }
  return fromJson(j, path);
}

nlohmann::json ModelConfig::toJson() const {
  nlohmann::json j;
  j["architectures"] = {architecture};
  j["model_type"] = moe ? "qwen3_moe" : "qwen3";
  j["attention_bias"] = false;
  j["attention_dropout"] = 0.0;
  j["bos_token_id"] = bosTokenId;
  j["eos_token_id"] = eosTokenIds.size() == 1 ? nlohmann::json(eosTokenIds[0])
                                              : nlohmann::json(eosTokenIds);
  j["head_dim"] = headDim;
  j["hidden_act"] = "silu";
  j["hidden_size"] = hiddenSize;
  j["initializer_range"] = 0.02;
  j["intermediate_size"] = intermediateSize;
  j["max_position_embeddings"] = maxPositionEmbeddings;
  j["num_attention_heads"] = numHeads;
  j["num_hidden_layers"] = numLayers;
  j["num_key_value_heads"] = numKVHeads;
  j["rms_norm_eps"] = rmsNormEps;
  if (yarn)
    j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", yarn->factor},
                         {"original_max_position_embeddings", yarn->originalContext}, {"beta_fast", yarn->betaFast},
                         {"beta_slow", yarn->betaSlow}, {"attention_factor", yarn->attentionFactor}};
  else
    j["rope_scaling"] = nullptr;
  j["rope_theta"] = ropeTheta;
  j["sliding_window"] = nullptr;
  j["tie_word_embeddings"] = tieWordEmbeddings;
  j["torch_dtype"] = torchDtype == DType::F32    ? "float32"
                     : torchDtype == DType::BF16 ? "bfloat16"
                                                 : "float16";
  j["use_cache"] = true;
  j["use_sliding_window"] = false;
  j["vocab_size"] = vocabSize;
  if (moe) {
    j["decoder_sparse_step"] = decoderSparseStep;
    j["mlp_only_layers"] = mlpOnlyLayers;
    j["moe_intermediate_size"] = moeIntermediateSize;
    j["norm_topk_prob"] = normTopkProb;
    j["num_experts"] = numExperts;
    j["num_experts_per_tok"] = numExpertsPerTok;
  }
  return j;
}

int64_t ModelConfig::parameterCount() const {
  int64_t n = 0;
  for (const auto &t : expectedTensors(*this)) n += t.numel();
  return n;
}

int64_t ModelConfig::activeParameterCount() const {
  int64_t n = parameterCount();
  if (!moe) return n;
  int64_t perExpert = 3 * moeIntermediateSize * hiddenSize;
  for (int64_t l = 0; l < numLayers; ++l)
    if (isSparseLayer(l)) n -= (numExperts - numExpertsPerTok) * perExpert;
  return n;
}

} // namespace q3c
