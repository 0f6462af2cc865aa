//===- ToolCalls.cpp --------------------------------------------------------===//
#include "runtime/server/ToolCalls.h"

#include <nlohmann/json.hpp>

#include <cctype>

namespace qwen3c_rt {

AssistantOutput parseToolCalls(const std::string &text) {
  static const std::string open = kToolCallOpen, close = "</tool_call>";
  AssistantOutput whole;
  whole.content = text;
  size_t first = text.find(open);
  if (first == std::string::npos) return whole;
  AssistantOutput out;
  out.content = text.substr(0, first);
  while (!out.content.empty() && std::isspace((unsigned char)out.content.back())) out.content.pop_back();
  for (size_t at = first; at != std::string::npos;) {
    size_t end = text.find(close, at);
    // An unclosed last block (generation cut at max_tokens or a stop) is no call.
    if (end == std::string::npos) return whole;
    auto j = nlohmann::ordered_json::parse(text.substr(at + open.size(), end - at - open.size()), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("name") || !j["name"].is_string()) return whole;
    ParsedToolCall call{j["name"].get<std::string>(), "{}"};
    if (j.contains("arguments")) {
      const auto &a = j["arguments"];
      if (a.is_string()) call.arguments = a.get<std::string>();
      else if (a.is_object()) call.arguments = a.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
      else return whole;
    }
    out.calls.push_back(std::move(call));
    size_t next = text.find(open, end);
    // Only white space may sit between and after blocks.
    std::string gap = text.substr(end + close.size(), (next == std::string::npos ? text.size() : next) - end - close.size());
    if (gap.find_first_not_of(" \t\r\n") != std::string::npos) return whole;
    at = next;
  }
  return out;
}

std::string ToolCallStream::add(const std::string &text) {
  all += text;
  if (inCalls) return "";
  const std::string open = kToolCallOpen;
  size_t end = all.find(open, sent);
  if (end != std::string::npos) {
    inCalls = true;
  } else { // the longest tail that is a proper prefix of the opening tag
    end = all.size();
    for (size_t n = std::min(open.size() - 1, all.size()); n > 0; --n)
      if (all.compare(all.size() - n, n, open, 0, n) == 0) {
        end = all.size() - n;
        break;
      }
  }
  while (end > sent && std::isspace((unsigned char)all[end - 1])) --end;
  std::string out = all.substr(sent, end - sent);
  sent = end;
  return out;
}

AssistantOutput ToolCallStream::finish() const {
  AssistantOutput parsed = parseToolCalls(all);
  if (parsed.calls.empty()) {
    parsed.content = all.substr(std::min(sent, all.size()));
    return parsed;
  }
  parsed.content = parsed.content.substr(std::min(sent, parsed.content.size()));
  return parsed;
}

} // namespace qwen3c_rt
