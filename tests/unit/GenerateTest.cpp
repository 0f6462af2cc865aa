// The run loop against a scripted backend: EOS ends generation (unless
// --ignore-eos), -n bounds it, every generated token is evaluated.
#include "runtime/Generate.h"

#include <gtest/gtest.h>

using namespace qwen3c_rt;

namespace {

// Logits whose argmax at position p is script[p].
class ScriptedBackend : public Backend {
public:
  explicit ScriptedBackend(std::vector<int32_t> script) : script(std::move(script)) {}
  const char *name() const override { return "scripted"; }
  int64_t vocab() const override { return 16; }
  int64_t maxContext() const override { return 64; }
  std::vector<int32_t> eosIds() const override { return {15}; }
  std::vector<float> forward(const std::vector<int32_t> &tokens, int64_t pos) override {
    std::vector<float> rows(tokens.size() * 16, 0.0f);
    for (size_t i = 0; i < tokens.size(); ++i) {
      size_t p = size_t(pos) + i;
      rows[i * 16 + size_t(p < script.size() ? script[p] : 1)] = 10.0f;
      evaluated.push_back(tokens[i]);
    }
    return rows;
  }
  std::vector<int32_t> script, evaluated;
};

std::string run(std::vector<std::string> flags, ScriptedBackend &b) {
  RunOptions o = parseRunFlags(flags, RunOptions(), "test");
  testing::internal::CaptureStdout();
  generate(o, b, nullptr);
  return testing::internal::GetCapturedStdout();
}

} // namespace

TEST(Generate, StopsAtEos) {
  // Prompt [1, 2]; the model then predicts 7, 8, EOS.
  ScriptedBackend b({0, 7, 8, 15, 3, 3});
  EXPECT_EQ(run({"--tokens", "1,2", "--temp", "0"}, b), "7,8\n");
  EXPECT_EQ(b.evaluated, (std::vector<int32_t>{1, 2, 7, 8})); // EOS itself is not evaluated
}

TEST(Generate, IgnoreEosAndLimit) {
  ScriptedBackend b({0, 7, 8, 15, 3, 3});
  EXPECT_EQ(run({"--tokens", "1,2", "--temp", "0", "--ignore-eos", "-n", "4"}, b), "7,8,15,3\n");
}

TEST(Generate, ZeroTokensEvaluatesThePromptOnly) {
  ScriptedBackend b({0, 7});
  EXPECT_EQ(run({"--tokens", "1,2,3", "-n", "0"}, b), "");
  EXPECT_EQ(b.evaluated, (std::vector<int32_t>{1, 2, 3}));
}

TEST(Generate, FlagErrors) {
  EXPECT_THROW(parseRunFlags({"-n", "-3", "--tokens", "1"}, RunOptions(), "t"), RunError);
  EXPECT_THROW(parseRunFlags({"--tokens"}, RunOptions(), "t"), RunError);
  EXPECT_THROW(parseRunFlags({}, RunOptions(), "t"), RunError);
}
