//===- ChatTemplate.h - Qwen3's chat template in C++ -------------*- C++ -*-===//
//
// Renders what tokenizer_config.json's Jinja template renders for messages
// of role system, user, assistant and tool, with a tools list (the system
// turn's # Tools block) and assistants' tool_calls: assistant turns after
// the last user query keep their reasoning in <think>, earlier ones lose it;
// enable_thinking=false adds the empty think block after the generation
// prompt. Checked against an independent Jinja implementation (tests/chat/).
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_CHATTEMPLATE_H
#define QWEN3C_RUNTIME_CHATTEMPLATE_H

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace qwen3c_rt {

struct ToolCall {
  std::string name;
  std::string arguments; // JSON text, printed as is (OpenAI sends it as a string)
};

struct ChatMessage {
  ChatMessage(std::string role, std::string content) : role(std::move(role)), content(std::move(content)) {}
  std::string role;    // system, user, assistant, tool
  std::string content;
  std::optional<std::string> reasoning; // an assistant's reasoning_content, when given
  std::vector<ToolCall> toolCalls;
};

// `tools`: each tool as the template's `tojson` prints it (templateJson).
std::string renderQwen3Chat(const std::vector<ChatMessage> &messages, bool addGenerationPrompt,
                            bool enableThinking, const std::vector<std::string> &tools = {});

// Jinja's `tojson` as Hugging Face's chat templates run it (Python's
// json.dumps: ", " and ": " separators, keys in their order, non-ASCII as is).
std::string templateJson(const nlohmann::ordered_json &value);

} // namespace qwen3c_rt

#endif
