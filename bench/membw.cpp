//===- membw.cpp - the machine's limits, printed -----------------------------===//
//
//   qwen3c-membw [THREADS [MIB]]          read bandwidth in GB/s
//   qwen3c-membw --peak [THREADS]         f32 FMA, bf16 dot and AMX-BF16 GFLOP/s
//
// The same measurements `qwen3c bench` puts beside its rows.
//
//===----------------------------------------------------------------------===//
#include "bench/MachineLimits.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char **argv) {
  using namespace qwen3c_bench;
  if (argc > 1 && std::strcmp(argv[1], "--peak") == 0) {
    int threads = argc > 2 ? std::atoi(argv[2]) : 1;
    std::printf("f32 fma %.1f GFLOP/s, bf16 dot %.1f GFLOP/s, amx bf16 %.1f GFLOP/s, int8 dot %.1f GOP/s (%d threads)\n",
                peakGflops(threads, Arith::F32Fma), peakGflops(threads, Arith::Bf16Dot),
                peakGflops(threads, Arith::AmxBf16), peakGflops(threads, Arith::Int8Dot), threads);
    return 0;
  }
  int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  size_t mib = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1024;
  std::printf("%.2f\n", readBandwidthGBs(threads, mib << 20));
  return 0;
}
