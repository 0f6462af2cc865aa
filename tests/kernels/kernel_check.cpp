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

INSTANTIATE_TEST_SUITE_P(Generated, KernelCheck, ::testing::Range(0, int(std::size(kKernels))),
                         [](const ::testing::TestParamInfo<int> &i) { return std::string(kKernels[i.param].name); });

} // namespace

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
