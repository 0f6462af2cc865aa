#include "frontend/Error.h"
#include "frontend/ModelConfig.h"

#include <gtest/gtest.h>

using namespace q3c;

namespace {
ModelConfig official(const std::string &name) {
  return ModelConfig::load(std::string(QWEN3C_CONFIGS_DIR) + "/" + name + ".json");
}
} // namespace

// Parameter counts Qwen publishes for each release.
TEST(ModelConfig, OfficialParameterCounts) {
  EXPECT_NEAR(official("Qwen3-0.6B").parameterCount() / 1e9, 0.6, 0.05);
  EXPECT_NEAR(official("Qwen3-8B").parameterCount() / 1e9, 8.2, 0.1);
  EXPECT_NEAR(official("Qwen3-32B").parameterCount() / 1e9, 32.8, 0.2);
  ModelConfig a3b = official("Qwen3-30B-A3B");
  EXPECT_NEAR(a3b.parameterCount() / 1e9, 30.5, 0.2);
  EXPECT_NEAR(a3b.activeParameterCount() / 1e9, 3.3, 0.1);
  ModelConfig big = official("Qwen3-235B-A22B");
  EXPECT_NEAR(big.parameterCount() / 1e9, 235.0, 1.0);
  EXPECT_NEAR(big.activeParameterCount() / 1e9, 22.0, 0.5);
}

TEST(ModelConfig, SparseLayerRule) {
  ModelConfig c = official("Qwen3-30B-A3B");
  EXPECT_TRUE(c.isSparseLayer(0));
  c.decoderSparseStep = 2;
  EXPECT_FALSE(c.isSparseLayer(0)); // (0 + 1) % 2 != 0
  EXPECT_TRUE(c.isSparseLayer(1));
  c.mlpOnlyLayers = {1};
  EXPECT_FALSE(c.isSparseLayer(1));
  EXPECT_FALSE(official("Qwen3-8B").isSparseLayer(0));
}

TEST(ModelConfig, DefaultsAndErrors) {
  nlohmann::json j = {{"architectures", {"Qwen3ForCausalLM"}}, {"hidden_size", 64},
                      {"intermediate_size", 128}, {"num_hidden_layers", 2},
                      {"num_attention_heads", 4}, {"vocab_size", 100},
                      {"max_position_embeddings", 512}, {"eos_token_id", {1, 2}}};
  ModelConfig c = ModelConfig::fromJson(j, "c.json");
  EXPECT_EQ(c.headDim, 16);
  EXPECT_EQ(c.numKVHeads, 4);
  EXPECT_EQ(c.eosTokenIds, (std::vector<int64_t>{1, 2}));
  auto message = [&] {
    try {
      ModelConfig::fromJson(j, "c.json");
    } catch (const Error &e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  j["hidden_size"] = "64";
  EXPECT_EQ(message(), "c.json: 'hidden_size' must be an integer, got \"64\"");
  // Found by fuzz-Config: a float too large for int64 was converted (UB).
  j["hidden_size"] = 1.77e41;
  EXPECT_EQ(message(), "c.json: 'hidden_size' must be an integer, got 1.77e+41");
  j["hidden_size"] = int64_t(1) << 40; // products of such sizes overflow
  EXPECT_EQ(message(), "c.json: 'hidden_size' = 1099511627776 is implausibly large");
  j["hidden_size"] = 0;
  EXPECT_EQ(message(), "c.json: 'hidden_size' must be positive, got 0");
  j["hidden_size"] = 64;
  j["head_dim"] = 15;
  try {
    ModelConfig::fromJson(j, "c.json");
    FAIL();
  } catch (const Error &e) {
    EXPECT_STREQ(e.what(), "c.json: 'head_dim' must be even for RoPE, got 15");
  }
}
