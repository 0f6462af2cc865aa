//===- EmitIRCommand.cpp - `qwen3c emit-ir`: the q3 graph of a model --------===//
#include "frontend/AtomicFile.h"
#include "frontend/Checkpoint.h"
#include "frontend/Error.h"
#include "frontend/GraphBuilder.h"
#include "tools/qwen3c/Commands.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <filesystem>
#include <iostream>

namespace q3c {

void addEmitIRCommand(CLI::App &app) {
  struct Opts {
    std::string input, out, cacheDtype = "f32";
    std::vector<int64_t> chunks; // none: the default sizes
    int64_t context = 0;         // 0: min(4096, max_position_embeddings)
    int64_t decodeBatch = kDefaultDecodeBatch;
  };
  auto o = std::make_shared<Opts>();
  auto *cmd = app.add_subcommand(
      "emit-ir", "print the q3 graph (prefill and decode) for a checkpoint or a config.json");
  cmd->add_option("input", o->input, "checkpoint folder or config.json (weights not needed)")->required();
  cmd->add_option("--chunk", o->chunks,
                  "prefill chunk lengths, increasing (default 16,64,256, those within the context); the first "
                  "is @prefill's, the others prompt-only @prefill_<T>")
      ->delimiter(',');
  cmd->add_option("--max-context", o->context, "KV-cache capacity (default min(4096, max_position_embeddings))");
  cmd->add_option("--decode-batch", o->decodeBatch, "rows of @decode_batch (0 or 1: none)")->capture_default_str();
  cmd->add_option("--cache-dtype", o->cacheDtype, "KV-cache element type: f32, bf16, f16, int8")->capture_default_str();
  cmd->add_option("-o,--output", o->out, "write here instead of stdout");
  cmd->callback([o] {
    namespace fs = std::filesystem;
    std::string configPath = fs::is_directory(o->input) ? (fs::path(o->input) / "config.json").string()
                                                        : o->input;
    ModelConfig c = ModelConfig::load(configPath);
    GraphOptions g;
    g.maxContext = o->context > 0 ? o->context : c.defaultContext();
    setPrefillChunks(g, o->chunks);
    setDecodeBatch(g, o->decodeBatch);
    auto dt = parseCacheDType(o->cacheDtype);
    if (!dt) fail("--cache-dtype: '", o->cacheDtype, "' is not f32, bf16, f16 or int8");
    g.cacheDType = *dt;
    mlir::MLIRContext ctx;
    auto module = buildModel(ctx, c, g);
    std::string text;
    llvm::raw_string_ostream os(text);
    module->print(os);
    if (o->out.empty()) std::cout << text;
    else writeFileAtomically(o->out, text);
  });
}

} // namespace q3c
