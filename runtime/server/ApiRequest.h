//===- ApiRequest.h - an OpenAI request, checked and made typed -*- C++ -*-===//
//
// The fields of /v1/chat/completions and /v1/completions that the server
// honours, read from the request body with every type and range checked: a
// bad request becomes an ApiError naming the field, never a crash, and a
// field the server cannot honour (n > 1, logprobs, images, a forced tool
// call) is refused rather than ignored.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_SERVER_APIREQUEST_H
#define QWEN3C_RUNTIME_SERVER_APIREQUEST_H

#include "runtime/Sampler.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace qwen3c_rt {

class Tokenizer;
class ChatFormat;

// An error as OpenAI reports it: {"error": {"message", "type", "param", "code"}}.
struct ApiError : std::runtime_error {
  ApiError(int status, std::string message, std::string param = "", std::string type = "invalid_request_error")
      : std::runtime_error(message), status(status), param(std::move(param)), type(std::move(type)) {}
  int status;
  std::string param, type;
  std::string json() const;
};

// What the server knows when it reads a request.
struct ApiLimits {
  const Tokenizer *tokenizer = nullptr;
  const ChatFormat *chat = nullptr; // renders messages (the checkpoint's template)
  int64_t context = 0; // tokens a sequence may hold
  int64_t vocab = 0;
};

struct CompletionRequest {
  bool chat = false;               // /v1/chat/completions
  std::vector<int32_t> prompt;     // rendered and tokenized
  SamplerOptions sampling;
  std::vector<std::string> stops;
  int64_t maxTokens = 0;           // resolved: never past the context
  bool stream = false;
  bool includeUsage = false;       // stream_options.include_usage
  bool ignoreEos = false;          // an extension, for benchmarks
  bool tools = false;              // tools were offered: <tool_call> blocks become tool_calls
};

// Parses and checks a request body; throws ApiError.
CompletionRequest parseCompletionRequest(const std::string &body, bool chat, const ApiLimits &limits);

} // namespace qwen3c_rt

#endif
