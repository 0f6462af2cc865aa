//===- ApiResponse.cpp ------------------------------------------------------===//
#include "runtime/server/ApiResponse.h"

#include <nlohmann/json.hpp>

namespace qwen3c_rt {
namespace {

using json = nlohmann::ordered_json;

json header(const ResponseHeader &h, const char *object) {
  json j;
  j["id"] = h.id;
  j["object"] = object;
  j["created"] = h.created;
  j["model"] = h.model;
  return j;
}

json usageJson(const Usage &u) {
  return json{{"prompt_tokens", u.promptTokens},
              {"completion_tokens", u.completionTokens},
              {"total_tokens", u.promptTokens + u.completionTokens}};
}

// The text is valid UTF-8 (CompletionText); `replace` only guards the dump.
std::string dump(const json &j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

} // namespace

json toolCallsJson(const ResponseHeader &h, const std::vector<ParsedToolCall> &calls, bool indexed) {
  json list = json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    json c;
    if (indexed) c["index"] = i;
    c["id"] = "call_" + h.id + "_" + std::to_string(i);
    c["type"] = "function";
    c["function"] = json{{"name", calls[i].name}, {"arguments", calls[i].arguments}};
    list.push_back(c);
  }
  return list;
}

std::string completionObject(const ResponseHeader &h, const AssistantOutput &out, const std::string &finishReason,
                             const Usage &usage) {
  json j = header(h, h.chat ? "chat.completion" : "text_completion");
  json choice{{"index", 0}};
  if (h.chat) {
    json message{{"role", "assistant"}};
    message["content"] = out.calls.empty() || !out.content.empty() ? json(out.content) : json();
    if (!out.reasoning.empty()) message["reasoning_content"] = out.reasoning;
    if (!out.calls.empty()) message["tool_calls"] = toolCallsJson(h, out.calls, false);
    choice["message"] = message;
  } else {
    choice["text"] = out.content;
  }
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = out.calls.empty() ? finishReason : "tool_calls";
  j["choices"] = json::array({choice});
  j["usage"] = usageJson(usage);
  return dump(j);
}

std::string chunkEvent(const ResponseHeader &h, const std::string &text, const char *finishReason, bool first,
                       const std::string &reasoning) {
  json j = header(h, h.chat ? "chat.completion.chunk" : "text_completion");
  json choice{{"index", 0}};
  if (h.chat) {
    json delta = json::object();
    if (first) delta["role"] = "assistant";
    if (!reasoning.empty()) delta["reasoning_content"] = reasoning;
    if (!finishReason && (!text.empty() || reasoning.empty())) delta["content"] = text;
    choice["delta"] = delta;
  } else {
    choice["text"] = text;
  }
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finishReason ? json(finishReason) : json();
  j["choices"] = json::array({choice});
  return "data: " + dump(j) + "\n\n";
}

std::string toolCallsEvent(const ResponseHeader &h, const std::vector<ParsedToolCall> &calls) {
  json j = header(h, "chat.completion.chunk");
  json choice{{"index", 0}, {"delta", json{{"tool_calls", toolCallsJson(h, calls, true)}}}, {"logprobs", nullptr},
              {"finish_reason", nullptr}};
  j["choices"] = json::array({choice});
  return "data: " + dump(j) + "\n\n";
}

std::string usageEvent(const ResponseHeader &h, const Usage &usage) {
  json j = header(h, h.chat ? "chat.completion.chunk" : "text_completion");
  j["choices"] = json::array();
  j["usage"] = usageJson(usage);
  return "data: " + dump(j) + "\n\n";
}

std::string errorEvent(const std::string &errorJson) { return "data: " + errorJson + "\n\n"; }

} // namespace qwen3c_rt
