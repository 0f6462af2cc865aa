//===- ChatTemplate.cpp -----------------------------------------------------===//
#include "runtime/ChatTemplate.h"
#include "runtime/Generate.h"

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

} // namespace

std::string renderQwen3Chat(const std::vector<ChatMessage> &m, bool addGenerationPrompt,
                            bool enableThinking) {
  std::string out;
  const size_t n = m.size();
  if (n > 0 && m[0].role == "system") out += "<|im_start|>system\n" + m[0].content + "<|im_end|>\n";
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
      if (content.find("</think>") != std::string::npos) {
        reasoning = lstripNl(afterLast(rstripNl(beforeFirst(msg.content, "</think>")), "<think>"));
        content = lstripNl(afterLast(msg.content, "</think>"));
      }
      if (i > lastQuery && (i + 1 == n || !reasoning.empty()))
        out += "<|im_start|>assistant\n<think>\n" + rstripNl(lstripNl(reasoning)) + "\n</think>\n\n" +
               lstripNl(content);
      else
        out += "<|im_start|>assistant\n" + content;
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
