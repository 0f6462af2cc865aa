//===- kernel_bench.cpp - generated kernels against plain loops -------------===//
//
// Google Benchmark over the kernels qwen3c-kernelgen compiled (real
// Qwen3-0.6B and 30B-A3B shapes). Each kernel runs beside a plain C++
// reference loop doing the same arithmetic on the same data sizes (bf16
// weights widened to f32, f32 accumulation; compiled -O3 for the host, so the
// compiler's own auto-vectorisation is the baseline). Counters: GB/s of
// weights and KV cache read, GFLOP/s. Arguments: threads (the generated code
// uses the runtime's pool; the reference is single-threaded).
//
//   qwen3c-kernel-bench [--benchmark_filter=linear_q06b]
//
//===----------------------------------------------------------------------===//
#include "bench/kernels/Kernels.h"
#include "runtime/CpuFeatures.h"
#include "runtime/ModelAbi.h"
#include "runtime/Generate.h"
#include "runtime/ThreadPool.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <sys/mman.h>
#include <thread>
#include <vector>

using namespace qwen3c_kernels;
using qwen3c_abi::MemRef;

namespace {

template <int R> MemRef<R> view(void *p, const int64_t (&sizes)[R]) { return qwen3c_abi::contiguousView(p, sizes); }

// Random but tame contents (no NaN, no denormals): bf16 of values in [-1, 1].
void fillBf16(uint16_t *p, size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  for (size_t i = 0; i < n; ++i) {
    float f = d(rng) * 0.05f;
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    p[i] = uint16_t(bits >> 16);
  }
}

void fillF32(float *p, size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  for (size_t i = 0; i < n; ++i) p[i] = d(rng);
}

struct Blob { // the generated kernels' weights and arena, shared by all
  uint8_t *weights, *arena;
  Blob() {
    // On huge pages, as a compiled model holds its weights (allocHuge): on
    // 4 KiB pages the streaming products (the LM head) measured half speed.
    const size_t weightBytes = (size_t(kWeightBytes) + (2 << 20)) & ~size_t((2 << 20) - 1);
    weights = static_cast<uint8_t *>(std::aligned_alloc(2 << 20, weightBytes));
    madvise(weights, weightBytes, MADV_HUGEPAGE);
    arena = static_cast<uint8_t *>(std::aligned_alloc(64, (size_t(kArenaBytes) + 64) & ~size_t(63)));
    fillBf16(reinterpret_cast<uint16_t *>(weights), size_t(kWeightBytes) / 2, 1);
  }
};
Blob &blob() {
  static Blob b;
  return b;
}

inline float widen(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Bytes and FLOPs one call moves.
double weightBytes(const Kernel &k) {
  switch (k.kind) {
  case Kind::Linear: return 2.0 * double(k.n * k.k);
  case Kind::Attention: // K and V, read once
    return 2.0 * double(k.cacheRowBytes) * double(k.kvHeads * (k.position + k.rows));
  case Kind::MoE: return 2.0 * double(k.experts * k.hidden + 3 * k.topK * k.inter * k.hidden);
  }
  return 0;
}
double flops(const Kernel &k) {
  switch (k.kind) {
  case Kind::Linear: return 2.0 * double(k.m * k.n * k.k);
  case Kind::Attention: // row t sees position + t + 1 keys
    return 4.0 * double(k.heads * k.dim) * (double(k.rows) * double(k.position + 1) + double(k.rows * (k.rows - 1)) / 2);
  case Kind::MoE: return 2.0 * double(k.experts * k.hidden + 3 * k.topK * k.inter * k.hidden);
  }
  return 0;
}

// Shown as "GB=.../s" (weights and KV cache read per second) and "GFLOP=.../s".
// Weights that fit in the last-level cache stay there between iterations; the
// LM head (311 MB) and the MoE block show the memory-bound rate.
void counters(benchmark::State &state, const Kernel &k) {
  state.counters["GFLOP"] = benchmark::Counter(flops(k) * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
  state.counters["GB"] = benchmark::Counter(weightBytes(k) * double(state.iterations()) / 1e9,
                                            benchmark::Counter::kIsRate);
}

// Memory on transparent huge pages, as a compiled model maps its KV cache:
// attention streams the cache, and on 4 KiB pages the TLB, not the kernel,
// would set the pace (a 4096-position decode took 1.2-1.6x as long here).
template <class T> struct HugePages {
  using value_type = T;
  HugePages() = default;
  template <class U> HugePages(const HugePages<U> &) {}
  T *allocate(size_t n) {
    const size_t huge = 2 << 20, bytes = (n * sizeof(T) + huge - 1) / huge * huge;
    void *p = std::aligned_alloc(huge, std::max(bytes, huge));
    if (!p) throw std::bad_alloc();
    madvise(p, bytes, MADV_HUGEPAGE);
    return static_cast<T *>(p);
  }
  void deallocate(T *p, size_t) { std::free(p); }
  template <class U> bool operator==(const HugePages<U> &) const { return true; }
};
template <class T> using CacheVector = std::vector<T, HugePages<T>>;

struct Buffers { // activations and caches for one kernel
  std::vector<float> in, out;
  CacheVector<float> keys, values;
  CacheVector<uint16_t> keys16, values16; // a bf16 cache
  CacheVector<uint8_t> keys8, values8;    // an int8 cache (rows of dim bytes and an f32 scale)
  explicit Buffers(const Kernel &k) {
    if (k.kind == Kind::Linear) in.resize(size_t(k.m * k.k)), out.resize(size_t(k.m * k.n));
    if (k.kind == Kind::MoE) in.resize(size_t(k.hidden)), out.resize(size_t(k.hidden));
    if (k.kind == Kind::Attention) {
      in.resize(size_t(k.rows * k.heads * k.dim)), out.resize(in.size());
      keys.resize(size_t(k.kvHeads * k.context * k.dim)), values.resize(keys.size());
      fillF32(keys.data(), keys.size(), 3);
      fillF32(values.data(), values.size(), 4);
      if (k.cacheRowBytes == 2 * k.dim) {
        keys16.resize(keys.size()), values16.resize(keys.size());
        fillBf16(keys16.data(), keys16.size(), 3);
        fillBf16(values16.data(), values16.size(), 4);
      }
      if (k.cacheRowBytes == k.dim + 4) {
        // Bytes 0x30..0x3c: as int8 values small positive numbers, and any
        // four of them (a scale, wherever the layout puts it) a finite f32
        // between 2^-31 and 2^-6.
        keys8.resize(size_t(k.kvHeads * k.context * k.cacheRowBytes)), values8.resize(keys8.size());
        std::mt19937 rng(5);
        for (uint8_t &x : keys8) x = uint8_t(0x30 + rng() % 13);
        for (uint8_t &x : values8) x = uint8_t(0x30 + rng() % 13);
      }
    }
    fillF32(in.data(), in.size(), 2);
  }
};

void generated(benchmark::State &state, const Kernel *k) {
  qwen3c_rt::setThreads(int(state.range(0)));
  Buffers b(*k);
  Blob &blobs = blob();
  auto w = view<1>(blobs.weights, {kWeightBytes});
  auto a = view<1>(blobs.arena, {kArenaBytes});
  for (auto _ : state) {
    if (k->kind == Kind::Attention) {
      auto q = view<3>(b.in.data(), {k->rows, k->heads, k->dim}), o = view<3>(b.out.data(), {k->rows, k->heads, k->dim});
      const bool int8 = k->cacheRowBytes == k->dim + 4, bf16 = k->cacheRowBytes == 2 * k->dim;
      void *keys = int8 ? static_cast<void *>(b.keys8.data()) : bf16 ? static_cast<void *>(b.keys16.data()) : b.keys.data();
      void *values = int8   ? static_cast<void *>(b.values8.data())
                     : bf16 ? static_cast<void *>(b.values16.data())
                            : b.values.data();
      const int64_t row = int8 ? k->dim + 4 : k->dim; // memref elements of a row
      auto kc = view<4>(keys, {1, k->kvHeads, k->context, row});
      auto vc = view<4>(values, {1, k->kvHeads, k->context, row});
      using Fn = void (*)(MemRef<3> *, MemRef<4> *, MemRef<4> *, long long, MemRef<3> *, MemRef<1> *, MemRef<1> *);
      reinterpret_cast<Fn>(k->entry)(&q, &kc, &vc, k->position, &o, &w, &a);
    } else {
      int64_t rows = k->kind == Kind::Linear ? k->m : 1, in = k->kind == Kind::Linear ? k->k : k->hidden,
              out = k->kind == Kind::Linear ? k->n : k->hidden;
      auto x = view<2>(b.in.data(), {rows, in}), y = view<2>(b.out.data(), {rows, out});
      using Fn = void (*)(MemRef<2> *, MemRef<2> *, MemRef<1> *, MemRef<1> *);
      reinterpret_cast<Fn>(k->entry)(&x, &y, &w, &a);
    }
    benchmark::DoNotOptimize(b.out.data());
    benchmark::ClobberMemory();
  }
  counters(state, *k);
}

// Plain loops: what a straightforward C++ implementation computes.
void referenceLinear(const float *x, const uint16_t *w, float *y, int64_t m, int64_t k, int64_t n) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0;
      for (int64_t l = 0; l < k; ++l) acc += x[i * k + l] * widen(w[j * k + l]);
      y[i * n + j] = acc;
    }
}

void referenceAttention(const Kernel &k, const float *q, const float *keys, const float *values, float *out) {
  const int64_t len = k.position + 1, group = k.heads / k.kvHeads;
  std::vector<float> scores(static_cast<size_t>(len));
  const float scale = 1.0f / std::sqrt(float(k.dim));
  for (int64_t h = 0; h < k.heads; ++h) {
    const float *kh = keys + (h / group) * k.context * k.dim, *vh = values + (h / group) * k.context * k.dim;
    float top = -INFINITY;
    for (int64_t p = 0; p < len; ++p) {
      float s = 0;
      for (int64_t d = 0; d < k.dim; ++d) s += q[h * k.dim + d] * kh[p * k.dim + d];
      scores[size_t(p)] = s * scale;
      top = std::max(top, scores[size_t(p)]);
    }
    float sum = 0;
    for (auto &s : scores) sum += (s = std::exp(s - top));
    for (int64_t d = 0; d < k.dim; ++d) out[h * k.dim + d] = 0;
    for (int64_t p = 0; p < len; ++p)
      for (int64_t d = 0; d < k.dim; ++d) out[h * k.dim + d] += scores[size_t(p)] / sum * vh[p * k.dim + d];
  }
}

void referenceMoE(const Kernel &k, const float *x, const uint16_t *router, const uint16_t *gate, const uint16_t *up,
                  const uint16_t *down, float *y) {
  std::vector<float> logits(size_t(k.experts)), h(size_t(k.inter)), u(size_t(k.inter)), part(size_t(k.hidden));
  referenceLinear(x, router, logits.data(), 1, k.hidden, k.experts);
  float top = *std::max_element(logits.begin(), logits.end());
  for (auto &l : logits) l = std::exp(l - top); // top-k renormalises: the softmax sum cancels
  std::vector<int64_t> order(size_t(k.experts));
  for (int64_t e = 0; e < k.experts; ++e) order[size_t(e)] = e;
  std::partial_sort(order.begin(), order.begin() + k.topK, order.end(),
                    [&](int64_t a, int64_t b) { return logits[size_t(a)] > logits[size_t(b)]; });
  float norm = 0;
  for (int64_t j = 0; j < k.topK; ++j) norm += logits[size_t(order[size_t(j)])];
  std::fill(y, y + k.hidden, 0.0f);
  for (int64_t j = 0; j < k.topK; ++j) {
    int64_t e = order[size_t(j)];
    referenceLinear(x, gate + e * k.inter * k.hidden, h.data(), 1, k.hidden, k.inter);
    referenceLinear(x, up + e * k.inter * k.hidden, u.data(), 1, k.hidden, k.inter);
    for (int64_t i = 0; i < k.inter; ++i) h[size_t(i)] = h[size_t(i)] / (1 + std::exp(-h[size_t(i)])) * u[size_t(i)];
    referenceLinear(h.data(), down + e * k.hidden * k.inter, part.data(), 1, k.inter, k.hidden);
    for (int64_t i = 0; i < k.hidden; ++i) y[i] += logits[size_t(e)] / norm * part[size_t(i)];
  }
}

void reference(benchmark::State &state, const Kernel *k) {
  Buffers b(*k);
  // Row-major bf16 weights of the same sizes (the generated kernels use
  // their packed layout inside the shared blob).
  std::vector<uint16_t> w;
  if (k->kind == Kind::Linear) w.resize(size_t(k->n * k->k));
  if (k->kind == Kind::MoE) w.resize(size_t(k->experts * k->hidden + 3 * k->experts * k->inter * k->hidden));
  fillBf16(w.data(), w.size(), 5);
  for (auto _ : state) {
    if (k->kind == Kind::Linear) referenceLinear(b.in.data(), w.data(), b.out.data(), k->m, k->k, k->n);
    if (k->kind == Kind::Attention) referenceAttention(*k, b.in.data(), b.keys.data(), b.values.data(), b.out.data());
    if (k->kind == Kind::MoE) {
      const uint16_t *router = w.data(), *gate = router + k->experts * k->hidden,
                     *up = gate + k->experts * k->inter * k->hidden, *down = up + k->experts * k->inter * k->hidden;
      referenceMoE(*k, b.in.data(), router, gate, up, down, b.out.data());
    }
    benchmark::DoNotOptimize(b.out.data());
    benchmark::ClobberMemory();
  }
  counters(state, *k);
}

} // namespace

