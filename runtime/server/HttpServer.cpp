//===- HttpServer.cpp -------------------------------------------------------===//
#include "runtime/server/HttpServer.h"
#include "runtime/ChatFormat.h"
#include "runtime/CompiledModel.h"
#include "runtime/ThreadPool.h"
#include "runtime/Tokenizer.h"
#include "runtime/server/ApiResponse.h"
#include "runtime/server/Reasoning.h"
#include "runtime/server/Scheduler.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <pthread.h>

namespace qwen3c_rt {
namespace {

template <typename... Parts> [[noreturn]] void fail(const Parts &...parts) { failRun(parts...); }

int64_t toInt(const std::string &flag, const std::string &v, int64_t lo, int64_t hi) {
  int64_t x = parseIntFlag(flag, v);
  if (x < lo || x > hi) fail(flag, ": ", v, " is outside ", std::to_string(lo), "..", std::to_string(hi));
  return x;
}

void sendError(httplib::Response &res, const ApiError &e) {
  res.status = e.status;
  res.set_content(e.json(), "application/json");
}

// The state every handler shares.
struct Service {
  const ServerOptions &options;
  Scheduler &scheduler;
  ApiLimits limits;
  std::atomic<int64_t> nextId{1};

  void complete(const httplib::Request &req, httplib::Response &res, bool chat) {
    CompletionRequest request = parseCompletionRequest(req.body, chat, limits);
    ResponseHeader h{chat, std::string(chat ? "chatcmpl-" : "cmpl-") + std::to_string(nextId++),
                     int64_t(std::time(nullptr)), options.modelName};
    Usage usage{int64_t(request.prompt.size()), 0};
    auto job = std::make_shared<Job>(std::move(request));
    scheduler.submit(job);
    if (!job->request.stream) {
      std::string text;
      Job::Update u;
      do {
        u = job->next();
        text += u.text;
      } while (!u.done);
      if (!u.error.empty()) throw ApiError(500, u.error, "", "server_error");
      usage.completionTokens = job->completionTokens();
      SplitAnswer answer = chat && options.splitReasoning ? splitReasoning(text) : SplitAnswer{"", text};
      AssistantOutput out =
          job->request.tools ? parseToolCalls(answer.content) : AssistantOutput{answer.content, {}, ""};
      out.reasoning = answer.reasoning;
      res.set_content(completionObject(h, out, u.finishReason, usage), "application/json");
      return;
    }
    // One event per update; the provider runs on this connection's thread
    // and blocks in next() until the engine has something.
    auto first = std::make_shared<bool>(true);
    auto tools = job->request.tools ? std::make_shared<ToolCallStream>() : nullptr;
    auto reasoning = chat && options.splitReasoning ? std::make_shared<ReasoningStream>() : nullptr;
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [job, h, usage, first, tools, reasoning](size_t, httplib::DataSink &sink) mutable {
          Job::Update u = job->next();
          // Text -> reasoning and answer (<think>) -> content and tool calls.
          SplitAnswer part = reasoning ? reasoning->add(u.text) : SplitAnswer{"", u.text};
          if (u.done && reasoning) {
            SplitAnswer rest = reasoning->finish();
            part.reasoning += rest.reasoning;
            part.content += rest.content;
          }
          std::string out, text = tools ? tools->add(part.content) : part.content;
          AssistantOutput calls;
          if (u.done && tools && u.error.empty()) {
            calls = tools->finish();
            text += calls.content;
          }
          if (!text.empty() || !part.reasoning.empty() || (*first && h.chat))
            out += chunkEvent(h, text, nullptr, *first, part.reasoning);
          if (!out.empty()) *first = false;
          if (u.done) {
            if (!u.error.empty()) {
              out += errorEvent(ApiError(500, u.error, "", "server_error").json());
            } else {
              if (!calls.calls.empty()) out += toolCallsEvent(h, calls.calls);
              out += chunkEvent(h, "", calls.calls.empty() ? u.finishReason.c_str() : "tool_calls", false);
              usage.completionTokens = job->completionTokens();
              if (job->request.includeUsage) out += usageEvent(h, usage);
            }
            out += kDoneEvent;
          }
          if (!sink.write(out.data(), out.size())) { // the client went away
            job->cancel();
            return false;
          }
          if (u.done) sink.done();
          return true;
        },
        [job](bool) { job->cancel(); }); // a no-op once the job is done
  }
};

// SIGINT and SIGTERM are blocked in every thread and taken here: the
// server stops cleanly instead of dying inside a request.
// Jobs end first, so no handler waits on the engine when the server joins
// its threads.
void waitForSignal(sigset_t set, httplib::Server &server, Scheduler &scheduler, std::atomic<bool> &stopped) {
  int sig = 0;
  sigwait(&set, &sig);
  if (stopped.exchange(true)) return;
  std::fprintf(stderr, "server: %s, stopping\n", sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal");
  scheduler.stop();
  server.stop();
}

} // namespace

const char *kServerFlagsHelp =
    "server (--server):\n"
    "  --host ADDR            address to listen on (default 127.0.0.1)\n"
    "  --port N               port (default 8080; 0: any free port, printed)\n"
    "  --parallel N           sequences served at once, each with its own KV cache (default 1)\n"
    "  --max-queue N          requests waiting beyond those (default 64; more get 503)\n"
    "  --alias NAME           the model id in /v1/models and responses (default: this file's name)\n"
    "  --reasoning-format F   split (default): a chat answer's <think> part as reasoning_content;\n"
    "                         none: left in content\n"
    "  -c, --ctx-size N       context per sequence (at most the compiled maximum)\n"
    "  -t, --threads N        threads (default: the CPUs this process may use)\n"
    "  --weights FILE         the sidecar weight file\n";

ServerOptions parseServerFlags(const std::vector<std::string> &args, ServerOptions o, const char *program) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    auto value = [&]() -> const std::string & {
      if (i + 1 >= args.size()) fail(a, ": needs a value");
      return args[++i];
    };
    if (a == "--server") {
    } else if (a == "-h" || a == "--help") {
      std::printf("usage: %s --server [options]\n%s", program, kServerFlagsHelp);
      std::exit(0);
    } else if (a == "--host") {
      o.host = value();
    } else if (a == "--port") {
      o.port = int(toInt("--port", value(), 0, 65535));
    } else if (a == "--parallel") {
      o.parallel = toInt("--parallel", value(), 1, 256);
    } else if (a == "--max-queue") {
      o.maxQueued = toInt("--max-queue", value(), 0, 1 << 20);
    } else if (a == "--alias") {
      o.modelName = value();
      if (o.modelName.empty()) fail("--alias: must not be empty");
    } else if (a == "--reasoning-format") {
      const std::string &f = value();
      if (f != "split" && f != "none") fail("--reasoning-format: '", f, "' is not split or none");
      o.splitReasoning = f == "split";
    } else if (a == "-c" || a == "--ctx-size") {
      o.context = toInt("-c", value(), 2, INT64_MAX);
    } else if (a == "-t" || a == "--threads") {
      o.threads = toInt("-t", value(), 1, 4096);
    } else if (a == "--weights") {
      o.weights = value();
    } else {
      fail("--server: unknown option '", a, "' (see --server --help)");
    }
  }
  if (o.modelName.empty()) {
    std::string p = program;
    o.modelName = p.substr(p.find_last_of('/') + 1);
  }
  return o;
}

