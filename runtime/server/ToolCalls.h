//===- ToolCalls.h - Qwen3's <tool_call> blocks in a completion -*- C++ -*-===//
//
// Qwen3 calls a tool by writing, after any text,
//   <tool_call>\n{"name": "f", "arguments": {...}}\n</tool_call>
// (the format its chat template asks for). The server returns those blocks
// as OpenAI tool_calls and the text before them as the content.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_SERVER_TOOLCALLS_H
#define QWEN3C_RUNTIME_SERVER_TOOLCALLS_H

#include <string>
#include <vector>

namespace qwen3c_rt {

inline constexpr const char *kToolCallOpen = "<tool_call>";

struct ParsedToolCall {
  std::string name;
  std::string arguments; // JSON text, as OpenAI returns it
};

struct AssistantOutput {
  std::string content;              // the text before the first block
  std::vector<ParsedToolCall> calls; // empty: the whole text is content
  std::string reasoning;            // a chat answer's <think> part (Reasoning.h)
};

// Every block must hold a JSON object with a string "name" (and "arguments"
// an object or a JSON string); if one does not, nothing is taken as a call
// and the whole text stays content.
AssistantOutput parseToolCalls(const std::string &text);

// The same for a stream: add() returns the content that may be sent now,
// holding back white space and a tail that may begin a <tool_call> block,
// and nothing once one began; finish() returns the calls and the content
// not yet sent (everything held, if the blocks turn out to be no calls).
class ToolCallStream {
public:
  std::string add(const std::string &text);
  AssistantOutput finish() const;

private:
  std::string all;
  size_t sent = 0;
  bool inCalls = false;
};

} // namespace qwen3c_rt

#endif
