//===- tokenizer_bench.cpp - encode/decode throughput (Google Benchmark) ----===//
//
// Encodes about 1 MB built from the test corpus (prose, code, CJK, Arabic,
// emoji, whitespace runs, special tokens) with the pinned Qwen3 tokenizer.
// Reports bytes/s; the target is well under one second per MB.
//
//===----------------------------------------------------------------------===//
#include "runtime/Tokenizer.h"

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace {

const qwen3c_rt::Tokenizer &tokenizer() {
  static auto t = qwen3c_rt::Tokenizer::fromFile(std::string(QWEN3C_TOKENIZER_DIR) + "/tokenizer.json");
  return *t;
}

std::string megabyte() {
  std::ifstream in(std::string(QWEN3C_TESTS_DIR) + "/tokenizer/corpus.json");
  auto corpus = nlohmann::json::parse(in);
  std::string text;
  // Vary the text so the piece cache sees new words, as real text does.
  for (int i = 0; text.size() < (1u << 20); ++i)
    for (const auto &s : corpus) text += s.get<std::string>() + " " + std::to_string(i * 7919) + "\n";
  return text;
}

void BM_Encode1MB(benchmark::State &state) {
  static const std::string text = megabyte();
  tokenizer().encode(text.substr(0, 100)); // load outside the timed loop
  for (auto _ : state) benchmark::DoNotOptimize(tokenizer().encode(text));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
}
BENCHMARK(BM_Encode1MB)->Unit(benchmark::kMillisecond);

void BM_Decode(benchmark::State &state) {
  static const std::vector<int32_t> ids = tokenizer().encode(megabyte());
  for (auto _ : state) benchmark::DoNotOptimize(tokenizer().decode(ids));
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(ids.size()));
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
