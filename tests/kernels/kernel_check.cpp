//===- kernel_check.cpp - quantised kernels against exact arithmetic --------===//
//
// Each kernel qwen3c-kernelgen --check compiled (a q3.linear with a pinned
// quantised layout and lowering config) runs on weights this test packs
// itself, from the layouts' definitions in Q3Dialect.td, and on inputs
// with the cases that matter (an all-zero group, an outlier, values at a
// rounding tie). The expected output is computed here: the int8 dot's
// quantisation of the input rows in f32 exactly as documented (d = max|x|
// / 127, q = x * (127 / max|x|) rounded to nearest even), the integer dot
// of each group, then both scales, in double. The same inputs on both
// sides, so no input rounds apart: the only difference left is the
// kernel's f32 accumulation, bounded by 1e-5 * max|y|. The native (i8,
// i8_madd) and emulated kernels of a shape must agree bit for bit.
//
//===----------------------------------------------------------------------===//
#include "CheckKernels.h"
#include "runtime/ModelAbi.h"
#include "runtime/ThreadPool.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace qwen3c_kernels;
using qwen3c_abi::MemRef;

namespace {

template <int R> MemRef<R> view(void *p, const int64_t (&sizes)[R]) { return qwen3c_abi::contiguousView(p, sizes); }

uint16_t toF16(float f) { // exact for the scales used (powers of two times small integers)
  _Float16 h = static_cast<_Float16>(f);
  uint16_t bits;
  std::memcpy(&bits, &h, 2);
  return bits;
}

// The logical weights: q[n][k] (int8, or int4's stored 0..15) and d[n][k / 32].
struct Weights {
  int64_t N, K;
  bool int4;
  std::vector<int> q;
  std::vector<float> d;
  int value(int64_t n, int64_t k) const { return q[size_t(n * K + k)] - (int4 ? 8 : 0); }
};

Weights randomWeights(int64_t N, int64_t K, bool int4, uint32_t seed) {
  std::mt19937 rng(seed);
  Weights w{N, K, int4, std::vector<int>(size_t(N * K)), std::vector<float>(size_t(N * K / 32))};
  std::uniform_int_distribution<int> q8(-128, 127), q4(0, 15), scale(1, 64);
  for (auto &q : w.q) q = int4 ? q4(rng) : q8(rng);
  for (auto &d : w.d) d = float(scale(rng) * (rng() % 2 ? 1 : -1)) / 4096.0f;
  return w;
}

// Packs `w` at `at` as #q3.layout<k16_q8_quads> / <k16_q4_quads> define it:
// values Wq[n / 16][k / 4][n % 16][k % 4] bytes (int4: [k / 8][n % 16][j],
// k = 8p + j in the low nibble, 8p + 4 + j in the high one), then the f16
// scales Ws[n / 16][k / 32][n % 16].
void pack(const Weights &w, uint8_t *at) {
  const int64_t N = w.N, K = w.K;
  size_t valueBytes = size_t(w.int4 ? N * K / 2 : N * K);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      const int64_t nb = n / 16, r = n % 16;
      if (!w.int4) {
        at[((nb * (K / 4) + k / 4) * 16 + r) * 4 + k % 4] = uint8_t(int8_t(w.q[size_t(n * K + k)]));
        continue;
      }
      uint8_t &byte = at[((nb * (K / 8) + k / 8) * 16 + r) * 4 + k % 4];
      const bool high = k % 8 >= 4;
      byte = uint8_t(high ? (byte & 0x0F) | (w.q[size_t(n * K + k)] << 4) : (byte & 0xF0) | w.q[size_t(n * K + k)]);
    }
  auto *scales = reinterpret_cast<uint16_t *>(at + valueBytes);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < K / 32; ++g)
      scales[((n / 16) * (K / 32) + g) * 16 + n % 16] = toF16(w.d[size_t(n * (K / 32) + g)]);
}

// Inputs with the cases that matter: row 0's second group all zero, row 1
// one outlier, row 2 values at exact ties of the rounding (q + 0.5 levels).
std::vector<float> inputs(int64_t M, int64_t K, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> x(size_t(M * K));
  for (auto &v : x) v = u(rng);
  if (K >= 64)
    for (int64_t k = 32; k < 64; ++k) x[size_t(k)] = 0;
  if (M > 1) x[size_t(K + 3)] = 50.0f;
  if (M > 2)
    for (int64_t k = 0; k < 32; ++k) x[size_t(2 * K + k)] = k == 0 ? 127.0f : float(k % 7) + 0.5f; // amax 127: x * 1 = x
  return x;
}

