//===- CompletionText.h - a completion's text as a client may see it -*- C++ -*-===//
//
// Token bytes arrive one token at a time; a client must never see a stop
// string (OpenAI's `stop`: the text ends before it), the bytes after one, or
// half a UTF-8 character. add() returns the bytes that are final now,
// holding back the longest tail that could still grow into a stop string and
// a character whose bytes have not all arrived.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_COMPLETIONTEXT_H
#define QWEN3C_RUNTIME_COMPLETIONTEXT_H

#include "runtime/TokenDecoder.h"

#include <string>
#include <vector>

namespace qwen3c_rt {

class CompletionText {
public:
  explicit CompletionText(std::vector<std::string> stops) : stops(std::move(stops)) {}

  // Appends a token's bytes; returns the text that may be sent now. Once a
  // stop string appears, stopped() is true and nothing more is returned.
  std::string add(const std::string &bytes);
  // The end of the completion: the held-back tail (it was no stop string).
  std::string finish();
  bool stopped() const { return isStopped; }
  // Everything returned so far.
  const std::string &sent() const { return all; }

private:
  std::string release(const std::string &bytes); // through the UTF-8 stream, recorded in `all`

  std::vector<std::string> stops;
  std::string held, all;
  Utf8Stream utf8;
  bool isStopped = false;
};

} // namespace qwen3c_rt

#endif
