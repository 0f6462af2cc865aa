//===- Checkpoint.h - a Hugging Face Qwen3 checkpoint folder ----*- C++ -*-===//
#ifndef QWEN3C_FRONTEND_CHECKPOINT_H
#define QWEN3C_FRONTEND_CHECKPOINT_H

#include "frontend/ModelConfig.h"
#include "frontend/SafeTensors.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace q3c {

// model.safetensors.index.json: which file holds each tensor. File names must
// be plain names in the checkpoint folder (no '/', '.', '..').
struct ShardIndex {
  std::map<std::string, std::string> tensorToFile;
  std::vector<std::string> files; // in first-mention order
};
ShardIndex parseShardIndex(const std::string &path, const std::string &text);

// config.json plus one or more mapped safetensors files, checked against the
// tensor inventory the config implies.
class Checkpoint {
public:
  static Checkpoint open(const std::string &dir);

  const std::string &dir() const { return dir_; }
  const ModelConfig &config() const { return config_; }

  // A tensor by its checkpoint name; tied checkpoints answer "lm_head.weight"
  // with the embedding.
  const TensorView &tensor(const std::string &name) const;
  const std::map<std::string, const TensorView *> &tensors() const { return byName_; }
  const std::vector<std::unique_ptr<SafeTensorsFile>> &files() const { return files_; }

  // tokenizer.json beside the weights, if present.
  std::optional<std::string> tokenizerPath() const;

  int64_t weightBytes() const;

private:
  std::string dir_;
  ModelConfig config_;
  std::vector<std::unique_ptr<SafeTensorsFile>> files_;
  std::map<std::string, const TensorView *> byName_;
};

} // namespace q3c

#endif
