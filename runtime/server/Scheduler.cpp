//===- Scheduler.cpp --------------------------------------------------------===//
#include "runtime/server/Scheduler.h"
#include "runtime/CompiledModel.h"
#include "runtime/CompletionText.h"
#include "runtime/Tokenizer.h"

#include <algorithm>

namespace qwen3c_rt {

Job::Update Job::next() {
  std::unique_lock<std::mutex> lock(m);
  cv.wait(lock, [&] { return !pending.empty() || done; });
  Update u;
  u.text.swap(pending);
  if (done && !taken) { // the finish is reported once
    taken = true;
    u.done = true;
    u.finishReason = reason;
    u.error = errorText;
  } else if (done) {
    u.done = true;
  }
  return u;
}

void Job::append(const std::string &text) {
  if (text.empty()) return;
  std::lock_guard<std::mutex> lock(m);
  pending += text;
  cv.notify_all();
}

void Job::finish(std::string why, std::string error) {
  std::lock_guard<std::mutex> lock(m);
  done = true;
  reason = std::move(why);
  errorText = std::move(error);
  cv.notify_all();
}

struct Scheduler::Slot {
  explicit Slot(int64_t index) : index(index) {}
  int64_t index;
  std::shared_ptr<Job> job;
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<CompletionText> text;
  std::vector<int32_t> history; // the tokens in this slot's cache, and the one being sampled after
  size_t promptLength = 0;
  size_t evaluated = 0;         // prompt tokens in the cache; below promptLength: still reading the prompt
  std::vector<float> logits;    // of the last evaluated position
};

Scheduler::Scheduler(CompiledModel &model, const Tokenizer &tokenizer, std::vector<int32_t> eos, int64_t context,
                     size_t maxQueued)
    : model(model), tokenizer(tokenizer), eos(std::move(eos)), context(context), maxQueued(maxQueued) {
  for (int64_t i = 0; i < model.sequences(); ++i) slotList.push_back(std::make_unique<Slot>(i));
  engine = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::stop() {
  {
    std::lock_guard<std::mutex> lock(m);
    stopping = true;
  }
  cv.notify_all();
  if (engine.joinable()) engine.join();
}

int64_t Scheduler::slots() const { return int64_t(slotList.size()); }

void Scheduler::submit(const std::shared_ptr<Job> &job) {
  {
    std::lock_guard<std::mutex> lock(m);
    if (stopping) throw ApiError(503, "the server is shutting down", "", "server_error");
    if (queue.size() >= maxQueued)
      throw ApiError(503, "the server is busy: " + std::to_string(queue.size()) + " requests are waiting", "",
                     "server_error");
    queue.push_back(job);
  }
  cv.notify_all();
}

void Scheduler::loop() {
  auto active = [&] {
    return std::any_of(slotList.begin(), slotList.end(), [](const auto &s) { return s->job != nullptr; });
  };
  while (true) {
    {
      std::unique_lock<std::mutex> lock(m);
      cv.wait(lock, [&] { return stopping || !queue.empty() || active(); });
      if (stopping) {
        for (auto &job : queue) job->finish("", "the server is shutting down");
        queue.clear();
        break;
      }
    }
    // New requests join between steps, in arrival order.
    for (auto &slot : slotList) {
      if (slot->job) continue;
      std::shared_ptr<Job> job;
      {
        std::lock_guard<std::mutex> lock(m);
        while (!queue.empty() && !job) {
          job = queue.front();
          queue.pop_front();
          if (job->isCancelled()) job->finish("", "cancelled"), job = nullptr;
        }
      }
      if (!job) break;
      admit(*slot, std::move(job));
    }
    stepAll();
  }
  for (auto &slot : slotList)
    if (slot->job) slot->job->finish("", "the server is shutting down");
}

void Scheduler::admit(Slot &slot, std::shared_ptr<Job> job) {
  const CompletionRequest &r = job->request;
  slot.job = std::move(job);
  slot.sampler = std::make_unique<Sampler>(r.sampling);
  slot.text = std::make_unique<CompletionText>(r.stops);
  slot.history = r.prompt;
  slot.promptLength = r.prompt.size();
  slot.evaluated = 0;
}

void Scheduler::readPrompt(Slot &slot) {
  if (slot.job->isCancelled()) {
    slot.job->finish("", "cancelled");
    slot.job = nullptr;
    return;
  }
  // One piece per step, so the other sequences keep streaming meanwhile. The
  // pieces depend only on the prompt's length: the same request reads its
  // prompt the same way whatever else runs.
  size_t n = std::min(slot.promptLength - slot.evaluated, kPromptPiece);
  std::vector<int32_t> piece(slot.history.begin() + long(slot.evaluated),
                             slot.history.begin() + long(slot.evaluated + n));
  try {
    slot.logits = model.forwardSequence(slot.index, piece, int64_t(slot.evaluated), /*allRows=*/false);
    slot.evaluated += n;
  } catch (const std::exception &e) {
    slot.job->finish("", e.what());
    slot.job = nullptr;
  }
}

bool Scheduler::sampleNext(Slot &slot) {
  Job &job = *slot.job;
  auto release = [&](const char *reason) {
    job.append(slot.text->finish());
    job.finish(reason);
    slot.job = nullptr;
    return false;
  };
  if (job.isCancelled()) {
    job.finish("", "cancelled");
    slot.job = nullptr;
    return false;
  }
  const int64_t V = model.vocab();
  int32_t next = slot.sampler->sample(slot.logits.data(), V, slot.history, slot.promptLength);
  if (!job.request.ignoreEos && std::find(eos.begin(), eos.end(), next) != eos.end()) return release("stop");
  slot.history.push_back(next);
  ++job.generated;
  job.append(slot.text->add(tokenizer.tokenDecoder().bytes(next)));
  if (slot.text->stopped()) return release("stop");
  if (job.generated >= job.request.maxTokens || int64_t(slot.history.size()) >= context) return release("length");
  return true;
}

void Scheduler::stepAll() {
  std::vector<Slot *> next; // sampled a token that must be evaluated
  for (auto &slot : slotList) {
    if (!slot->job) continue;
    if (slot->evaluated < slot->promptLength) readPrompt(*slot);
    else if (sampleNext(*slot)) next.push_back(slot.get());
  }
  if (next.empty()) return;
  auto fail = [&](Slot &slot, const std::exception &e) {
    slot.job->finish("", e.what());
    slot.job = nullptr;
  };
  const int64_t N = CompiledModel::decodeBatchRows(), V = model.vocab();
  if (N == 0 || model.sequences() < 2) { // one sequence, or no batched entry: a decode call each
    for (Slot *slot : next) try {
        slot->logits = model.forwardSequence(slot->index, {slot->history.back()},
                                             int64_t(slot->history.size()) - 1, false);
      } catch (const std::exception &e) {
        fail(*slot, e);
      }
    return;
  }
  // Every group of N slots with a token to evaluate: one call, always the
  // batched entry (a sequence's logits do not depend on its neighbours').
  for (int64_t first = 0; first < model.sequences(); first += N) {
    std::vector<int32_t> tokens(size_t(N), 0);
    std::vector<int64_t> positions(size_t(N), 0);
    std::vector<Slot *> rows(size_t(N), nullptr);
    // A row without a token still writes its K/V: a slot reading its prompt
    // gets that write at the position its next piece (or first token)
    // overwrites, never inside what it has read; a free slot at 0.
    for (int64_t r = 0; r < N && first + r < model.sequences(); ++r) {
      const Slot &slot = *slotList[size_t(first + r)];
      if (slot.job) positions[size_t(r)] = int64_t(slot.evaluated);
    }
    for (Slot *slot : next)
      if (slot->index >= first && slot->index < first + N) {
        size_t r = size_t(slot->index - first);
        rows[r] = slot;
        tokens[r] = slot->history.back();
        positions[r] = int64_t(slot->history.size()) - 1;
      }
    if (std::none_of(rows.begin(), rows.end(), [](Slot *s) { return s != nullptr; })) continue;
    try {
      const float *logits = model.forwardBatch(first, tokens, positions);
      for (size_t r = 0; r < rows.size(); ++r)
        if (rows[r]) rows[r]->logits.assign(logits + r * size_t(V), logits + (r + 1) * size_t(V));
    } catch (const std::exception &e) {
      for (Slot *slot : rows)
        if (slot) fail(*slot, e);
    }
  }
}

} // namespace qwen3c_rt