int main(int argc, char **argv) {
  // As a compiled model's main does: refuse in one line on a CPU that lacks
  // the kernels' features, and have the kernel grant the AMX tile state
  // before the first tile instruction (without it tileloadd is SIGILL).
  try {
    qwen3c_rt::requireCpuFeatures(qwen3c_target_features, qwen3c_target_cpu);
  } catch (const qwen3c_rt::RunError &e) {
    std::fprintf(stderr, "qwen3c-kernel-bench: error: %s\n", e.what());
    return 1;
  }
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  for (const Kernel &k : kKernels) {
    auto *g = benchmark::RegisterBenchmark((std::string(k.name) + "/qwen3c").c_str(), generated, &k);
    g->ArgName("threads")->Arg(1)->UseRealTime()->Unit(benchmark::kMicrosecond);
    if (cores > 1) g->Arg(cores);
    // The plain loop: decode attention on f32 caches only.
    if (k.kind == Kind::Attention && (k.rows > 1 || k.cacheRowBytes != 4 * k.dim)) continue;
    // The plain loop at prefill sizes takes seconds per call: one iteration.
    auto *r = benchmark::RegisterBenchmark((std::string(k.name) + "/plain-loop").c_str(), reference, &k);
    r->ArgName("threads")->Arg(1)->UseRealTime()->Unit(benchmark::kMicrosecond);
    if (k.kind == Kind::Linear && k.m > 1) r->Iterations(1);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
