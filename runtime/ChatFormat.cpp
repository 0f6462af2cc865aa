//===- ChatFormat.cpp -------------------------------------------------------===//
#include "runtime/ChatFormat.h"
#include "runtime/ModelAbi.h"

namespace qwen3c_rt {

ChatFormat::ChatFormat(const std::optional<std::string> &source) {
  if (source) jinja = JinjaTemplate::parse(*source);
}

ChatFormat ChatFormat::ofCompiledModel() {
  if (!qwen3c_chat_template) return ChatFormat(std::nullopt);
  return ChatFormat(std::string(qwen3c_chat_template, qwen3c_chat_template_end));
}

std::string ChatFormat::render(const std::vector<ChatMessage> &messages, const nlohmann::ordered_json &tools,
                               bool addGenerationPrompt, bool enableThinking) const {
  if (!jinja) {
    std::vector<std::string> rendered;
    for (const auto &t : tools) rendered.push_back(templateJson(t));
    return renderQwen3Chat(messages, addGenerationPrompt, enableThinking, rendered);
  }
  // The variables transformers' apply_chat_template passes.
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const ChatMessage &m : messages) {
    nlohmann::ordered_json j{{"role", m.role}, {"content", m.content}};
    if (m.reasoning) j["reasoning_content"] = *m.reasoning;
    if (!m.toolCalls.empty()) {
      j["tool_calls"] = nlohmann::ordered_json::array();
      for (const ToolCall &c : m.toolCalls)
        j["tool_calls"].push_back({{"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
    }
    list.push_back(j);
  }
  nlohmann::ordered_json vars{{"messages", list},
                              {"add_generation_prompt", addGenerationPrompt},
                              {"enable_thinking", enableThinking}};
  if (!tools.empty()) vars["tools"] = tools;
  return jinja->render(vars);
}

} // namespace qwen3c_rt
