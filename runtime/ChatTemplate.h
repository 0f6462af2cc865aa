//===- ChatTemplate.h - Qwen3's chat template in C++ -------------*- C++ -*-===//
//
// Renders what tokenizer_config.json's Jinja template renders for messages
// of role system, user, assistant and tool (without a tools list or
// tool_calls): assistant turns after the last user query keep their
// reasoning in <think>, earlier ones lose it; enable_thinking=false adds
// the empty think block after the generation prompt. Checked against an
// independent Jinja implementation (tests/chat/).
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_CHATTEMPLATE_H
#define QWEN3C_RUNTIME_CHATTEMPLATE_H

#include <string>
#include <vector>

namespace qwen3c_rt {

struct ChatMessage {
  std::string role;    // system, user, assistant, tool
  std::string content;
};

std::string renderQwen3Chat(const std::vector<ChatMessage> &messages, bool addGenerationPrompt,
                            bool enableThinking);

} // namespace qwen3c_rt

#endif
