//===- ChatTemplate.cpp -----------------------------------------------------===//
#include "runtime/ChatTemplate.h"
#include "runtime/Generate.h"

#include <cstdio>

namespace qwen3c_rt {
namespace {

bool startsWith(const std::string &s, const std::string &p) { return s.compare(0, p.size(), p) == 0; }
bool endsWith(const std::string &s, const std::string &p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}
std::string lstripNl(const std::string &s) {
  size_t i = s.find_first_not_of('\n');
  return i == std::string::npos ? "" : s.substr(i);
}
std::string rstripNl(const std::string &s) {
  size_t i = s.find_last_not_of('\n');
  return i == std::string::npos ? "" : s.substr(0, i + 1);
}
// Python's s.split(sep)[-1] and s.split(sep)[0].
std::string afterLast(const std::string &s, const std::string &sep) {
  size_t i = s.rfind(sep);
  return i == std::string::npos ? s : s.substr(i + sep.size());
}
std::string beforeFirst(const std::string &s, const std::string &sep) {
  size_t i = s.find(sep);
  return i == std::string::npos ? s : s.substr(0, i);
}

void appendJsonString(std::string &out, const std::string &s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    case '\b': out += "\\b"; break;
    case '\f': out += "\\f"; break;
    default:
      if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out += char(c);
      }
    }
  }
  out += '"';
}

void appendTemplateJson(std::string &out, const nlohmann::ordered_json &v) {
  if (v.is_object()) {
    out += '{';
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) out += ", ";
      first = false;
      appendJsonString(out, it.key());
      out += ": ";
      appendTemplateJson(out, it.value());
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out += ", ";
      appendTemplateJson(out, v[i]);
    }
    out += ']';
  } else if (v.is_string()) {
    appendJsonString(out, v.get<std::string>());
  } else {
    out += v.dump(); // numbers, booleans, null
  }
}

} // namespace

std::string templateJson(const nlohmann::ordered_json &value) {
  std::string out;
  appendTemplateJson(out, value);
  return out;
}

std::string renderQwen3Chat(const std::vector<ChatMessage> &m, bool addGenerationPrompt,
                            bool enableThinking, const std::vector<std::string> &tools) {
  std::string out;
  const size_t n = m.size();
  if (!tools.empty()) {
    out += "<|im_start|>system\n";
    if (n > 0 && m[0].role == "system") out += m[0].content + "\n\n";
    out += "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided "
           "with function signatures within <tools></tools> XML tags:\n<tools>";
    for (const std::string &tool : tools) out += "\n" + tool;
    out += "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
           "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
           "<args-json-object>}\n</tool_call><|im_end|>\n";
  } else if (n > 0 && m[0].role == "system") {
    out += "<|im_start|>system\n" + m[0].content + "<|im_end|>\n";
  }
  // The last user message that is not a tool response.
  size_t lastQuery = n == 0 ? 0 : n - 1;
  for (size_t k = n; k-- > 0;)
    if (m[k].role == "user" &&
        !(startsWith(m[k].content, "<tool_response>") && endsWith(m[k].content, "</tool_response>"))) {
      lastQuery = k;
      break;
    }
  for (size_t i = 0; i < n; ++i) {
    const ChatMessage &msg = m[i];
    if (msg.role == "user" || (msg.role == "system" && i != 0)) {
      out += "<|im_start|>" + msg.role + "\n" + msg.content + "<|im_end|>\n";
    } else if (msg.role == "assistant") {
      std::string content = msg.content, reasoning;
      if (msg.reasoning) {
        reasoning = *msg.reasoning;
      } else if (content.find("</think>") != std::string::npos) {
        reasoning = lstripNl(afterLast(rstripNl(beforeFirst(msg.content, "</think>")), "<think>"));
        content = lstripNl(afterLast(msg.content, "</think>"));
      }
      if (i > lastQuery && (i + 1 == n || !reasoning.empty()))
        out += "<|im_start|>assistant\n<think>\n" + rstripNl(lstripNl(reasoning)) + "\n</think>\n\n" +
               lstripNl(content);
      else
        out += "<|im_start|>assistant\n" + content;
      for (size_t c = 0; c < msg.toolCalls.size(); ++c) {
        if (c > 0 || !content.empty()) out += "\n";
        out += "<tool_call>\n{\"name\": \"" + msg.toolCalls[c].name + "\", \"arguments\": " +
               msg.toolCalls[c].arguments + "}\n</tool_call>";
      }
      out += "<|im_end|>\n";
    } else if (msg.role == "tool") {
      if (i == 0 || m[i - 1].role != "tool") out += "<|im_start|>user";
      out += "\n<tool_response>\n" + msg.content + "\n</tool_response>";
      if (i + 1 == n || m[i + 1].role != "tool") out += "<|im_end|>\n";
    } else if (!(msg.role == "system" && i == 0)) {
      throw RunError("chat template: unknown role '" + msg.role + "'");
    }
  }
  if (addGenerationPrompt) {
    out += "<|im_start|>assistant\n";
    if (!enableThinking) out += "<think>\n\n</think>\n\n";
  }
  return out;
}

} // namespace qwen3c_rt