// y[m][n] as the int8 dot defines it, in double after the exact integers.
std::vector<double> expected(const Weights &w, const std::vector<float> &x, int64_t M) {
  const int64_t N = w.N, K = w.K;
  std::vector<double> y(size_t(M * N), 0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t g = 0; g < K / 32; ++g) {
      const float *v = x.data() + m * K + g * 32;
      float amax = 0;
      for (int i = 0; i < 32; ++i) amax = std::fmax(amax, std::fabs(v[i]));
      const float inv = amax > 0 ? 127.0f / amax : 0.0f, dx = amax / 127.0f;
      int q[32];
      for (int i = 0; i < 32; ++i) q[i] = int(std::nearbyint(v[i] * inv)); // to nearest even
      for (int64_t n = 0; n < N; ++n) {
        int64_t sum = 0;
        for (int i = 0; i < 32; ++i) sum += int64_t(q[i]) * w.value(n, g * 32 + i);
        y[size_t(m * N + n)] += double(sum) * double(dx) * double(w.d[size_t(n * (K / 32) + g)]);
      }
    }
  return y;
}

struct Buffers {
  std::vector<uint8_t> weights, arena;
  Buffers() : weights(size_t(kWeightBytes) + 64), arena(size_t(kArenaBytes) + 64) {}
};

std::vector<float> run(const Kernel &k, Buffers &b, const std::vector<float> &x) {
  std::vector<float> in(x), out(size_t(k.m * k.n), -1.0f);
  MemRef<2> xv = view<2>(in.data(), {k.m, k.k}), yv = view<2>(out.data(), {k.m, k.n});
  MemRef<1> wv = view<1>(b.weights.data(), {kWeightBytes}), av = view<1>(b.arena.data(), {kArenaBytes});
  using Fn = void (*)(MemRef<2> *, MemRef<2> *, MemRef<1> *, MemRef<1> *);
  reinterpret_cast<Fn>(k.entry)(&xv, &yv, &wv, &av);
  return out;
}

std::vector<int> kernelsOf(Kind kind) {
  std::vector<int> ids;
  for (int i = 0; i < int(std::size(kKernels)); ++i)
    if (kKernels[i].kind == kind) ids.push_back(i);
  return ids;
}

class KernelCheck : public ::testing::TestWithParam<int> {};

TEST_P(KernelCheck, MatchesExactArithmetic) {
  const Kernel &k = kKernels[GetParam()];
  ASSERT_EQ(k.kind, Kind::Linear);
  ASSERT_GE(k.weightOffsets[0], 0) << k.name;
  const bool int4 = std::string(k.layout).find("q4") != std::string::npos;
  qwen3c_rt::setThreads(2); // the parallel loop's slicing too
  static Buffers b;
  Weights w = randomWeights(k.n, k.k, int4, 7);
  pack(w, b.weights.data() + k.weightOffsets[0]);
  std::vector<float> x = inputs(k.m, k.k, 11);
  std::vector<float> y = run(k, b, x);
  std::vector<double> want = expected(w, x, k.m);
  double scale = 0, worst = 0;
  for (double v : want) scale = std::fmax(scale, std::fabs(v));
  for (size_t i = 0; i < y.size(); ++i) worst = std::fmax(worst, std::fabs(double(y[i]) - want[i]));
  EXPECT_LE(worst, 1e-5 * scale) << k.shape << ": max |y - exact| " << worst << " of max |y| " << scale;
  // A native kernel (i8, i8_madd) of the same shape gives the emulated
  // one's bits, whatever its tile.
  // Names are check_<layout>_<dot>_m<rows>[_split].
  std::string name = k.name;
  const size_t rowsAt = name.rfind("_m");
  for (const std::string native : {"_i8", "_i8_madd"}) {
    if (rowsAt < native.size() || name.compare(rowsAt - native.size(), native.size(), native) != 0) continue;
    const size_t rowsEnd = name.find('_', rowsAt + 2); // before a tile suffix such as _split
    std::string twin = name.substr(0, rowsAt - native.size()) + "_i8_emulated" + name.substr(rowsAt, rowsEnd - rowsAt);
    bool compared = false;
    for (const Kernel &e : kKernels)
      if (twin == e.name) { // its own weight slot, packed alike
        pack(w, b.weights.data() + e.weightOffsets[0]);
        std::vector<float> ye = run(e, b, x);
        EXPECT_EQ(0, std::memcmp(y.data(), ye.data(), y.size() * 4)) << k.name << " vs " << e.name;
        compared = true;
      }
    EXPECT_TRUE(compared) << k.name << " has no emulated twin " << twin;
  }
}

