//===- HttpServer.h - EXE --server: the OpenAI HTTP API -----------*- C++ -*-===//
//
// /v1/chat/completions and /v1/completions (streamed as server-sent events
// or not), /v1/models and /health, on cpp-httplib. Requests are read by
// ApiRequest, run by the Scheduler, answered by ApiResponse.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_SERVER_HTTPSERVER_H
#define QWEN3C_RUNTIME_SERVER_HTTPSERVER_H

#include <cstdint>
#include <string>
#include <vector>

namespace qwen3c_rt {

struct ServerOptions {
  std::string host = "127.0.0.1"; // loopback unless asked
  int port = 8080;                // 0: any free port (printed)
  int64_t parallel = 1;           // sequences decoded together, each with its own KV cache
  int64_t maxQueued = 64;         // waiting requests beyond the slots; more get 503
  int64_t context = 0;            // per sequence; 0: the compiled maximum
  int64_t threads = 1;
  std::string weights;
  std::string modelName;          // /v1/models' id; default: the executable's name
  size_t maxBodyBytes = 8u << 20;
  bool splitReasoning = true;     // --reasoning-format split: <think> text as reasoning_content
};

extern const char *kServerFlagsHelp;
// Parses `EXE --server ...` (the --server flag included). Throws RunError.
ServerOptions parseServerFlags(const std::vector<std::string> &args, ServerOptions defaults, const char *program);

// Loads the model and serves until SIGINT or SIGTERM; returns the exit status.
int runServer(const ServerOptions &options, const char *program);

} // namespace qwen3c_rt

#endif
