//===- Kernels.cpp - reference math for each q3 op --------------------------===//
#include "eager/Kernels.h"
#include "frontend/DType.h"
#include "frontend/Error.h"

#include <xtensor/xmath.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace q3c::eager {
namespace {

size_t lastDim(const xt::xarray<float> &x) { return x.shape().back(); }

// Dot product with 8 independent partial sums (vectorises without fast-math).
float dot(const float *a, const float *b, size_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int j = 0; j < 8; ++j) acc[j] += a[k + j] * b[k + j];
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; k < n; ++k) s += a[k] * b[k];
  return s;
}

float siluScalar(float v) { return v / (1.0f + std::exp(-v)); }

} // namespace

xt::xarray<float> embedding(const xt::xarray<float> &table, const xt::xarray<int32_t> &ids) {
  const size_t V = table.shape()[0], H = table.shape()[1], T = ids.size();
  xt::xarray<float> out = xt::zeros<float>({T, H});
  for (size_t t = 0; t < T; ++t) {
    int32_t id = ids.data()[t];
    if (id < 0 || size_t(id) >= V) fail("token id ", id, " is out of range (vocabulary of ", V, ")");
    std::copy_n(table.data() + size_t(id) * H, H, out.data() + t * H);
  }
  return out;
}

xt::xarray<float> rmsNorm(const xt::xarray<float> &x, const xt::xarray<float> &w, double eps) {
  const size_t N = lastDim(x), rows = x.size() / N;
  xt::xarray<float> out(x.shape());
  for (size_t r = 0; r < rows; ++r) {
    const float *in = x.data() + r * N;
    float ss = dot(in, in, N) / float(N);
    float scale = 1.0f / std::sqrt(ss + float(eps));
    for (size_t i = 0; i < N; ++i) out.data()[r * N + i] = w.data()[i] * (in[i] * scale);
  }
  return out;
}

xt::xarray<float> linear(const xt::xarray<float> &x, const xt::xarray<float> &w) {
  const size_t K = lastDim(x), M = x.size() / K, N = w.shape()[0];
  std::vector<size_t> shape(x.shape().begin(), x.shape().end());
  shape.back() = N;
  xt::xarray<float> out(shape);
  // Weight row outermost: it stays in L1 while every token uses it.
  for (size_t n = 0; n < N; ++n) {
    const float *wr = w.data() + n * K;
    for (size_t m = 0; m < M; ++m) out.data()[m * N + n] = dot(x.data() + m * K, wr, K);
  }
  return out;
}

xt::xarray<float> rope(const xt::xarray<float> &x, int64_t offset, const q3::RopeSpec &spec, bool splitHalves) {
  const size_t T = x.shape()[0], heads = x.shape()[1], D = x.shape()[2], half = D / 2;
  // As Hugging Face computes them: inverse frequencies and angles in f32,
  // cos and sin times YaRN's attention factor when scaled.
  const std::vector<float> invFreq = spec.inverseFrequencies(int64_t(D));
  const float scale = spec.cosSinScale();
  xt::xarray<float> out(x.shape());
  for (size_t t = 0; t < T; ++t) {
    float pos = float(offset + int64_t(t));
    for (size_t i = 0; i < half; ++i) {
      float angle = pos * invFreq[i], c = std::cos(angle), s = std::sin(angle);
      if (scale != 1.0f) c *= scale, s *= scale;
      for (size_t h = 0; h < heads; ++h) {
        const float *in = x.data() + (t * heads + h) * D;
        float *o = out.data() + (t * heads + h) * D;
        size_t a = splitHalves ? i : 2 * i, b = splitHalves ? i + half : 2 * i + 1;
        o[a] = in[a] * c - in[b] * s;
        o[b] = in[b] * c + in[a] * s;
      }
    }
  }
  return out;
}

void kvWrite(xt::xarray<float> &cache, const xt::xarray<float> &value, int64_t layer,
             int64_t offset) {
  const size_t L = cache.shape()[0], Hkv = cache.shape()[1], C = cache.shape()[2],
               D = cache.shape()[3], T = value.shape()[0];
  if (layer < 0 || size_t(layer) >= L) fail("kv_write: layer ", layer, " out of range (", L, ")");
  if (offset < 0) fail("kv_write: negative position ", offset);
  for (size_t t = 0; t < T; ++t) {
    size_t p = size_t(offset) + t;
    if (p >= C) break; // padded tail past the capacity
    for (size_t h = 0; h < Hkv; ++h)
      std::copy_n(value.data() + (t * Hkv + h) * D, D,
                  cache.data() + ((size_t(layer) * Hkv + h) * C + p) * D);
  }
}

