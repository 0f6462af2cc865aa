//===- GgufCheckpoint.h - a GGUF file read as a Qwen3 checkpoint -*- C++ -*-===//
//
// What Checkpoint::open makes of a llama.cpp `qwen3` / `qwen3moe` file:
// the config from its keys, the tokenizer and chat template from its
// tokenizer.* metadata. Each names the file and the key at fault.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_FRONTEND_GGUFCHECKPOINT_H
#define QWEN3C_FRONTEND_GGUFCHECKPOINT_H

#include "frontend/Checkpoint.h"
#include "frontend/GgufFile.h"

namespace q3c {

ModelConfig ggufModelConfig(const GgufFile &f);
// tokenizer.json as Hugging Face's `tokenizers` would hold this vocabulary:
// BPE over GPT-2's byte map, Qwen2's split regex (tokenizer.ggml.pre
// "qwen2"), control and user-defined tokens as added tokens.
TokenizerJson ggufTokenizerJson(const GgufFile &f);
std::optional<ChatTemplateFile> ggufChatTemplate(const GgufFile &f);

} // namespace q3c

#endif