int runServer(const ServerOptions &o, const char *program) {
  // Before any thread starts, so all inherit the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN); // a client that hangs up is a failed write, not the end of the server

  std::unique_ptr<Tokenizer> tokenizer = embeddedTokenizer();
  if (!tokenizer) fail("--server: this model was built without a tokenizer");
  setThreads(int(o.threads));
  CompiledModel model(o.weights, o.parallel);
  int64_t context = o.context ? o.context : model.maxContext();
  if (context > model.maxContext())
    fail("-c: ", std::to_string(context), " is outside 2..", std::to_string(model.maxContext()),
         " (the compiled maximum context)");
  ChatFormat chat = ChatFormat::ofCompiledModel();
  Scheduler scheduler(model, *tokenizer, endOfTurnIds(model, tokenizer.get()), context, size_t(o.maxQueued));
  Service service{o, scheduler, ApiLimits{tokenizer.get(), &chat, context, model.vocab()}};

  httplib::Server server;
  size_t handlerThreads = size_t(o.parallel + 8);
  server.new_task_queue = [handlerThreads] { return new httplib::ThreadPool(handlerThreads); };
  server.set_payload_max_length(o.maxBodyBytes);
  // Errors httplib answers itself (404, 413) get an OpenAI error body too.
  server.set_error_handler([](const httplib::Request &req, httplib::Response &res) {
    if (!res.body.empty()) return;
    std::string what = res.status == 404   ? "no route " + req.method + " " + req.path
                       : res.status == 413 ? "the request body is too large"
                                           : "HTTP status " + std::to_string(res.status);
    sendError(res, ApiError(res.status, what));
  });
  server.set_exception_handler([](const httplib::Request &, httplib::Response &res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const ApiError &e) {
      sendError(res, e);
    } catch (const std::exception &e) {
      sendError(res, ApiError(500, std::string("internal error: ") + e.what(), "", "server_error"));
    } catch (...) {
      sendError(res, ApiError(500, "internal error", "", "server_error"));
    }
  });
  auto guarded = [](auto handler) {
    return [handler](const httplib::Request &req, httplib::Response &res) {
      try {
        handler(req, res);
      } catch (const ApiError &e) {
        sendError(res, e);
      }
    };
  };
  server.Post("/v1/chat/completions",
              guarded([&](const httplib::Request &q, httplib::Response &r) { service.complete(q, r, true); }));
  server.Post("/v1/completions",
              guarded([&](const httplib::Request &q, httplib::Response &r) { service.complete(q, r, false); }));
  server.Get("/v1/models", [&](const httplib::Request &, httplib::Response &res) {
    nlohmann::ordered_json m{{"id", o.modelName}, {"object", "model"}, {"created", 0}, {"owned_by", "qwen3c"},
                             {"max_context", context}};
    nlohmann::ordered_json list{{"object", "list"}, {"data", nlohmann::ordered_json::array({m})}};
    res.set_content(list.dump(), "application/json");
  });
  server.Get("/health", [](const httplib::Request &, httplib::Response &res) {
    res.set_content("{\"status\":\"ok\"}", "application/json");
  });

  int port = o.port;
  if (port == 0) {
    port = server.bind_to_any_port(o.host);
    if (port < 0) fail("--server: cannot listen on ", o.host);
  } else if (!server.bind_to_port(o.host, port)) {
    fail("--server: cannot listen on ", o.host, ":", std::to_string(port), " (in use, or not this host's address)");
  }
  std::fprintf(stderr,
               "%s: listening on http://%s:%d (model %s, %lld sequences of %lld tokens, %lld threads, %s chat "
               "template)\n",
               program, o.host.c_str(), port, o.modelName.c_str(), (long long)o.parallel, (long long)context,
               (long long)o.threads, chat.isCheckpointTemplate() ? "the checkpoint's" : "Qwen3's built-in");
  std::fflush(stderr);
  std::atomic<bool> stopped{false};
  std::thread signals(waitForSignal, set, std::ref(server), std::ref(scheduler), std::ref(stopped));
  bool ok = server.listen_after_bind();
  if (!stopped.exchange(true)) pthread_kill(signals.native_handle(), SIGTERM); // listen failed by itself
  signals.join();
  return ok ? 0 : 1;
}

} // namespace qwen3c_rt