xt::xarray<float> attention(const xt::xarray<float> &q, const xt::xarray<float> &k,
                            const xt::xarray<float> &v, int64_t layer, int64_t offset,
                            double scale) {
  const size_t T = q.shape()[0], Hq = q.shape()[1], D = q.shape()[2];
  const size_t L = k.shape()[0], Hkv = k.shape()[1], C = k.shape()[2];
  if (layer < 0 || size_t(layer) >= L) fail("attention: layer ", layer, " out of range (", L, ")");
  const size_t group = Hq / Hkv;
  xt::xarray<float> out = xt::zeros<float>(q.shape());
  std::vector<float> p;
  for (size_t t = 0; t < T; ++t) {
    size_t n = std::min(size_t(offset) + t + 1, C); // causal: positions 0 .. offset+t
    p.resize(n);
    for (size_t h = 0; h < Hq; ++h) {
      size_t kvh = h / group;
      const float *qv = q.data() + (t * Hq + h) * D;
      const float *kb = k.data() + (size_t(layer) * Hkv + kvh) * C * D;
      const float *vb = v.data() + (size_t(layer) * Hkv + kvh) * C * D;
      float m = -INFINITY;
      for (size_t j = 0; j < n; ++j) m = std::max(m, p[j] = dot(qv, kb + j * D, D) * float(scale));
      float sum = 0;
      for (size_t j = 0; j < n; ++j) sum += (p[j] = std::exp(p[j] - m));
      float *o = out.data() + (t * Hq + h) * D;
      for (size_t j = 0; j < n; ++j) {
        float w = p[j] / sum;
        for (size_t d = 0; d < D; ++d) o[d] += w * vb[j * D + d];
      }
    }
  }
  return out;
}

xt::xarray<float> silu(const xt::xarray<float> &x) { return x / (1.0f + xt::exp(-x)); }

xt::xarray<float> swiglu(const xt::xarray<float> &gate, const xt::xarray<float> &up) {
  return silu(gate) * up;
}

void moeRouter(const xt::xarray<float> &logits, int64_t topK, bool normalise,
               xt::xarray<float> &weights, xt::xarray<int32_t> &experts) {
  const size_t T = logits.shape()[0], E = logits.shape()[1], K = size_t(topK);
  weights = xt::zeros<float>({T, K});
  experts = xt::zeros<int32_t>({T, K});
  std::vector<float> prob(E);
  std::vector<int32_t> order(E);
  for (size_t t = 0; t < T; ++t) {
    const float *l = logits.data() + t * E;
    float m = *std::max_element(l, l + E), sum = 0;
    for (size_t e = 0; e < E; ++e) sum += (prob[e] = std::exp(l[e] - m));
    for (size_t e = 0; e < E; ++e) prob[e] /= sum;
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      float pa = prob[size_t(a)], pb = prob[size_t(b)];
      return pa > pb || (pa == pb && a < b); // ties: lower expert first
    });
    float kept = 0;
    for (size_t j = 0; j < K; ++j) kept += prob[size_t(order[j])];
    for (size_t j = 0; j < K; ++j) {
      experts.data()[t * K + j] = order[j];
      weights.data()[t * K + j] = normalise ? prob[size_t(order[j])] / kept : prob[size_t(order[j])];
    }
  }
}

xt::xarray<float> moeExperts(const xt::xarray<float> &x, const xt::xarray<float> &weights,
                             const xt::xarray<int32_t> &experts, const xt::xarray<float> &gate,
                             const xt::xarray<float> &up, const xt::xarray<float> &down) {
  const size_t T = x.shape()[0], H = x.shape()[1], K = weights.shape()[1];
  const size_t E = gate.shape()[0], I = gate.shape()[1];
  xt::xarray<float> out = xt::zeros<float>({T, H});
  std::vector<float> act(I);
  for (size_t t = 0; t < T; ++t) {
    const float *xt_ = x.data() + t * H;
    for (size_t j = 0; j < K; ++j) {
      int32_t e = experts.data()[t * K + j];
      if (e < 0 || size_t(e) >= E) fail("moe_experts: expert ", e, " out of range (", E, ")");
      const float *g = gate.data() + size_t(e) * I * H, *u = up.data() + size_t(e) * I * H;
      const float *d = down.data() + size_t(e) * H * I;
      for (size_t i = 0; i < I; ++i)
        act[i] = siluScalar(dot(xt_, g + i * H, H)) * dot(xt_, u + i * H, H);
      float w = weights.data()[t * K + j];
      for (size_t h = 0; h < H; ++h) out.data()[t * H + h] += w * dot(act.data(), d + h * I, I);
    }
  }
  return out;
}

xt::xarray<int32_t> argmax(const xt::xarray<float> &x) {
  const size_t N = lastDim(x), rows = x.size() / N;
  std::vector<size_t> shape(x.shape().begin(), x.shape().end() - 1);
  xt::xarray<int32_t> out(shape);
  for (size_t r = 0; r < rows; ++r) {
    const float *p = x.data() + r * N;
    out.data()[r] = int32_t(std::max_element(p, p + N) - p); // first maximum
  }
  return out;
}

void roundToBf16(xt::xarray<float> &x) {
  for (float &v : x) v = bf16ToF32(f32ToBf16(v));
}

void roundToF16(xt::xarray<float> &x) {
  for (float &v : x) v = f16ToF32(f32ToF16(v));
}

void roundToInt8Rows(xt::xarray<float> &x) {
  const size_t N = lastDim(x), rows = x.size() / N;
  for (size_t r = 0; r < rows; ++r) {
    float *p = x.data() + r * N, amax = 0.0f;
    for (size_t i = 0; i < N; ++i) amax = std::max(amax, std::fabs(p[i]));
    const float d = amax / 127.0f, inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    for (size_t i = 0; i < N; ++i) p[i] = std::nearbyint(p[i] * inv) * d; // nearest even (default mode)
  }
}

} // namespace q3c::eager
