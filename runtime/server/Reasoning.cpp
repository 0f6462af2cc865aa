//===- Reasoning.cpp --------------------------------------------------------===//
#include "runtime/server/Reasoning.h"

#include <algorithm>

namespace qwen3c_rt {
namespace {

const std::string kOpen = "<think>", kClose = "</think>";

std::string lstripNewlines(const std::string &s) { return s.substr(std::min(s.size(), s.find_first_not_of('\n'))); }
std::string stripNewlines(const std::string &s) {
  std::string t = lstripNewlines(s);
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t;
}

// The length of the longest tail of `s` that is a proper prefix of `tag`.
size_t partialTag(const std::string &s, const std::string &tag) {
  for (size_t n = std::min(tag.size() - 1, s.size()); n > 0; --n)
    if (s.compare(s.size() - n, n, tag, 0, n) == 0) return n;
  return 0;
}

} // namespace

SplitAnswer splitReasoning(const std::string &text) {
  if (text.compare(0, kOpen.size(), kOpen) != 0) return {"", text};
  size_t close = text.find(kClose);
  if (close == std::string::npos) return {stripNewlines(text.substr(kOpen.size())), ""};
  return {stripNewlines(text.substr(kOpen.size(), close - kOpen.size())), lstripNewlines(text.substr(close + kClose.size()))};
}

SplitAnswer ReasoningStream::add(const std::string &text) {
  held += text;
  SplitAnswer out;
  if (state == State::Start) {
    if (held.size() < kOpen.size() && kOpen.compare(0, held.size(), held) == 0) return out; // may still be <think>
    if (held.compare(0, kOpen.size(), kOpen) == 0) {
      state = State::Thinking;
      held = lstripNewlines(held.substr(kOpen.size()));
    } else {
      state = State::Answer;
    }
  }
  if (state == State::Thinking) {
    size_t close = held.find(kClose);
    if (close == std::string::npos) {
      size_t keep = partialTag(held, kClose);
      // Newlines before </think> are not reasoning: hold them too.
      size_t end = held.size() - keep;
      while (end > 0 && held[end - 1] == '\n') --end;
      out.reasoning = held.substr(0, end);
      held.erase(0, end);
      return out;
    }
    std::string r = held.substr(0, close);
    while (!r.empty() && r.back() == '\n') r.pop_back();
    out.reasoning = r;
    held.erase(0, close + kClose.size());
    state = State::Answer;
    afterThink = true;
  }
  if (afterThink) {
    held = lstripNewlines(held);
    if (held.empty()) return out;
    afterThink = false;
  }
  out.content = held;
  held.clear();
  return out;
}

SplitAnswer ReasoningStream::finish() {
  SplitAnswer out;
  if (state == State::Answer || state == State::Start) out.content = afterThink ? lstripNewlines(held) : held;
  else out.reasoning = stripNewlines(held);
  held.clear();
  return out;
}

} // namespace qwen3c_rt
