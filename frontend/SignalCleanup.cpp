//===- SignalCleanup.cpp ----------------------------------------------------===//
#include "frontend/SignalCleanup.h"

#include <atomic>
#include <csignal>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>

namespace q3c {
namespace {

// Fixed storage: the handler may only touch memory that is never reallocated.
constexpr int kSlots = 32;
constexpr size_t kPathMax = 4096;
struct Slot {
  std::atomic<int> state{0}; // 0 free, 1 being written, 2 file, 3 folder
  char path[kPathMax];
};
Slot slots[kSlots];
std::atomic<int> child{0};

void cleanupAndReraise(int sig) {
  if (int pid = child.load(); pid > 0) { // kill and waitpid are async-signal-safe
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  for (int pass = 0; pass < 2; ++pass) // files first, so their folders are empty
    for (auto &s : slots) {
      int st = s.state.load();
      if (pass == 0 && st == 2) ::unlink(s.path);
      if (pass == 1 && st == 3) ::rmdir(s.path);
    }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

} // namespace

void setChildToStop(int pid) { child.store(pid); }

void installSignalCleanup() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
    struct sigaction sa {};
    sa.sa_handler = cleanupAndReraise;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
  std::signal(SIGXFSZ, SIG_IGN); // inherited by the linker too: it reports EFBIG
}

RemoveOnSignal::RemoveOnSignal(const std::string &path, bool isFolder) : slot_(-1) {
  if (path.size() >= kPathMax) return;
  for (int i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (slots[i].state.compare_exchange_strong(expected, 1)) {
      std::memcpy(slots[i].path, path.c_str(), path.size() + 1);
      slots[i].state.store(isFolder ? 3 : 2);
      slot_ = i;
      return;
    }
  }
}

RemoveOnSignal::~RemoveOnSignal() {
  if (slot_ >= 0) slots[slot_].state.store(0);
}

} // namespace q3c
