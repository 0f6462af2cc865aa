// Sampling: greedy, determinism per seed, and each filter's effect.
#include "runtime/Sampler.h"

#include <gtest/gtest.h>

#include <set>

using qwen3c_rt::Sampler;
using qwen3c_rt::SamplerOptions;

namespace {
std::vector<float> logits() { return {1.0f, 3.0f, 2.9f, 0.5f, -2.0f, 2.0f}; }

std::set<int32_t> support(SamplerOptions o, int draws = 2000) {
  Sampler s(o);
  std::set<int32_t> seen;
  auto l = logits();
  for (int i = 0; i < draws; ++i) seen.insert(s.sample(l.data(), int64_t(l.size()), {}));
  return seen;
}
} // namespace

TEST(Sampler, GreedyIsArgmax) {
  SamplerOptions o;
  o.temp = 0;
  Sampler s(o);
  auto l = logits();
  EXPECT_EQ(s.sample(l.data(), 6, {}), 1);
}

TEST(Sampler, SameSeedSameTokens) {
  SamplerOptions o;
  o.seed = 42;
  Sampler a(o), b(o);
  auto l = logits();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.sample(l.data(), 6, {}), b.sample(l.data(), 6, {}));
}

TEST(Sampler, FiltersBoundTheSupport) {
  SamplerOptions o;
  o.temp = 1.0;
  o.topK = 0;
  o.topP = 1.0;
  EXPECT_EQ(support(o).size(), 6u);
  o.topK = 2;
  EXPECT_EQ(support(o), (std::set<int32_t>{1, 2}));
  o.topK = 0;
  o.minP = 0.3; // keeps tokens with p >= 0.3 * p(top): e^-1 = 0.37 passes, e^-2 not
  EXPECT_EQ(support(o), (std::set<int32_t>{1, 2, 5}));
  o.minP = 0;
  o.topP = 0.3; // the top token alone has more than 30% of the mass
  EXPECT_EQ(support(o), (std::set<int32_t>{1}));
}

TEST(Sampler, RepetitionPenaltyDemotesRecentTokens) {
  SamplerOptions o;
  o.temp = 0;
  o.repeatPenalty = 2.0;
  Sampler s(o);
  auto l = logits();
  EXPECT_EQ(s.sample(l.data(), 6, {1}), 2); // 3.0 / 2 < 2.9
}

TEST(Sampler, PresenceAndFrequencyPenaltiesCountGeneratedTokensOnly) {
  SamplerOptions o;
  o.temp = 0;
  auto l = logits(); // argmax 1 (3.0), then 2 (2.9)
  // Token 1 in the prompt only: no penalty.
  o.presencePenalty = 0.5;
  EXPECT_EQ(Sampler(o).sample(l.data(), 6, {1, 1}, /*generatedFrom=*/2), 1);
  // Generated once: 3.0 - 0.5 < 2.9.
  EXPECT_EQ(Sampler(o).sample(l.data(), 6, {1, 1}, /*generatedFrom=*/1), 2);
  // Frequency scales with the count: 3.0 - 2 * 0.06 < 2.9 < 3.0 - 0.06.
  o.presencePenalty = 0;
  o.frequencyPenalty = 0.06;
  EXPECT_EQ(Sampler(o).sample(l.data(), 6, {1}, 0), 1);
  EXPECT_EQ(Sampler(o).sample(l.data(), 6, {1, 1}, 0), 2);
  // Negative values favour repeats.
  o.frequencyPenalty = -2; // token 5: 2.0 + 2 > 3.0
  EXPECT_EQ(Sampler(o).sample(l.data(), 6, {5}, 0), 5);
}
