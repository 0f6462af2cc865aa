//===- RunEagerCommand.cpp - `qwen3c run-eager`: the interpreter as a runner -===//
//
// Takes the run flags the compiled binary will take (--tokens, -n, --temp 0,
// --dump-logits, --json, -t), so the two can be compared line for line.
//
//===----------------------------------------------------------------------===//
#include "frontend/AtomicFile.h"
#include "frontend/Error.h"
#include "tools/qwen3c/Commands.h"
#include "tools/qwen3c/EagerModel.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace q3c {
namespace {

std::vector<int32_t> parseTokens(const std::string &s, int64_t vocab) {
  std::vector<int32_t> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    std::string item = s.substr(start, end - start);
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception &) {
      used = 0;
    }
    if (item.empty() || used != item.size())
      fail("--tokens: '", item, "' is not a token id");
    if (v < 0 || v >= vocab)
      fail("--tokens: token id ", v, " is out of range (vocabulary of ", vocab, ")");
    out.push_back(int32_t(v));
    start = end + 1;
  }
  return out;
}

int32_t argmaxRow(const float *row, int64_t n) {
  return int32_t(std::max_element(row, row + n) - row);
}

struct RunOptions {
  std::string checkpoint, tokens, dumpLogits;
  int64_t n = 0, chunk = 64, context = 0, threads = 1;
  double temp = 0;
  bool json = false;
};

void runEager(const RunOptions &o) {
  if (o.n < 0) fail("-n: must be 0 or more, got ", o.n);
  if (o.temp != 0) fail("--temp: the eager runner only decodes greedily (--temp 0) for now");
  if (o.chunk < 1) fail("--chunk: must be at least 1");
  ModelConfig probe = ModelConfig::load(o.checkpoint + "/config.json");
  int64_t context = o.context ? o.context : std::min<int64_t>(4096, probe.maxPositionEmbeddings);
  if (context < 1 || context > probe.maxPositionEmbeddings)
    fail("--max-context: ", context, " is outside 1..", probe.maxPositionEmbeddings,
         " (max_position_embeddings)");
  std::vector<int32_t> prompt = parseTokens(o.tokens, probe.vocabSize);
  if (int64_t(prompt.size()) + o.n > context)
    fail("prompt of ", prompt.size(), " tokens plus -n ", o.n, " exceeds the context of ", context);

  EagerModel model(o.checkpoint, std::min(o.chunk, context), context);
  const int64_t V = model.config().vocabSize;
  std::unique_ptr<AtomicFile> dump;
  if (!o.dumpLogits.empty()) dump = std::make_unique<AtomicFile>(o.dumpLogits);

  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  std::vector<float> logits = model.forward(prompt, 0);
  auto t1 = clock::now();
  if (dump) dump->write(logits.data(), logits.size() * sizeof(float));

  // Each generated token is evaluated too, so the dump has one row per
  // position of prompt + generated text.
  std::vector<int32_t> generated;
  int32_t next = argmaxRow(logits.data() + (prompt.size() - 1) * size_t(V), V);
  for (int64_t i = 0; i < o.n; ++i) {
    generated.push_back(next);
    if (!o.json) {
      std::printf("%d%s", next, i + 1 < o.n ? "," : "\n");
      std::fflush(stdout);
    }
    std::vector<float> row = model.forward({next}, int64_t(prompt.size()) + i);
    if (dump) dump->write(row.data(), row.size() * sizeof(float));
    next = argmaxRow(row.data(), V);
  }
  auto t2 = clock::now();
  if (dump) dump->commit();

  double promptS = std::chrono::duration<double>(t1 - t0).count();
  double genS = std::chrono::duration<double>(t2 - t1).count();
  double promptTps = promptS > 0 ? double(prompt.size()) / promptS : 0;
  double genTps = genS > 0 && o.n > 0 ? double(o.n) / genS : 0;
  if (o.json) {
    nlohmann::json j;
    j["engine"] = "eager";
    j["prompt_tokens"] = prompt;
    j["generated_tokens"] = generated;
    j["timings"] = {{"prompt_tokens_per_s", promptTps}, {"generation_tokens_per_s", genTps},
                    {"prompt_s", promptS}, {"generation_s", genS}};
    std::printf("%s\n", j.dump().c_str());
  }
  std::fprintf(stderr, "prompt: %zu tokens, %.2f tokens/s; generation: %lld tokens, %.2f tokens/s\n",
               prompt.size(), promptTps, (long long)o.n, genTps);
}

} // namespace

void addRunEagerCommand(CLI::App &app) {
  auto o = std::make_shared<RunOptions>();
  auto *cmd = app.add_subcommand("run-eager", "run a checkpoint with the eager q3 interpreter");
  cmd->add_option("checkpoint", o->checkpoint, "Hugging Face checkpoint folder")->required();
  cmd->add_option("--tokens", o->tokens, "prompt as comma-separated token ids")->required();
  cmd->add_option("-n,--n-predict", o->n, "tokens to generate (0: evaluate the prompt only)")
      ->capture_default_str();
  cmd->add_option("--temp", o->temp, "temperature (only 0, greedy, for now)")->capture_default_str();
  cmd->add_option("--dump-logits", o->dumpLogits,
                  "write f32 logits, one row of vocab_size per evaluated position");
  cmd->add_flag("--json", o->json, "print one JSON object with tokens and timings");
  cmd->add_option("--chunk", o->chunk, "prefill chunk length")->capture_default_str();
  cmd->add_option("-c,--max-context", o->context, "KV-cache capacity (default min(4096, max positions))");
  cmd->add_option("-t,--threads", o->threads, "threads (the interpreter uses one)")->capture_default_str();
  cmd->callback([o] { runEager(*o); });
}

} // namespace q3c
