//===- Futex.h - sleeping on a 32-bit atomic word -----------------*- C++ -*-===//
//
// Linux futexes, private to the process: a thread waits while a word holds
// an expected value; another wakes it after changing the word. The pool's
// threads sleep here once their bounded spin is over.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_FUTEX_H
#define QWEN3C_RUNTIME_FUTEX_H

#include <atomic>
#include <climits>
#include <cstdint>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace qwen3c_rt {

static_assert(sizeof(std::atomic<uint32_t>) == 4, "a futex is a 32-bit word");

// Returns when *word != expected, on a wake-up, or spuriously: callers loop.
inline void futexWait(std::atomic<uint32_t> *word, uint32_t expected) {
  ::syscall(SYS_futex, reinterpret_cast<uint32_t *>(word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

inline void futexWakeAll(std::atomic<uint32_t> *word) {
  ::syscall(SYS_futex, reinterpret_cast<uint32_t *>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

} // namespace qwen3c_rt

#endif
