//===- CompletionText.cpp ---------------------------------------------------===//
#include "runtime/CompletionText.h"

#include <algorithm>

namespace qwen3c_rt {

std::string CompletionText::release(const std::string &bytes) {
  std::string out = utf8.add(bytes);
  all += out;
  return out;
}

std::string CompletionText::add(const std::string &bytes) {
  if (isStopped) return "";
  held += bytes;
  // The earliest stop string in the held text. None can start before it:
  // the tail that could begin one was held back.
  size_t at = std::string::npos;
  for (const std::string &s : stops) at = std::min(at, held.find(s));
  if (at != std::string::npos) {
    isStopped = true;
    std::string out = release(held.substr(0, at));
    held.clear();
    std::string rest = utf8.finish(); // a character cut by the stop string
    all += rest;
    return out + rest;
  }
  // The longest tail of `held` that is a proper prefix of a stop string.
  size_t keep = 0;
  for (const std::string &s : stops)
    for (size_t n = std::min(s.size() - 1, held.size()); n > keep; --n)
      if (held.compare(held.size() - n, n, s, 0, n) == 0) {
        keep = n;
        break;
      }
  std::string out = release(held.substr(0, held.size() - keep));
  held.erase(0, held.size() - keep);
  return out;
}

std::string CompletionText::finish() {
  if (isStopped) return "";
  std::string out = release(held);
  held.clear();
  std::string rest = utf8.finish();
  all += rest;
  return out + rest;
}

} // namespace qwen3c_rt
