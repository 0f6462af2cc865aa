//===- Scheduler.h - the server's sequences and its one engine thread -*- C++ -*-===//
//
// Requests wait in a queue for one of the model's sequence slots (each with
// its own KV cache); one engine thread owns the model and, each step,
// evaluates the next piece of each admitted request's prompt and advances
// every sequence past its prompt by one token. A request's tokens depend only on itself: its own cache,
// its own seeded sampler.
//
// With --parallel N >= 2 and a model built with @decode_batch (rows R), a
// step evaluates the new tokens of each group of R slots in one call: one
// pass over the weights for all of them.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_SERVER_SCHEDULER_H
#define QWEN3C_RUNTIME_SERVER_SCHEDULER_H

#include "runtime/server/ApiRequest.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace qwen3c_rt {

class CompiledModel;
class Tokenizer;

// One request in flight: the engine appends text and finishes it; the HTTP
// thread takes the text as it comes.
class Job {
public:
  explicit Job(CompletionRequest request) : request(std::move(request)) {}
  const CompletionRequest request;

  struct Update {
    std::string text;        // new text since the last update
    bool done = false;
    std::string finishReason; // "stop" or "length", when done
    std::string error;        // when the engine could not run it
  };
  // Blocks until there is new text or the job is done.
  Update next();
  // The client went away: the engine drops the job at its next step.
  void cancel() { cancelled = true; }
  bool isCancelled() const { return cancelled; }
  int64_t completionTokens() const { return generated; }

  // Engine side.
  void append(const std::string &text);
  void finish(std::string reason, std::string error = "");

private:
  std::mutex m;
  std::condition_variable cv;
  std::string pending;
  bool done = false, taken = false;
  std::string reason, errorText;
  std::atomic<bool> cancelled{false};
  std::atomic<int64_t> generated{0};
  friend class Scheduler;
};

class Scheduler {
public:
  // `model` has one KV cache per slot; `eos` ends a completion.
  Scheduler(CompiledModel &model, const Tokenizer &tokenizer, std::vector<int32_t> eos, int64_t context,
            size_t maxQueued);
  ~Scheduler();
  // Queues a job; throws ApiError 503 when the queue is full.
  void submit(const std::shared_ptr<Job> &job);
  int64_t slots() const;
  // Ends every job (an error: the server is shutting down) and the engine
  // thread; later submits get 503. Idempotent.
  void stop();

private:
  struct Slot;
  void loop();
  void admit(Slot &slot, std::shared_ptr<Job> job);
  // Evaluates the next piece of an admitted request's prompt.
  void readPrompt(Slot &slot);
  // Prompt tokens read per step: a long prompt pauses the other streams
  // for one piece at a time, not for all of it.
  static constexpr size_t kPromptPiece = 256;
  // Samples a slot's next token; false when that ended its job.
  bool sampleNext(Slot &slot);
  // One step: a token for every active slot, evaluated together.
  void stepAll();

  CompiledModel &model;
  const Tokenizer &tokenizer;
  std::vector<int32_t> eos;
  int64_t context;
  size_t maxQueued;
  std::vector<std::unique_ptr<Slot>> slotList;
  std::mutex m;
  std::condition_variable cv;
  std::deque<std::shared_ptr<Job>> queue;
  bool stopping = false;
  std::thread engine;
};

} // namespace qwen3c_rt

#endif
