//===- MakeCheckpointCommand.cpp - `qwen3c make-checkpoint` -----------------===//
#include "frontend/CheckpointWriter.h"
#include "frontend/Error.h"
#include "tools/qwen3c/Commands.h"

#include <cstdio>

namespace q3c {

void addMakeCheckpointCommand(CLI::App &app) {
  struct Opts {
    std::string preset, dtype = "f32", out, tokenizer;
    uint64_t seed = 0, shardBytes = 0;
    std::vector<std::string> sets;
  };
  auto o = std::make_shared<Opts>();
  std::string presets;
  for (const auto &p : presetNames()) presets += (presets.empty() ? "" : ", ") + p;
  auto *cmd = app.add_subcommand("make-checkpoint",
                                 "write a random-weight Hugging Face checkpoint of a preset shape");
  cmd->add_option("--preset", o->preset, "shape: " + presets)->required();
  cmd->add_option("--dtype", o->dtype, "weight type: f32, bf16 or f16")->capture_default_str();
  cmd->add_option("--seed", o->seed, "random seed")->capture_default_str();
  cmd->add_option("-o,--output", o->out, "checkpoint folder to write")->required();
  cmd->add_option("--set", o->sets, "override a config.json key: KEY=JSON (repeatable)");
  cmd->add_option("--shard-size", o->shardBytes,
                  "split weights into shards of at most this many bytes (sharded index)");
  cmd->add_option("--tokenizer", o->tokenizer, "folder with tokenizer.json (default: setup's)");
  cmd->callback([o] {
    MakeCheckpointOptions m;
    m.preset = o->preset;
    auto dt = parseTorchDType(o->dtype);
    if (!dt) fail("--dtype: '", o->dtype, "' is not f32, bf16 or f16");
    m.dtype = *dt;
    m.seed = o->seed;
    m.outDir = o->out;
    m.shardBytes = o->shardBytes;
    m.tokenizerDir = o->tokenizer;
    for (const auto &s : o->sets) {
      auto eq = s.find('=');
      if (eq == std::string::npos || eq == 0) fail("--set: '", s, "' is not KEY=VALUE");
      m.overrides.emplace_back(s.substr(0, eq), s.substr(eq + 1));
    }
    makeCheckpoint(m);
    std::printf("wrote %s (%s, %s)\n", o->out.c_str(), o->preset.c_str(), dtypeName(m.dtype));
  });
}

} // namespace q3c
