// The run loop against a scripted backend: EOS ends generation (unless
// --ignore-eos), -n bounds it, every generated token is evaluated.
#include "runtime/ChatFormat.h"
#include "runtime/Generate.h"

#include <gtest/gtest.h>

#include <tuple>

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
  generate(o, b, nullptr, qwen3c_rt::ChatFormat(std::nullopt));
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
  auto call = [](const std::vector<int32_t> &ids, int64_t position, bool, bool needLogits, int64_t) -> const float * {
    asked.push_back(needLogits);
    static std::vector<float> rows;
    if (!needLogits) return nullptr;
    rows.assign(ids.size() * 2, 0.0f);
    for (size_t i = 0; i < ids.size(); ++i) rows[i * 2] = float(position) + float(i), rows[i * 2 + 1] = float(ids[i]);
    return static_cast<const float *>(rows.data());
  };
  std::vector<int32_t> tokens{7, 8, 9, 10, 11};
  const ChunkShapes twos{2, {2}};
  auto all = evaluateInChunks(tokens, 3, twos, 2, 16, true, call);
  ASSERT_EQ(all.size(), 10u);
  EXPECT_EQ(all[8], 7.0f); // position 3 + 4
  EXPECT_EQ(all[9], 11.0f);
  EXPECT_EQ(asked, (std::vector<bool>{true, true, true}));
  asked.clear();
  auto last = evaluateInChunks(tokens, 3, twos, 2, 16, false, call);
  EXPECT_EQ(asked, (std::vector<bool>{false, false, true})); // chunks of 2, 2, then one decode
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0], 7.0f);
  EXPECT_EQ(last[1], 11.0f);
  auto one = evaluateInChunks({5}, 0, ChunkShapes{4, {4}}, 2, 16, false, call);
  ASSERT_EQ(one.size(), 2u);
  EXPECT_EQ(one[1], 5.0f);
}

// A prompt's tokens but the last run in the chunks the plan picks (each
// call sees only real tokens of the prompt but the last, padded with 0),
// then the last by decode.
TEST(Generate, EvaluateInChunksRunsThePromptInPlannedChunks) {
  static std::vector<std::pair<int64_t, int64_t>> calls; // (rows, position)
  static std::vector<int32_t> seen;
  auto call = [](const std::vector<int32_t> &ids, int64_t position, bool decode, bool, int64_t) -> const float * {
    calls.push_back({decode ? -1 : int64_t(ids.size()), position});
    seen.insert(seen.end(), ids.begin(), ids.end());
    static std::vector<float> row{1.0f, 2.0f};
    return row.data();
  };
  std::vector<int32_t> tokens;
  for (int32_t i = 1; i <= 22; ++i) tokens.push_back(i);
  auto last = evaluateInChunks(tokens, 5, ChunkShapes{4, {4, 16}}, 2, 64, false, call);
  EXPECT_EQ(last, (std::vector<float>{1.0f, 2.0f}));
  // 21 tokens: 16 + 4 + 1 padded to 4, then token 22 by decode.
  EXPECT_EQ(calls, (std::vector<std::pair<int64_t, int64_t>>{{16, 5}, {4, 21}, {4, 25}, {-1, 26}}));
  std::vector<int32_t> want(tokens.begin(), tokens.end() - 1);
  want.insert(want.end(), {0, 0, 0, 22});
  EXPECT_EQ(seen, want);
}

// With one-row-logits prompt entries the whole prompt runs in the planned
// chunks and the last one gives its last valid row: no decode call. A
// one-token prompt is still one decode call.
TEST(Generate, EvaluateInChunksEndsInTheLastChunk) {
  static std::vector<std::tuple<int64_t, int64_t, int64_t>> calls; // (rows, position, row)
  auto call = [](const std::vector<int32_t> &ids, int64_t position, bool decode, bool needLogits,
                 int64_t row) -> const float * {
    calls.push_back({decode ? -1 : int64_t(ids.size()), position, row});
    static std::vector<float> one(2);
    if (!needLogits) return nullptr;
    EXPECT_TRUE(decode || row >= 0);
    one = {float(position + (decode ? 0 : row)), float(ids[size_t(decode ? 0 : row)])};
    return one.data();
  };
  std::vector<int32_t> tokens;
  for (int32_t i = 1; i <= 22; ++i) tokens.push_back(i);
  ChunkShapes shapes{4, {4, 16}};
  shapes.lastRowLogits = true;
  auto last = evaluateInChunks(tokens, 5, shapes, 2, 64, false, call);
  // 22 tokens: 16 + 4 + 2 (padded to 4), the last chunk's row 1 (token 22, position 26).
  EXPECT_EQ(calls, (std::vector<std::tuple<int64_t, int64_t, int64_t>>{{16, 5, -1}, {4, 21, -1}, {4, 25, 1}}));
  EXPECT_EQ(last, (std::vector<float>{26.0f, 22.0f}));
  calls.clear();
  auto one = evaluateInChunks({9}, 3, shapes, 2, 64, false, call);
  EXPECT_EQ(calls, (std::vector<std::tuple<int64_t, int64_t, int64_t>>{{-1, 3, -1}}));
  EXPECT_EQ(one, (std::vector<float>{3.0f, 9.0f}));
}

// The plan: fewest padded rows plus kCallRows per call.
TEST(Generate, PlanPromptChunksPadsLeast) {
  const std::vector<int64_t> sizes{16, 64, 256};
  EXPECT_EQ(planPromptChunks(0, sizes), std::vector<int64_t>{});
  EXPECT_EQ(planPromptChunks(3, sizes), std::vector<int64_t>{16});
  EXPECT_EQ(planPromptChunks(63, sizes), std::vector<int64_t>{64});
  EXPECT_EQ(planPromptChunks(70, sizes), (std::vector<int64_t>{64, 16}));
  EXPECT_EQ(planPromptChunks(250, sizes), std::vector<int64_t>{256});
  EXPECT_EQ(planPromptChunks(200, sizes), (std::vector<int64_t>{64, 64, 64, 16}));
  EXPECT_EQ(planPromptChunks(511, sizes), (std::vector<int64_t>{256, 256}));
  EXPECT_EQ(planPromptChunks(5, std::vector<int64_t>{4}), (std::vector<int64_t>{4, 4}));
}
