//===- MachineLimits.h - what the hardware allows, measured ------*- C++ -*-===//
//
// The denominators of the bench's rooflines, measured on the machine at hand:
// read bandwidth from memory (decode streams every weight once per token) and
// peak arithmetic (prefill is compute bound): f32 FMA, AVX-512 BF16 dot
// products (vdpbf16ps), int8 dot products (AVX512-VNNI vpdpbusd,
// else AVX2's vpmaddubsw + vpmaddwd: what llama.cpp's Q8_0 products run on) and AMX-BF16 tile products (tdpbf16ps), each with
// enough independent accumulators to hide latency. All use 1..N threads,
// each on its own data.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_BENCH_MACHINELIMITS_H
#define QWEN3C_BENCH_MACHINELIMITS_H

#include <cstddef>

namespace qwen3c_bench {

// Best of several passes, GB/s, over `bytes` (rounded up to 2 MiB) split
// among `threads`, with 512-bit loads.
double readBandwidthGBs(int threads, size_t bytes = size_t(1) << 30);

enum class Arith { F32Fma, Bf16Dot, AmxBf16, Int8Dot };
// GFLOP/s (a multiply-add counts 2; Int8Dot: GOP/s of int8 multiply-adds); 0 when the CPU lacks the instructions
// (or, for AMX, the kernel refuses the tile state).
double peakGflops(int threads, Arith kind);

} // namespace qwen3c_bench

#endif
