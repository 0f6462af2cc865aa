//===- Sampler.h - next-token choice ------------------------------*- C++ -*-===//
#ifndef QWEN3C_RUNTIME_SAMPLER_H
#define QWEN3C_RUNTIME_SAMPLER_H

#include <cstdint>
#include <random>
#include <vector>

namespace qwen3c_rt {

struct SamplerOptions {
  double temp = 0.6;          // 0: greedy (argmax)
  int64_t topK = 20;          // 0: off
  double topP = 0.95;         // 1: off
  double minP = 0.0;          // 0: off
  double repeatPenalty = 1.0; // 1: off; applied to the last repeatLastN tokens
  int64_t repeatLastN = 64;
  // OpenAI's: logit -= frequency * count + presence * (count > 0), counted
  // over the generated tokens (history from `generatedFrom` on).
  double presencePenalty = 0.0, frequencyPenalty = 0.0;
  uint64_t seed = 0;
};

// llama.cpp's order: repetition, presence and frequency penalties, top-k, temperature softmax, top-p,
// min-p, then a draw from the renormalised distribution with a seeded
// mt19937_64 (same seed, same tokens).
class Sampler {
public:
  explicit Sampler(const SamplerOptions &o) : o(o), rng(o.seed) {}
  int32_t sample(const float *logits, int64_t vocab, const std::vector<int32_t> &history, size_t generatedFrom = 0);

private:
  SamplerOptions o;
  std::mt19937_64 rng;
  std::vector<std::pair<float, int32_t>> cand;
};

} // namespace qwen3c_rt

#endif
