//===- MachineLimits.cpp ----------------------------------------------------===//
#include "bench/MachineLimits.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <thread>
#include <vector>

namespace qwen3c_bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// Runs fn(t) on `threads` threads at once; returns the wall time.
template <typename Fn> double timeParallel(int threads, Fn fn) {
  std::vector<std::thread> pool;
  auto t0 = Clock::now();
  for (int t = 1; t < threads; ++t) pool.emplace_back(fn, t);
  fn(0);
  for (auto &th : pool) th.join();
  return seconds(t0, Clock::now());
}

__attribute__((target("avx512f"))) float streamSum(const float *p, size_t n, size_t streams) {
  // S streams through S equal parts (the prefetchers reward several in
  // flight), four independent accumulators each so add latency never binds.
  __m512 acc[16][4];
  for (auto &a : acc)
    for (auto &x : a) x = _mm512_setzero_ps();
  size_t part = n / 64 / streams; // in units of four vectors
  for (size_t i = 0; i < part; ++i)
    for (size_t s = 0; s < streams; ++s) {
      const float *q = p + (s * part + i) * 64;
      acc[s][0] = _mm512_add_ps(acc[s][0], _mm512_load_ps(q));
      acc[s][1] = _mm512_add_ps(acc[s][1], _mm512_load_ps(q + 16));
      acc[s][2] = _mm512_add_ps(acc[s][2], _mm512_load_ps(q + 32));
      acc[s][3] = _mm512_add_ps(acc[s][3], _mm512_load_ps(q + 48));
    }
  __m512 r = _mm512_setzero_ps();
  for (size_t s = 0; s < streams; ++s)
    for (auto &x : acc[s]) r = _mm512_add_ps(r, x);
  return _mm512_reduce_add_ps(r);
}

// The same with 32-byte loads, for CPUs without AVX-512 (AVX2 hosts).
__attribute__((target("avx2"))) float streamSum256(const float *p, size_t n, size_t streams) {
  __m256 acc[16][4];
  for (auto &a : acc)
    for (auto &x : a) x = _mm256_setzero_ps();
  size_t part = n / 32 / streams; // in units of four vectors
  for (size_t i = 0; i < part; ++i)
    for (size_t s = 0; s < streams; ++s) {
      const float *q = p + (s * part + i) * 32;
      acc[s][0] = _mm256_add_ps(acc[s][0], _mm256_load_ps(q));
      acc[s][1] = _mm256_add_ps(acc[s][1], _mm256_load_ps(q + 8));
      acc[s][2] = _mm256_add_ps(acc[s][2], _mm256_load_ps(q + 16));
      acc[s][3] = _mm256_add_ps(acc[s][3], _mm256_load_ps(q + 24));
    }
  __m256 r = _mm256_setzero_ps();
  for (size_t s = 0; s < streams; ++s)
    for (auto &x : acc[s]) r = _mm256_add_ps(r, x);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, r);
  float sum = 0;
  for (float x : lanes) sum += x;
  return sum;
}

__attribute__((target("avx2,fma"))) float fmaLoop256(long iters) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(float(i));
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-3f);
  for (long it = 0; it < iters; ++it)
    for (auto &x : acc) x = _mm256_fmadd_ps(x, a, b);
  __m256 r = acc[0];
  for (int i = 1; i < 12; ++i) r = _mm256_add_ps(r, acc[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, r);
  return lanes[0];
}

bool hasAvx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

__attribute__((target("avx512f"))) float fmaLoop(long iters) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(float(i));
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-3f);
  for (long it = 0; it < iters; ++it)
    for (auto &x : acc) x = _mm512_fmadd_ps(x, a, b);
  __m512 r = acc[0];
  for (int i = 1; i < 12; ++i) r = _mm512_add_ps(r, acc[i]);
  return _mm512_reduce_add_ps(r);
}

__attribute__((target("avx512f,avx512bf16"))) float bf16Loop(long iters) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(float(i));
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3a83);
  for (long it = 0; it < iters; ++it)
    for (auto &x : acc) x = _mm512_dpbf16_ps(x, a, b);
  __m512 r = acc[0];
  for (int i = 1; i < 12; ++i) r = _mm512_add_ps(r, acc[i]);
  return _mm512_reduce_add_ps(r);
}

__attribute__((target("avx512f,avx512vnni"))) int int8Loop(long iters) {
  __m512i acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_epi32(i);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-5);
  // Integer adds are associative: without the empty asm, which makes each
  // new sum opaque, the compiler folds the loop into one multiply.
  for (long it = 0; it < iters; ++it)
    for (auto &x : acc) {
      x = _mm512_dpbusd_epi32(x, a, b);
      __asm__ volatile("" : "+v"(x));
    }
  __m512i r = acc[0];
  for (int i = 1; i < 12; ++i) r = _mm512_add_epi32(r, acc[i]);
  return _mm512_reduce_add_epi32(r);
}

