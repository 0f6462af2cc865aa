//===- GgufNames.h - llama.cpp's names for a Qwen3's tensors ----*- C++ -*-===//
//
// The one table between Hugging Face tensor names and llama.cpp's (its
// convert_hf_to_gguf.py for `qwen3` / `qwen3moe`): export-gguf writes by
// it, a GGUF checkpoint is read by it.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_FRONTEND_GGUFNAMES_H
#define QWEN3C_FRONTEND_GGUFNAMES_H

#include <string>
#include <vector>

namespace q3c {

struct ModelConfig;

// One GGUF tensor and the checkpoint tensors it holds: one, or a layer's
// experts stacked along ggml's outermost dimension (`ffn_*_exps`).
struct GgufTensorName {
  std::string gguf;
  std::vector<std::string> parts;
};

// Every tensor of the config, the LM head only when untied.
std::vector<GgufTensorName> ggufTensorNames(const ModelConfig &c);

// "qwen3" or "qwen3moe": general.architecture, and the prefix of its keys.
std::string ggufArchitecture(const ModelConfig &c);

} // namespace q3c

#endif
