//===- CheckpointWriter.h - random-weight Hugging Face checkpoints -*- C++ -*-===//
//
// No weights can be downloaded where qwen3c is developed, so tests and
// benchmarks run on checkpoints made here: real Qwen3 shapes (or tiny ones),
// random weights scaled so activations and logits stay O(1), the real
// tokenizer files beside them.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_FRONTEND_CHECKPOINTWRITER_H
#define QWEN3C_FRONTEND_CHECKPOINTWRITER_H

#include "frontend/DType.h"
#include "frontend/ModelConfig.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace q3c {

struct MakeCheckpointOptions {
  std::string preset;
  DType dtype = DType::F32;
  uint64_t seed = 0;
  std::string outDir;
  // config.json keys to override, as JSON values: {"num_key_value_heads", "1"}.
  std::vector<std::pair<std::string, std::string>> overrides;
  // Split the weights into shards of at most this many bytes (0: one file).
  uint64_t shardBytes = 0;
  std::string tokenizerDir; // empty: the one found by setup.sh
};

std::vector<std::string> presetNames();
ModelConfig presetConfig(const std::string &preset);
void makeCheckpoint(const MakeCheckpointOptions &options);

// Where setup.sh put the pinned tokenizer (QWEN3C_TOKENIZER_DIR overrides).
std::string defaultTokenizerDir();

} // namespace q3c

#endif
