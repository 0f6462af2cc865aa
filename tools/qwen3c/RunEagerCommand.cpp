//===- RunEagerCommand.cpp - `qwen3c run-eager`: the interpreter as a runner -===//
//
// The same run loop and flags as a compiled model (runtime/Generate.h), with
// the eager interpreter as the backend, so the two compare line for line.
//
//===----------------------------------------------------------------------===//
#include "frontend/Error.h"
#include "runtime/Generate.h"
#include "runtime/TokenDecoder.h"
#include "tools/qwen3c/Commands.h"
#include "tools/qwen3c/EagerModel.h"

#include <algorithm>
#include <filesystem>
#include <optional>

namespace q3c {
namespace {

class EagerBackend : public qwen3c_rt::Backend {
public:
  EagerBackend(const std::string &dir, int64_t chunk, int64_t context) : model(dir, chunk, context) {}
  const char *name() const override { return "eager"; }
  int64_t vocab() const override { return model.config().vocabSize; }
  int64_t maxContext() const override { return model.maxContext(); }
  std::vector<float> forward(const std::vector<int32_t> &tokens, int64_t pos) override {
    return model.forward(tokens, pos);
  }

private:
  EagerModel model;
};

struct Options {
  std::string checkpoint;
  qwen3c_rt::RunOptions run;
  int64_t chunk = 64;
};

} // namespace

void addRunEagerCommand(CLI::App &app) {
  auto o = std::make_shared<Options>();
  auto *cmd = app.add_subcommand("run-eager", "run a checkpoint with the eager q3 interpreter");
  cmd->add_option("checkpoint", o->checkpoint, "Hugging Face checkpoint folder")->required();
  cmd->add_option("--tokens", o->run.tokens, "prompt as comma-separated token ids")->required();
  cmd->add_option("-n,--n-predict", o->run.n, "tokens to generate (0: evaluate the prompt only)")
      ->capture_default_str();
  cmd->add_option("--temp", o->run.temp, "temperature (only 0, greedy, for now)")->capture_default_str();
  cmd->add_option("--dump-logits", o->run.dumpLogits,
                  "write f32 logits, one row of vocab_size per evaluated position");
  cmd->add_flag("--json", o->run.json, "print one JSON object with tokens and timings");
  cmd->add_option("--chunk", o->chunk, "prefill chunk length")->capture_default_str();
  cmd->add_option("-c,--max-context", o->run.context, "context (default min(4096, max positions))");
  cmd->add_option("-t,--threads", o->run.threads, "threads (the interpreter uses one)")->capture_default_str();
  cmd->callback([o] {
    if (o->chunk < 1) fail("--chunk: must be at least 1");
    ModelConfig probe = ModelConfig::load(o->checkpoint + "/config.json");
    int64_t context = o->run.context ? o->run.context : std::min<int64_t>(4096, probe.maxPositionEmbeddings);
    if (context < 1 || context > probe.maxPositionEmbeddings)
      fail("-c: ", context, " is outside 1..", probe.maxPositionEmbeddings, " (max_position_embeddings)");
    // Validate the flags before paying for loading the weights.
    qwen3c_rt::parseTokens(o->run.tokens, probe.vocabSize);
    EagerBackend backend(o->checkpoint, std::min(o->chunk, context), context);
    std::optional<qwen3c_rt::TokenDecoder> decoder;
    std::string tokenizer = o->checkpoint + "/tokenizer.json";
    if (std::filesystem::exists(tokenizer)) {
      decoder = qwen3c_rt::TokenDecoder::fromFile(tokenizer);
      o->run.decoder = &*decoder;
    }
    qwen3c_rt::generate(o->run, backend);
  });
}

} // namespace q3c
