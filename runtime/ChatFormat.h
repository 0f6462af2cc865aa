//===- ChatFormat.h - how a model's conversations become its prompt -*- C++ -*-===//
//
// The checkpoint's own chat template (chat_template.jinja, or
// tokenizer_config.json's chat_template), read and checked when the model
// is built and interpreted (JinjaTemplate) at run time; Qwen3's template in
// C++ (renderQwen3Chat) only for a checkpoint that has none.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_CHATFORMAT_H
#define QWEN3C_RUNTIME_CHATFORMAT_H

#include "runtime/ChatTemplate.h"
#include "runtime/jinja/JinjaTemplate.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace qwen3c_rt {

class ChatFormat {
public:
  // `source`: the template text; none: Qwen3's built in. Throws JinjaError.
  explicit ChatFormat(const std::optional<std::string> &source);
  // The format compiled into this executable (qwen3c_chat_template).
  static ChatFormat ofCompiledModel();

  // `tools`: an array of OpenAI tool objects (empty: none offered).
  std::string render(const std::vector<ChatMessage> &messages, const nlohmann::ordered_json &tools,
                     bool addGenerationPrompt, bool enableThinking) const;
  bool isCheckpointTemplate() const { return jinja.has_value(); }

private:
  std::optional<JinjaTemplate> jinja;
};

} // namespace qwen3c_rt

#endif
