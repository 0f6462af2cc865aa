//===- CheckpointWriter.cpp - `qwen3c make-checkpoint` ----------------------===//
#include "frontend/CheckpointWriter.h"
#include "frontend/AtomicFile.h"
#include "frontend/Error.h"
#include "frontend/SafeTensors.h"
#include "frontend/TensorInventory.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;

namespace q3c {
namespace {

// splitmix64: a fast, well-mixed stream; each tensor is seeded from its name
// so its values do not depend on the order tensors are written in.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform() { return float(next() >> 40) * (1.0f / float(1 << 24)) * 2.0f - 1.0f; }
};

uint64_t hashName(const std::string &s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  return h;
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Norm weights near 1; projections with variance 1/fan_in (activations keep
// their scale through the layers); embedding and head sized for logits of
// standard deviation about 3, far from a flat or one-hot softmax.
void fillTensor(const TensorSpec &spec, const ModelConfig &c, uint64_t seed, DType dtype,
                std::vector<uint8_t> &out) {
  Rng rng{seed ^ hashName(spec.name)};
  const std::string &n = spec.name;
  const size_t count = size_t(spec.numel());
  bool isNorm = endsWith(n, "norm.weight");
  float stddev;
  if (n == "model.embed_tokens.weight" || n == "lm_head.weight")
    stddev = 3.0f / std::sqrt(float(c.hiddenSize));
  else if (endsWith(n, "mlp.gate.weight"))
    stddev = 2.0f / std::sqrt(float(spec.shape.back())); // routing with clear preferences
  else if (isNorm)
    stddev = 0.1f;
  else
    stddev = 1.0f / std::sqrt(float(spec.shape.back()));
  const float a = stddev * std::sqrt(3.0f), base = isNorm ? 1.0f : 0.0f;
  out.resize(count * dtypeSize(dtype));
  if (dtype == DType::F32) {
    float *p = reinterpret_cast<float *>(out.data());
    for (size_t i = 0; i < count; ++i) p[i] = base + a * rng.uniform();
  } else {
    uint16_t *p = reinterpret_cast<uint16_t *>(out.data());
    bool bf = dtype == DType::BF16;
    for (size_t i = 0; i < count; ++i) {
      float v = base + a * rng.uniform();
      p[i] = bf ? f32ToBf16(v) : f32ToF16(v);
    }
  }
}

ModelConfig tinyDense() {
  ModelConfig c;
  c.architecture = "Qwen3ForCausalLM";
  c.hiddenSize = 64;
  c.intermediateSize = 160;
  c.numLayers = 3;
  c.numHeads = 4;
  c.numKVHeads = 2;
  c.headDim = 32; // deliberately != hidden / heads, as in the real 4B+ models
  c.rmsNormEps = 1e-6;
  c.ropeTheta = 1e6;
  c.maxPositionEmbeddings = 40960;
  c.vocabSize = 151936; // the real tokenizer's ids must be valid
  c.tieWordEmbeddings = true;
  c.bosTokenId = 151643;
  c.eosTokenIds = {151645, 151643};
  return c;
}

ModelConfig tinyMoE(bool normTopk) {
  ModelConfig c = tinyDense();
  c.architecture = "Qwen3MoeForCausalLM";
  c.moe = true;
  c.numKVHeads = 1;
  c.headDim = 16;
  c.intermediateSize = 96; // the dense layer in mlp_only_layers
  c.tieWordEmbeddings = false;
  c.numExperts = 8;
  c.numExpertsPerTok = 2;
  c.moeIntermediateSize = 32;
  c.normTopkProb = normTopk;
  c.decoderSparseStep = 1;
  c.mlpOnlyLayers = {1};
  return c;
}

ModelConfig qwen3_0_6b() {
  ModelConfig c;
  c.architecture = "Qwen3ForCausalLM";
  c.hiddenSize = 1024;
  c.intermediateSize = 3072;
  c.numLayers = 28;
  c.numHeads = 16;
  c.numKVHeads = 8;
  c.headDim = 128;
  c.rmsNormEps = 1e-6;
  c.ropeTheta = 1e6;
  c.maxPositionEmbeddings = 40960;
  c.vocabSize = 151936;
  c.tieWordEmbeddings = true;
  c.torchDtype = DType::BF16;
  c.bosTokenId = 151643;
  c.eosTokenIds = {151645};
  return c;
}

// Qwen3-30B-A3B's exact per-layer shapes, with 2 of its 48 layers.
ModelConfig qwen3_30b_a3b_reduced() {
  ModelConfig c;
  c.architecture = "Qwen3MoeForCausalLM";
  c.moe = true;
  c.hiddenSize = 2048;
  c.intermediateSize = 6144;
  c.numLayers = 2;
  c.numHeads = 32;
  c.numKVHeads = 4;
  c.headDim = 128;
  c.rmsNormEps = 1e-6;
  c.ropeTheta = 1e6;
  c.maxPositionEmbeddings = 40960;
  c.vocabSize = 151936;
  c.tieWordEmbeddings = false;
  c.torchDtype = DType::BF16;
  c.bosTokenId = 151643;
  c.eosTokenIds = {151645};
  c.numExperts = 128;
  c.numExpertsPerTok = 8;
  c.moeIntermediateSize = 768;
  c.normTopkProb = true;
  return c;
}

} // namespace

std::vector<std::string> presetNames() {
  return {"tiny-dense", "tiny-moe", "tiny-moe-nonorm", "qwen3-0.6b", "qwen3-30b-a3b-2l"};
}

ModelConfig presetConfig(const std::string &preset) {
  if (preset == "tiny-dense") return tinyDense();
  if (preset == "tiny-moe") return tinyMoE(true);
  if (preset == "tiny-moe-nonorm") return tinyMoE(false);
  if (preset == "qwen3-0.6b") return qwen3_0_6b();
  if (preset == "qwen3-30b-a3b-2l") return qwen3_30b_a3b_reduced();
  std::string names;
  for (const auto &p : presetNames()) names += (names.empty() ? "" : ", ") + p;
  fail("unknown preset '", preset, "' (", names, ")");
}

std::string defaultTokenizerDir() {
  if (const char *env = std::getenv("QWEN3C_TOKENIZER_DIR")) return env;
#ifdef QWEN3C_TOKENIZER_DIR
  return QWEN3C_TOKENIZER_DIR;
#else
  return "";
#endif
}

void makeCheckpoint(const MakeCheckpointOptions &o) {
  ModelConfig c = presetConfig(o.preset);
  c.torchDtype = o.dtype;
  nlohmann::json j = c.toJson();
  for (const auto &[key, value] : o.overrides) {
    try {
      j[key] = nlohmann::json::parse(value);
    } catch (const nlohmann::json::exception &) {
      j[key] = value; // a bare string
    }
  }
  c = ModelConfig::fromJson(j, "--set");

  std::string tokDir = o.tokenizerDir.empty() ? defaultTokenizerDir() : o.tokenizerDir;
  fs::path tokJson = fs::path(tokDir) / "tokenizer.json";
  fs::path tokConfig = fs::path(tokDir) / "tokenizer_config.json";
  if (tokDir.empty() || !fs::exists(tokJson) || !fs::exists(tokConfig))
    fail("tokenizer files not found in '", tokDir,
         "': run scripts/setup.sh or pass --tokenizer DIR");

  std::error_code ec;
  fs::create_directories(o.outDir, ec);
  if (ec || !fs::is_directory(o.outDir)) fail(o.outDir, ": cannot create folder: ", ec.message());
  fs::path out(o.outDir);
  // Stale weights from an earlier run would be read instead of ours.
  for (const auto &entry : fs::directory_iterator(out)) {
    std::string name = entry.path().filename().string();
    if (endsWith(name, ".safetensors") || name == "model.safetensors.index.json")
      fs::remove(entry.path());
  }

  std::vector<TensorSpec> specs = expectedTensors(c);
  // Group tensors into shards (one shard when shardBytes is 0).
  std::vector<std::vector<size_t>> shards(1);
  uint64_t used = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    uint64_t bytes = uint64_t(specs[i].numel()) * dtypeSize(o.dtype);
    if (o.shardBytes && used > 0 && used + bytes > o.shardBytes) {
      shards.emplace_back();
      used = 0;
    }
    shards.back().push_back(i);
    used += bytes;
  }
  nlohmann::json weightMap = nlohmann::json::object();
  uint64_t total = 0;
  for (size_t s = 0; s < shards.size(); ++s) {
    char name[64];
    if (shards.size() == 1)
      snprintf(name, sizeof name, "model.safetensors");
    else
      snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
    std::vector<TensorHeader> headers;
    for (size_t i : shards[s]) {
      headers.push_back({specs[i].name, o.dtype, specs[i].shape});
      weightMap[specs[i].name] = name;
      total += headers.back().nbytes();
    }
    writeSafeTensors((out / name).string(), headers, [&](size_t k, std::vector<uint8_t> &bytes) {
      fillTensor(specs[shards[s][k]], c, o.seed, o.dtype, bytes);
    });
  }
  if (shards.size() > 1) {
    nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weightMap}};
    writeFileAtomically((out / "model.safetensors.index.json").string(), index.dump(2) + "\n");
  }
  writeFileAtomically((out / "config.json").string(), c.toJson().dump(2) + "\n");
  fs::copy_file(tokJson, out / "tokenizer.json", fs::copy_options::overwrite_existing);
  fs::copy_file(tokConfig, out / "tokenizer_config.json", fs::copy_options::overwrite_existing);
}

} // namespace q3c
