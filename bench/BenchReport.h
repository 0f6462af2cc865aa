//===- BenchReport.h - `qwen3c bench` results and their renderings -*- C++ -*-===//
//
// What a bench run measured (every sample, the machine's limits beside each
// row) and the three forms it is shown in: a markdown table, a JSON document
// and an SVG bar chart (one group per measurement, one bar per engine).
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_BENCH_BENCHREPORT_H
#define QWEN3C_BENCH_BENCHREPORT_H

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace qwen3c_bench {

struct Measurement {
  std::string engine;          // "qwen3c bf16", "pytorch bf16", ...
  std::string test;            // "pp64" (prefill of 64 tokens), "tg128" (decode of 128)
  int threads = 1;
  std::vector<double> samples; // tokens/s, one per repetition
  std::string note;            // why there are no samples (absent, failed, skipped)
  double limit = 0;            // tokens/s the machine allows for this row; 0: unknown
  std::string limitBasis;      // what the limit is: "26.6 GB/s / 1.19 GB per token"

  double median() const;
  double lowest() const;
  double highest() const;
};

struct MachineLimits {
  std::string cpu;
  int cores = 0;
  std::vector<int> threads;                 // the thread counts measured
  std::vector<double> bandwidthGBs;         // per thread count
  std::vector<double> f32Gflops, bf16Gflops, amxGflops, int8Gops; // per thread count (0: the CPU has none)
};

// What a fusion level does to the compiled graph, from the IR (passes/
// CostModel), for the fusion-level table beside the measured rows.
struct FusionLevel {
  std::string engine;  // the engine label its measurements carry
  std::string level;   // none, basic, all
  double decodeKernels = 0, decodeActivationRead = 0, decodeActivationWritten = 0; // per decoded token
  double prefillKernels = 0, prefillActivationRead = 0, prefillActivationWritten = 0; // per prompt token
  int64_t decodePosition = 0; // KV position the decode costs are taken at
};

struct Report {
  std::string model;   // checkpoint folder
  std::string command; // how it was run
  std::string date;
  MachineLimits machine;
  std::vector<Measurement> rows;
  std::vector<std::string> notes;
  std::vector<FusionLevel> fusion; // one per fusion-level engine, if any
};

std::string renderMarkdown(const Report &r);
// The fusion-level table alone (also part of renderMarkdown when present).
std::string renderFusionTable(const Report &r);
// printf of one number ("%.1f") into a string: the report's numbers and labels.
std::string formatNumber(const char *format, double v);
nlohmann::json toJson(const Report &r);
std::string renderSvg(const Report &r);

} // namespace qwen3c_bench

#endif
