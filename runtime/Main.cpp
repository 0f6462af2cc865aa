//===- Main.cpp - main() of every compiled model ----------------------------===//
#include "runtime/CompiledModel.h"
#include "runtime/ThreadPool.h"

#include <thread>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <string>

namespace {

const char *kUsage =
    "usage: %s --tokens ID,ID,... [options]\n"
    "  --tokens LIST        prompt as comma-separated token ids\n"
    "  -n, --n-predict N    tokens to generate (0: evaluate the prompt only)\n"
    "  --temp T             temperature (only 0, greedy, for now)\n"
    "  -c, --ctx-size N     context (at most the compiled maximum)\n"
    "  -t, --threads N      threads (default: all cores)\n"
    "  --dump-logits FILE   write f32 logits, one row of vocab_size per evaluated position\n"
    "  --json               print one JSON object with tokens and timings\n"
    "  --info               print the compiled model's constants as JSON\n"
    "  --weights FILE       sidecar weight file (default: this executable's path + .weights)\n"
    "  -h, --help           this text\n";

int64_t toInt(const char *flag, const char *v) {
  char *end = nullptr;
  errno = 0;
  long long x = std::strtoll(v, &end, 10);
  if (!*v || *end || errno == ERANGE)
    throw qwen3c_rt::RunError(std::string(flag) + ": '" + v + "' is not an integer");
  return x;
}

double toDouble(const char *flag, const char *v) {
  char *end = nullptr;
  double x = std::strtod(v, &end);
  if (!*v || *end) throw qwen3c_rt::RunError(std::string(flag) + ": '" + v + "' is not a number");
  return x;
}

} // namespace

int main(int argc, char **argv) {
  using qwen3c_rt::RunError;
  try {
    qwen3c_rt::RunOptions o;
    o.threads = std::max(1u, std::thread::hardware_concurrency());
    bool haveTokens = false;
    std::string weightsPath;
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto value = [&]() -> const char * {
        if (i + 1 >= argc) throw RunError(a + ": needs a value");
        return argv[++i];
      };
      if (a == "-h" || a == "--help") {
        std::printf(kUsage, argv[0]);
        return 0;
      } else if (a == "--tokens") {
        o.tokens = value();
        haveTokens = true;
      } else if (a == "-n" || a == "--n-predict") {
        o.n = toInt("-n", value());
      } else if (a == "--temp") {
        o.temp = toDouble("--temp", value());
      } else if (a == "-c" || a == "--ctx-size") {
        o.context = toInt("-c", value());
      } else if (a == "-t" || a == "--threads") {
        o.threads = toInt("-t", value());
      } else if (a == "--dump-logits") {
        o.dumpLogits = value();
      } else if (a == "--weights") {
        weightsPath = value();
      } else if (a == "--json") {
        o.json = true;
      } else if (a == "--info") {
        using namespace qwen3c_abi;
        const int64_t *m = qwen3c_model_info;
        std::printf("{\"layers\":%lld,\"kv_heads\":%lld,\"head_dim\":%lld,\"max_context\":%lld,"
                    "\"prefill_chunk\":%lld,\"vocab\":%lld,\"arena_bytes\":%lld,"
                    "\"weight_bytes\":%lld,\"decode_weight_bytes\":%lld}\n",
                    (long long)m[kNumLayers], (long long)m[kKVHeads], (long long)m[kHeadDim],
                    (long long)m[kContext], (long long)m[kPrefillChunk], (long long)m[kVocab],
                    (long long)m[kArenaBytes], (long long)m[kWeightBytes],
                    (long long)m[kDecodeWeightBytes]);
        return 0;
      } else {
        throw RunError("unknown option '" + a + "' (see --help)");
      }
    }
    if (!haveTokens) throw RunError("--tokens is required (see --help)");
    if (o.threads < 1) throw RunError("-t: must be at least 1, got " + std::to_string(o.threads));
    qwen3c_rt::setThreads(int(o.threads));
    qwen3c_rt::CompiledModel model(weightsPath);
    qwen3c_rt::generate(o, model);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "%s: error: %s\n", argv[0], e.what());
    return 1;
  }
  return 0;
}
