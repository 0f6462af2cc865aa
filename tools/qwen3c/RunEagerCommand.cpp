//===- RunEagerCommand.cpp - `qwen3c run-eager`: the interpreter as a runner -===//
//
// The same run loop and flags as a compiled model (runtime/Generate.h), with
// the eager interpreter as the backend, so the two compare line for line.
//
//===----------------------------------------------------------------------===//
#include "frontend/ChatTemplateFile.h"
#include "frontend/Checkpoint.h"
#include "runtime/ChatFormat.h"
#include "frontend/Error.h"
#include "runtime/Generate.h"
#include "runtime/Tokenizer.h"
#include "tools/qwen3c/Commands.h"
#include "tools/qwen3c/EagerModel.h"

#include <algorithm>
#include <filesystem>

namespace q3c {
namespace {

class EagerBackend : public qwen3c_rt::Backend {
public:
  EagerBackend(const std::string &dir, int64_t chunk, int64_t context) : model(dir, chunk, context) {}
  EagerBackend(const std::string &dir, const std::string &ir) : model(dir, ir) {}
  const char *name() const override { return "eager"; }
  int64_t vocab() const override { return model.config().vocabSize; }
  int64_t maxContext() const override { return model.maxContext(); }
  std::vector<int32_t> eosIds() const override {
    return std::vector<int32_t>(model.config().eosTokenIds.begin(), model.config().eosTokenIds.end());
  }
  std::vector<float> forward(const std::vector<int32_t> &tokens, int64_t pos, bool allRows) override {
    return model.forward(tokens, pos, allRows);
  }

private:
  EagerModel model;
};

struct Options {
  std::string checkpoint, ir;
  int64_t chunk = 16, capacity = 0;
};

} // namespace

void addRunEagerCommand(CLI::App &app) {
  auto o = std::make_shared<Options>();
  auto *cmd = app.add_subcommand(
      "run-eager", "run a checkpoint with the eager q3 interpreter; takes a compiled model's run flags");
  cmd->add_option("checkpoint", o->checkpoint, "Hugging Face checkpoint folder")->required();
  cmd->add_option("--chunk", o->chunk, "prefill chunk length")->capture_default_str();
  cmd->add_option("--max-context", o->capacity, "KV-cache capacity (default min(4096, max positions))");
  cmd->add_option("--ir", o->ir, "run this q3 module (e.g. after a pass) instead of building one; its @prefill "
                                 "fixes the chunk and context");
  cmd->allow_extras();
  cmd->footer(std::string("run flags (as a compiled model's):\n") + qwen3c_rt::kRunFlagsHelp);
  cmd->callback([o, cmd] {
    if (o->chunk < 1) fail("--chunk: must be at least 1");
    const Checkpoint ck = Checkpoint::open(o->checkpoint); // mapped, not read: cheap to open twice
    const ModelConfig &probe = ck.config();
    int64_t capacity = o->capacity ? o->capacity : probe.defaultContext();
    if (capacity < 1 || capacity > probe.positionLimit())
      fail("--max-context: ", capacity, " is outside 1..", probe.positionLimit(),
           probe.yarn ? " (YaRN's factor * original_max_position_embeddings)" : " (max_position_embeddings)");
    qwen3c_rt::RunOptions defaults;
    defaults.threads = 1;
    // Validate the flags before paying for loading the weights.
    qwen3c_rt::RunOptions run = qwen3c_rt::parseRunFlags(cmd->remaining(), defaults, "qwen3c run-eager");
    if (run.haveTokens) qwen3c_rt::parseTokens(run.tokens, probe.vocabSize);
    std::unique_ptr<qwen3c_rt::Tokenizer> tokenizer;
    if (auto tj = ck.tokenizerJson()) tokenizer = qwen3c_rt::Tokenizer::fromJson(tj->json, tj->source);
    std::unique_ptr<EagerBackend> backend =
        o->ir.empty() ? std::make_unique<EagerBackend>(o->checkpoint, std::min(o->chunk, capacity), capacity)
                      : std::make_unique<EagerBackend>(o->checkpoint, o->ir);
    std::optional<ChatTemplateFile> chatTemplate = ck.chatTemplate();
    std::optional<std::string> source;
    if (chatTemplate) source = chatTemplate->source;
    std::unique_ptr<qwen3c_rt::ChatFormat> chat;
    try {
      chat = std::make_unique<qwen3c_rt::ChatFormat>(source);
    } catch (const qwen3c_rt::JinjaError &e) {
      fail(chatTemplate->path, ": chat_template: ", e.what());
    }
    qwen3c_rt::generate(run, *backend, tokenizer.get(), *chat);
  });
}

} // namespace q3c
