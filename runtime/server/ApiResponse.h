//===- ApiResponse.h - OpenAI response objects and stream chunks -*- C++ -*-===//
#ifndef QWEN3C_RUNTIME_SERVER_APIRESPONSE_H
#define QWEN3C_RUNTIME_SERVER_APIRESPONSE_H

#include "runtime/server/ToolCalls.h"

#include <cstdint>
#include <string>

namespace qwen3c_rt {

// What every object of one response shares.
struct ResponseHeader {
  bool chat = false;
  std::string id;   // chatcmpl-N or cmpl-N
  int64_t created = 0;
  std::string model;
};

struct Usage {
  int64_t promptTokens = 0, completionTokens = 0;
};

// The whole answer (stream: false). With tool calls, the message carries
// them (content null when there is no text) and finish_reason is tool_calls.
std::string completionObject(const ResponseHeader &h, const AssistantOutput &out, const std::string &finishReason,
                             const Usage &usage);
// The tool calls of a stream, in one chunk, before its finish chunk.
std::string toolCallsEvent(const ResponseHeader &h, const std::vector<ParsedToolCall> &calls);
// One server-sent event of a stream: "data: {...}\n\n". The first chat chunk
// carries the role; the last has `finishReason` and no text.
// `reasoning`: a chat chunk's delta.reasoning_content.
std::string chunkEvent(const ResponseHeader &h, const std::string &text, const char *finishReason, bool first,
                       const std::string &reasoning = "");
// The closing usage chunk (stream_options.include_usage): no choices.
std::string usageEvent(const ResponseHeader &h, const Usage &usage);
// An error inside a stream, then the stream ends.
std::string errorEvent(const std::string &errorJson);
inline const char *kDoneEvent = "data: [DONE]\n\n";

} // namespace qwen3c_rt

#endif
