//===- RopeFrequencies.h - RoPE's inverse frequencies, YaRN too -*- C++ -*-===//
//
// The f32 inverse frequencies of a head_dim-D rotary embedding, as Hugging
// Face's rope initialisers compute them (the compiled kernels' constant
// table and the eager interpreter both take them from here):
//   default  theta^(-2i/D)
//   yarn     (_compute_yarn_parameters) per frequency a blend of the
//            extrapolated theta^(-2i/D) and the interpolated one divided by
//            `factor`, by a linear ramp between the correction dimensions
//            of beta_fast and beta_slow rotations over the original
//            context; cos and sin are then scaled by the attention factor
//            (default 0.1 ln(factor) + 1).
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_DIALECT_ROPEFREQUENCIES_H
#define QWEN3C_DIALECT_ROPEFREQUENCIES_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace q3 {

struct YarnScaling {
  double factor = 1, betaFast = 32, betaSlow = 1, attentionFactor = 1;
  int64_t originalContext = 0;
};

// 0.1 ln(factor) + 1 (1 for factor <= 1): YaRN's default attention factor.
inline double yarnDefaultAttentionFactor(double factor) { return factor <= 1 ? 1.0 : 0.1 * std::log(factor) + 1.0; }

inline std::vector<float> ropeInverseFrequencies(int64_t D, double theta, const YarnScaling *yarn = nullptr) {
  const int64_t half = D / 2;
  std::vector<float> inv(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) inv[size_t(i)] = 1.0f / std::pow(float(theta), float(2 * i) / float(D));
  if (!yarn) return inv;
  // The correction range, in double as Python's math computes it, truncated to whole dimensions.
  auto correctionDim = [&](double rotations) {
    return (double(D) * std::log(double(yarn->originalContext) / (rotations * 2 * M_PI))) / (2 * std::log(theta));
  };
  double low = std::max(std::floor(correctionDim(yarn->betaFast)), 0.0);
  double high = std::min(std::ceil(correctionDim(yarn->betaSlow)), double(D - 1));
  if (low == high) high += 0.001;
  for (int64_t i = 0; i < half; ++i) {
    const float pos = std::pow(float(theta), float(2 * i) / float(D)); // base ** (2i / D) in f32
    const float extrapolated = 1.0f / pos, interpolated = 1.0f / (float(yarn->factor) * pos);
    const float ramp = std::clamp((float(i) - float(low)) / float(high - low), 0.0f, 1.0f);
    const float extrapolation = 1.0f - ramp;
    const float a = interpolated * (1.0f - extrapolation), b = extrapolated * extrapolation;
    inv[size_t(i)] = a + b;
  }
  return inv;
}

// What a q3.rope / q3.norm_rope computes its angles with.
struct RopeSpec {
  double theta = 10000;
  std::optional<YarnScaling> yarn;

  std::vector<float> inverseFrequencies(int64_t D) const { return ropeInverseFrequencies(D, theta, yarn ? &*yarn : nullptr); }
  // What cos and sin are multiplied by (Hugging Face's attention_scaling, in f32).
  float cosSinScale() const { return yarn ? float(yarn->attentionFactor) : 1.0f; }
  // A name for its constant table: one per distinct spec and head_dim.
  std::string tableName(int64_t D) const {
    std::string n = "q3_rope_inv_freq_" + std::to_string(D) + "_" + std::to_string(int64_t(theta));
    if (yarn)
      n += "_yarn_" + std::to_string(int64_t(yarn->factor * 1000)) + "_" + std::to_string(yarn->originalContext) + "_" +
           std::to_string(int64_t(yarn->betaFast * 1000)) + "_" + std::to_string(int64_t(yarn->betaSlow * 1000));
    return n;
  }
};

// The spec of a q3.rope, q3.norm_rope or q3.norm_rope_write.
template <typename Op> RopeSpec ropeSpecOf(Op op) {
  RopeSpec s;
  s.theta = op.getThetaAttr().getValueAsDouble();
  if (auto y = op.getYarnAttr()) s.yarn = y.scaling();
  return s;
}

} // namespace q3

#endif
