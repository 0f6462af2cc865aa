//===- Checkpoint.h - a Hugging Face Qwen3 checkpoint folder ----*- C++ -*-===//
#ifndef QWEN3C_FRONTEND_CHECKPOINT_H
#define QWEN3C_FRONTEND_CHECKPOINT_H

#include "frontend/ChatTemplateFile.h"
#include "frontend/ModelConfig.h"
#include "frontend/SafeTensors.h"

#include <deque>
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

class MappedGguf;

// tokenizer.json's text and where it came from (for errors).
struct TokenizerJson {
  std::string source;
  std::string json;
};

// The weights, config and tokenizer of one model, checked against the
// tensor inventory the config implies: a Hugging Face folder (config.json,
// one or more mapped safetensors files, tokenizer.json, the chat template)
// or one GGUF file (frontend/GgufCheckpoint.cpp: the config, tokenizer and
// template from its metadata; tensors under their Hugging Face names,
// block-quantised ones as they are).
class Checkpoint {
public:
  // A folder, or a file starting with GGUF's magic.
  static Checkpoint open(const std::string &path);

  const std::string &dir() const { return dir_; }
  const ModelConfig &config() const { return config_; }

  // A tensor by its checkpoint name; tied checkpoints answer "lm_head.weight"
  // with the embedding.
  const TensorView &tensor(const std::string &name) const;
  const std::map<std::string, const TensorView *> &tensors() const { return byName_; }
  const std::vector<std::unique_ptr<SafeTensorsFile>> &files() const { return files_; }

  // tokenizer.json beside the weights, if present (folders only).
  std::optional<std::string> tokenizerPath() const;
  // The tokenizer as tokenizer.json text: the folder's file, or made from a
  // GGUF file's tokenizer.ggml.* metadata.
  std::optional<TokenizerJson> tokenizerJson() const;
  std::optional<ChatTemplateFile> chatTemplate() const;
  bool isGguf() const { return gguf_ != nullptr; }

  int64_t weightBytes() const;

private:
  static Checkpoint openGguf(const std::string &path);

  std::string dir_;
  ModelConfig config_;
  std::vector<std::unique_ptr<SafeTensorsFile>> files_;
  std::map<std::string, const TensorView *> byName_;
  std::shared_ptr<const MappedGguf> gguf_;
  std::deque<TensorView> ggufViews_; // what byName_ points to for a GGUF file
};

} // namespace q3c

#endif
