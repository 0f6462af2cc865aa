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
  std::vector<float> forward(const std::vector<int32_t> &tokens, int64_t pos, bool allRows) override {
    std::vector<float> rows(tokens.size() * 16, 0.0f);
    for (size_t i = 0; i < tokens.size(); ++i) {
      size_t p = size_t(pos) + i;
      rows[i * 16 + size_t(p < script.size() ? script[p] : 1)] = 10.0f;
      evaluated.push_back(tokens[i]);
    }
    if (!allRows) rows.erase(rows.begin(), rows.end() - 16);
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

// Without allRows only the last token's row comes back, whatever the chunking,
// and only the last call is asked for logits.
TEST(Generate, EvaluateInChunksKeepsTheLastRow) {
  static std::vector<bool> asked;
  auto call = [](const std::vector<int32_t> &ids, int64_t position, bool, bool needLogits) -> const float * {
    asked.push_back(needLogits);
    static std::vector<float> rows;
    if (!needLogits) return nullptr;
    rows.assign(ids.size() * 2, 0.0f);
    for (size_t i = 0; i < ids.size(); ++i) rows[i * 2] = float(position) + float(i), rows[i * 2 + 1] = float(ids[i]);
    return static_cast<const float *>(rows.data());
  };
  std::vector<int32_t> tokens{7, 8, 9, 10, 11};
  auto all = evaluateInChunks(tokens, 3, 2, 2, 16, true, call);
  ASSERT_EQ(all.size(), 10u);
  EXPECT_EQ(all[8], 7.0f); // position 3 + 4
  EXPECT_EQ(all[9], 11.0f);
  EXPECT_EQ(asked, (std::vector<bool>{true, true, true}));
  asked.clear();
  auto last = evaluateInChunks(tokens, 3, 2, 2, 16, false, call);
  EXPECT_EQ(asked, (std::vector<bool>{false, false, true})); // chunks of 2, 2, then one decode
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0], 7.0f);
  EXPECT_EQ(last[1], 11.0f);
  auto one = evaluateInChunks({5}, 0, 4, 2, 16, false, call);
  ASSERT_EQ(one.size(), 2u);
  EXPECT_EQ(one[1], 5.0f);
}
