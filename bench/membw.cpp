//===- membw.cpp - single-thread memory read bandwidth ----------------------===//
//
// The denominator of the decode roofline: streams a buffer far larger than
// the caches (default 1 GiB, huge pages) with 512-bit loads, as the decode
// kernels do, and prints the best of several passes in GB/s.
//
//===----------------------------------------------------------------------===//
#include <chrono>
#include <initializer_list>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>

typedef float v16f __attribute__((vector_size(64)));

int main(int argc, char **argv) {
  size_t bytes = (argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024) << 20;
  constexpr size_t huge = size_t(2) << 20;
  bytes = (bytes + huge - 1) / huge * huge;
  auto *p = static_cast<v16f *>(std::aligned_alloc(huge, bytes));
  if (!p) return 1;
  madvise(p, bytes, MADV_HUGEPAGE);
  std::memset(p, 1, bytes);
  size_t n = bytes / sizeof(v16f);
  double best = 0;
  v16f sink = {};
  // One sequential stream, and S streams through S equal parts (the
  // prefetchers reward several streams in flight); the best counts.
  for (size_t streams : {1, 4, 8, 16}) {
    size_t part = n / streams;
    for (int rep = 0; rep < 5; ++rep) {
      v16f acc[16] = {};
      auto t0 = std::chrono::steady_clock::now();
      for (size_t i = 0; i < part; ++i)
        for (size_t s = 0; s < streams; ++s) acc[s] += p[s * part + i];
      double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      for (size_t s = 0; s < streams; ++s) sink += acc[s];
      double gbs = double(part * streams * sizeof(v16f)) / sec / 1e9;
      if (gbs > best) best = gbs;
      if (argc > 2) std::fprintf(stderr, "streams %zu: %.2f GB/s\n", streams, gbs);
    }
  }
  std::printf("%.2f\n", best + 0 * double(sink[0]));
  std::free(p);
  return 0;
}