// AVX2 has no int8 dot instruction: llama.cpp's quantised products (and
// qwen3c's i8_madd family) multiply unsigned by signed bytes into i16 pairs
// (vpmaddubsw), widen the pairs to i32 (vpmaddwd with ones) and add: three
// instructions per 32 multiply-adds. The operands keep every pair sum
// within i16 (as the kernels' |q_w| and q_x with q_w's sign do).
__attribute__((target("avx2"))) int int8Loop256(long iters) {
  // 8 accumulators, each on its own operand pair (4 x 2 of 16 ymm): the
  // products are not loop-invariant (the empty asm makes every operand new
  // each iteration), nor shared between accumulators.
  __m256i acc[8], u[4], s[2];
  for (int i = 0; i < 8; ++i) acc[i] = _mm256_set1_epi32(i);
  for (int i = 0; i < 4; ++i) u[i] = _mm256_set1_epi8(char(3 + i));
  for (int i = 0; i < 2; ++i) s[i] = _mm256_set1_epi8(char(-5 - i));
  const __m256i ones = _mm256_set1_epi16(1);
  for (long it = 0; it < iters; ++it) {
    for (auto &x : u) __asm__ volatile("" : "+v"(x));
    for (auto &x : s) __asm__ volatile("" : "+v"(x));
    for (int i = 0; i < 8; ++i) {
      acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(_mm256_maddubs_epi16(u[i % 4], s[i / 4]), ones));
      __asm__ volatile("" : "+v"(acc[i]));
    }
  }
  __m256i r = acc[0];
  for (int i = 1; i < 8; ++i) r = _mm256_add_epi32(r, acc[i]);
  alignas(32) int lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i *>(lanes), r);
  return lanes[0];
}

// The AMX tile state must be granted to the process before the first tile
// instruction (Linux 5.16+); false where the CPU or the kernel says no.
bool amxGranted() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("amx-tile") || !__builtin_cpu_supports("amx-bf16")) return false;
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return ::syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

// tdpbf16ps on tiles already loaded: four 16 x 16 f32 accumulators (tmm0-3),
// two input tiles (tmm4-5) and two weight tiles (tmm6-7), as the AMX
// product family holds them; 16 x 16 x 32 multiply-adds per instruction.
__attribute__((target("amx-tile,amx-bf16"))) float amxLoop(long iters) {
  struct alignas(64) TileConfig {
    uint8_t palette = 1, startRow = 0, reserved[14] = {};
    uint16_t bytesPerRow[16] = {};
    uint8_t rows[16] = {};
  } config;
  for (int i = 0; i < 8; ++i) {
    config.bytesPerRow[i] = 64;
    config.rows[i] = 16;
  }
  alignas(64) static uint16_t operand[16 * 32];
  for (auto &x : operand) x = 0x3a83; // ~1e-3 in bf16: sums stay finite
  alignas(64) float out[16 * 16];
  _tile_loadconfig(&config);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, operand, 64);
  _tile_loadd(5, operand, 64);
  _tile_loadd(6, operand, 64);
  _tile_loadd(7, operand, 64);
  for (long it = 0; it < iters; ++it) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, out, 64);
  _tile_release();
  return out[0];
}

volatile float sink;

} // namespace

double readBandwidthGBs(int threads, size_t bytes) {
  constexpr size_t huge = size_t(2) << 20;
  threads = std::max(1, threads);
  size_t per = (bytes / size_t(threads) + huge - 1) / huge * huge;
  std::vector<float *> parts(static_cast<size_t>(threads), nullptr);
  for (auto &p : parts) {
    p = static_cast<float *>(std::aligned_alloc(huge, per));
    if (!p) return 0;
    madvise(p, per, MADV_HUGEPAGE);
  }
  // Each thread touches its own part first (first-touch placement).
  timeParallel(threads, [&](int t) { std::memset(parts[size_t(t)], 1, per); });
  const bool wide = hasAvx512();
  double best = 0;
  for (size_t streams : {1, 2, 4, 8})
    for (int rep = 0; rep < 4; ++rep) {
      double s = timeParallel(threads, [&](int t) {
        sink = wide ? streamSum(parts[size_t(t)], per / 4, streams) : streamSum256(parts[size_t(t)], per / 4, streams);
      });
      best = std::max(best, double(per) * threads / s / 1e9);
    }
  for (auto *p : parts) std::free(p);
  return best;
}

double peakGflops(int threads, Arith kind) {
  if (kind == Arith::AmxBf16) {
    if (!amxGranted()) return 0;
    const double flopsPerIter = 4.0 * 16 * 16 * 32 * 2;
    const long iters = 2'000'000;
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {
      double s = timeParallel(threads, [&](int) { sink = amxLoop(iters); });
      best = std::max(best, flopsPerIter * double(iters) * threads / s / 1e9);
    }
    return best;
  }
  const bool wide = hasAvx512();
  if (kind == Arith::Int8Dot) {
    const bool vnni = wide && __builtin_cpu_supports("avx512vnni");
    if (!vnni && !__builtin_cpu_supports("avx2")) return 0;
    // 12 dots x 16 lanes (AVX2: 8 dots x 8 lanes) x 4 int8 multiply-adds x 2 ops.
    const double opsPerIter = (vnni ? 12.0 * 16 : 8.0 * 8) * 4 * 2;
    const long iters = 20'000'000;
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {
      double s = timeParallel(threads, [&](int) { sink = float(vnni ? int8Loop(iters) : int8Loop256(iters)); });
      best = std::max(best, opsPerIter * double(iters) * threads / s / 1e9);
    }
    return best;
  }
  if (kind == Arith::Bf16Dot && (!wide || !__builtin_cpu_supports("avx512bf16"))) return 0;
  if (!wide && !__builtin_cpu_supports("fma")) return 0;
  // Per iteration: 12 instructions x 16 lanes (8 with AVX2) x (FMA: 2 flops; dpbf16: 2 pairs x 2).
  const double flopsPerIter = 12.0 * (wide ? 16 : 8) * (kind == Arith::F32Fma ? 2 : 4);
  const long iters = 20'000'000;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    double s = timeParallel(threads, [&](int) {
      sink = kind == Arith::Bf16Dot ? bf16Loop(iters) : wide ? fmaLoop(iters) : fmaLoop256(iters);
    });
    best = std::max(best, flopsPerIter * double(iters) * threads / s / 1e9);
  }
  return best;
}

} // namespace qwen3c_bench
