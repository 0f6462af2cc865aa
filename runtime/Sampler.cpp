//===- Sampler.cpp ----------------------------------------------------------===//
#include "runtime/Sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

namespace qwen3c_rt {

int32_t Sampler::sample(const float *logits, int64_t V, const std::vector<int32_t> &history, size_t generatedFrom) {
  cand.resize(size_t(V));
  for (int64_t i = 0; i < V; ++i) cand[size_t(i)] = {logits[i], int32_t(i)};
  if (o.repeatPenalty != 1.0) {
    std::unordered_set<int32_t> seen;
    size_t from = history.size() > size_t(o.repeatLastN) ? history.size() - size_t(o.repeatLastN) : 0;
    for (size_t i = from; i < history.size(); ++i) seen.insert(history[i]);
    for (int32_t t : seen) {
      if (t < 0 || t >= V) continue;
      float &l = cand[size_t(t)].first;
      l = l > 0 ? float(l / o.repeatPenalty) : float(l * o.repeatPenalty);
    }
  }
  if (o.presencePenalty != 0.0 || o.frequencyPenalty != 0.0) {
    std::unordered_map<int32_t, int64_t> count;
    for (size_t i = std::min(generatedFrom, history.size()); i < history.size(); ++i) ++count[history[i]];
    for (auto [t, c] : count)
      if (t >= 0 && t < V) cand[size_t(t)].first -= float(o.frequencyPenalty * double(c) + o.presencePenalty);
  }
  auto byLogit = [](const auto &a, const auto &b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  if (o.temp <= 0) return std::min_element(cand.begin(), cand.end(), byLogit)->second;
  size_t k = o.topK > 0 ? std::min<size_t>(size_t(o.topK), cand.size()) : cand.size();
  std::partial_sort(cand.begin(), cand.begin() + long(k), cand.end(), byLogit);
  cand.resize(k);
  // Softmax at the temperature.
  double mx = cand[0].first, sum = 0;
  std::vector<double> p(k);
  for (size_t i = 0; i < k; ++i) sum += (p[i] = std::exp((cand[i].first - mx) / o.temp));
  for (double &x : p) x /= sum;
  size_t keep = k;
  if (o.topP < 1.0) { // smallest prefix with mass >= top_p
    double acc = 0;
    for (size_t i = 0; i < k; ++i) {
      acc += p[i];
      if (acc >= o.topP) {
        keep = i + 1;
        break;
      }
    }
  }
  if (o.minP > 0) {
    size_t m = 1;
    while (m < keep && p[m] >= o.minP * p[0]) ++m;
    keep = m;
  }
  double total = 0;
  for (size_t i = 0; i < keep; ++i) total += p[i];
  double r = std::uniform_real_distribution<double>(0, total)(rng);
  for (size_t i = 0; i < keep; ++i) {
    r -= p[i];
    if (r <= 0) return cand[i].second;
  }
  return cand[keep - 1].second;
}

} // namespace qwen3c_rt
