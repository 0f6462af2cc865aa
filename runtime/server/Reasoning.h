//===- Reasoning.h - a Qwen3 answer's <think> part as reasoning_content -*- C++ -*-===//
//
// Qwen3 writes its reasoning as "<think>\n...\n</think>\n\n" before the
// answer. A chat response carries it as message.reasoning_content (the
// field DeepSeek's API, vLLM and llama.cpp's server use) and the answer as
// content. Only a completion that begins with <think> is split; one cut
// before its </think> is all reasoning.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_SERVER_REASONING_H
#define QWEN3C_RUNTIME_SERVER_REASONING_H

#include <string>

namespace qwen3c_rt {

struct SplitAnswer {
  std::string reasoning, content;
};

SplitAnswer splitReasoning(const std::string &text);

// The same for a stream: add() returns the reasoning and content that may be
// sent now, holding back what may still be "<think>" or "</think>".
class ReasoningStream {
public:
  SplitAnswer add(const std::string &text);
  SplitAnswer finish(); // what was held back

private:
  enum class State { Start, Thinking, Answer } state = State::Start;
  std::string held;
  bool afterThink = false; // strip the newlines that open the answer
};

} // namespace qwen3c_rt

#endif