INSTANTIATE_TEST_SUITE_P(Generated, KernelCheck, ::testing::ValuesIn(kernelsOf(Kind::Linear)),
                         [](const ::testing::TestParamInfo<int> &i) { return std::string(kKernels[i.param].name); });

// Attention: the cache holds values the kernel reads exactly (f32; bf16
// values; int8 q times a power-of-two scale), written in the layout the
// strategy chose (keys in blocks of kKeyCacheBlock positions or in rows;
// values in rows; an int8 row's or block's scales where QuantisedCache.cpp
// puts them). The expected output is the causal softmax attention of those
// values in double: query row t is position `position + t` and sees keys
// 0..position + t.
struct Cache {
  int64_t H, C, D;
  std::vector<double> k, v; // logical [H][C][D]
  std::vector<uint8_t> kBytes, vBytes;
};

float roundedToBF16(float f) { // nearest even, as the kernels' roundToBF16 (no NaN here)
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000u;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t bf16Bits(float f) { // f is a bf16 value: its high half
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return uint16_t(bits >> 16);
}

Cache makeCache(const Kernel &a, uint32_t seed) {
  const int64_t H = a.kvHeads, C = a.context, D = a.dim, B = kKeyCacheBlock;
  const bool int8 = a.cacheRowBytes == D + 4, bf16 = a.cacheRowBytes == 2 * D;
  Cache c{H, C, D, std::vector<double>(size_t(H * C * D)), std::vector<double>(size_t(H * C * D)), {}, {}};
  c.kBytes.assign(size_t(H * C * a.cacheRowBytes), 0);
  c.vBytes.assign(c.kBytes.size(), 0);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::uniform_int_distribution<int> q8(-127, 127), e(-9, -5);
  for (int which = 0; which < 2; ++which) {
    std::vector<double> &x = which ? c.v : c.k;
    uint8_t *bytes = which ? c.vBytes.data() : c.kBytes.data();
    const bool blocked = which == 0 && B > 0;
    for (int64_t h = 0; h < H; ++h)
      for (int64_t p = 0; p < C; ++p) {
        const float scale = std::ldexp(1.0f, e(rng)); // int8: the row's scale
        // Where element d of (h, p) lives, counted in elements of the cache's type.
        auto at = [&](int64_t d) {
          const int64_t row = int8 ? D + 4 : D;
          return blocked ? ((h * (C / B) + p / B) * row + d) * B + p % B : (h * C + p) * row + d;
        };
        for (int64_t d = 0; d < D; ++d) {
          double &value = x[size_t((h * C + p) * D + d)];
          if (int8) {
            const int q = q8(rng);
            bytes[at(d)] = uint8_t(int8_t(q));
            value = double(q) * double(scale);
          } else if (bf16) {
            const float f = std::ldexp(float(int(u(rng) * 256)), -8); // 8 significant bits: exact in bf16
            const uint16_t bits = bf16Bits(f);
            std::memcpy(bytes + 2 * at(d), &bits, 2);
            value = f;
          } else {
            const float f = u(rng);
            std::memcpy(bytes + 4 * at(d), &f, 4);
            value = f;
          }
        }
        if (int8) // a row's scale after its D values; a block's 16 at byte row D, position l at 4l
          std::memcpy(bytes + (blocked ? (h * (C / B) + p / B) * (D + 4) * B + D * B + 4 * (p % B) : at(D)), &scale, 4);
      }
  }
  return c;
}

std::vector<double> expectedAttention(const Kernel &a, const Cache &c, const std::vector<float> &q) {
  const int64_t G = a.heads / a.kvHeads, D = a.dim;
  const double scale = 1.0 / std::sqrt(double(D));
  std::vector<double> out(q.size(), 0), s;
  for (int64_t t = 0; t < a.rows; ++t)
    for (int64_t h = 0; h < a.heads; ++h) {
      const int64_t kvh = h / G, n = std::min(a.position + t + 1, a.context);
      const float *qr = q.data() + (t * a.heads + h) * D;
      s.assign(size_t(n), 0);
      double top = -1e300, sum = 0;
      for (int64_t p = 0; p < n; ++p) {
        for (int64_t d = 0; d < D; ++d) s[size_t(p)] += double(qr[d]) * c.k[size_t((kvh * c.C + p) * D + d)];
        s[size_t(p)] *= scale;
        top = std::max(top, s[size_t(p)]);
      }
      for (double &x : s) sum += (x = std::exp(x - top));
      double *o = out.data() + (t * a.heads + h) * D;
      for (int64_t p = 0; p < n; ++p)
        for (int64_t d = 0; d < D; ++d) o[d] += s[size_t(p)] / sum * c.v[size_t((kvh * c.C + p) * D + d)];
    }
  return out;
}

class AttentionCheck : public ::testing::TestWithParam<int> {};

TEST_P(AttentionCheck, MatchesSoftmaxAttention) {
  const Kernel &a = kKernels[GetParam()];
  ASSERT_EQ(a.kind, Kind::Attention);
  ASSERT_EQ(kKeyCacheBlock, 16) << "the check kernels' caches are key-blocked (every attention online, 64 positions)";
  qwen3c_rt::setThreads(2);
  static Buffers b;
  Cache c = makeCache(a, 3);
  std::vector<float> q(size_t(a.rows * a.heads * a.dim)), out(q.size(), -1.0f);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-2, 2); // scores of a few units: a peaked softmax too
  for (float &x : q) x = u(rng);
  const int64_t row = a.cacheRowBytes == a.dim + 4 ? a.dim + 4 : a.dim; // memref elements of a row
  MemRef<3> qv = view<3>(q.data(), {a.rows, a.heads, a.dim}), ov = view<3>(out.data(), {a.rows, a.heads, a.dim});
  MemRef<4> kv = view<4>(c.kBytes.data(), {1, a.kvHeads, a.context, row}),
            vv = view<4>(c.vBytes.data(), {1, a.kvHeads, a.context, row});
  MemRef<1> wv = view<1>(b.weights.data(), {kWeightBytes}), av = view<1>(b.arena.data(), {kArenaBytes});
  using Fn = void (*)(MemRef<3> *, MemRef<4> *, MemRef<4> *, long long, MemRef<3> *, MemRef<1> *, MemRef<1> *);
  reinterpret_cast<Fn>(a.entry)(&qv, &kv, &vv, a.position, &ov, &wv, &av);
  // The bf16 families (vdpbf16ps pairs, AMX tiles) round the queries and
  // the softmax weights p to bf16: the reference takes the same rounded
  // queries (so its scores are those products exactly), and each weight's
  // relative error of at most 2^-9 moves o = sum p_j v_j / sum p_j by at
  // most 2^-9 max|v| (the sum l adds the unrounded weights).
  const std::string dot = a.dot;
  const bool rounds = a.roundsToBF16;
  std::vector<float> qRef = q;
  if (rounds)
    for (float &x : qRef) x = roundedToBF16(x);
  std::vector<double> want = expectedAttention(a, c, qRef);
  double scale = 0, worst = 0, vMax = 0;
  size_t at = 0;
  for (double v : want) scale = std::fmax(scale, std::fabs(v));
  for (double v : c.v) vMax = std::fmax(vMax, std::fabs(v));
  for (size_t i = 0; i < out.size(); ++i)
    if (!(std::fabs(double(out[i]) - want[i]) <= worst)) worst = std::fabs(double(out[i]) - want[i]), at = i;
  // f32 accumulation over at most 64 positions and an f32 exp: a few ulp of
  // each term, far below a wrong mask, block or weight (those are O(max|o|)).
  const double bound = 2e-5 * scale + (rounds ? std::ldexp(vMax, -9) : 0.0);
  EXPECT_LE(worst, bound) << a.shape << " (dot = " << dot << ")" << ": max |o - exact| " << worst << " at element " << at << " (query row "
                                 << at / size_t(a.heads * a.dim) << ") of max |o| " << scale;
}

INSTANTIATE_TEST_SUITE_P(Generated, AttentionCheck, ::testing::ValuesIn(kernelsOf(Kind::Attention)),
                         [](const ::testing::TestParamInfo<int> &i) { return std::string(kKernels[i.param].name); });

} // namespace

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
