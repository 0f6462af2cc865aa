//===- Generate.h - the run loop shared by compiled models and run-eager -*- C++ -*-===//
//
// Prompt evaluation, greedy continuation, logit dumps and the JSON report:
// the same code drives a compiled model and the eager interpreter, so their
// outputs can be compared byte for byte.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_GENERATE_H
#define QWEN3C_RUNTIME_GENERATE_H

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace qwen3c_rt {

class TokenDecoder;

struct RunError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct RunOptions {
  std::string tokens;      // "1,2,3"
  int64_t n = 0;           // tokens to generate
  double temp = 0;         // only 0 (greedy) for now
  std::string dumpLogits;  // f32 rows, one per evaluated position
  bool json = false;
  int64_t threads = 1;
  int64_t context = 0;     // 0: the backend's maximum
  const TokenDecoder *decoder = nullptr; // when set, --json carries "text"
};

// Something that evaluates tokens at positions pos.. and returns one row of
// logits per token, keeping its KV cache between calls.
class Backend {
public:
  virtual ~Backend() = default;
  virtual const char *name() const = 0;
  virtual int64_t vocab() const = 0;
  virtual int64_t maxContext() const = 0;
  virtual std::vector<float> forward(const std::vector<int32_t> &tokens, int64_t pos) = 0;
};

std::vector<int32_t> parseTokens(const std::string &s, int64_t vocab);

// Validates the options against the backend, runs, prints. Throws RunError.
void generate(const RunOptions &options, Backend &backend);

} // namespace qwen3c_rt

#endif
