//===- ThreadPool.cpp - spinning workers behind the kmpc ABI ----------------===//
#include "runtime/ThreadPool.h"

#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <cstdint>
#include <immintrin.h>
#include <mutex>
#include <thread>
#include <vector>

namespace qwen3c_rt {
namespace {

using Microtask = void (*)(int32_t *, int32_t *, ...);
constexpr int kMaxArgs = 8;

struct Region {
  Microtask fn = nullptr;
  int argc = 0;
  void *args[kMaxArgs] = {};
};

thread_local int tlThread = 0;
thread_local bool tlInRegion = false;

class Pool {
public:
  ~Pool() { resize(1); }

  void resize(int n) {
    if (n < 1) n = 1;
    if (n == size()) return;
    stop.store(true);
    { std::lock_guard<std::mutex> l(mutex); }
    cv.notify_all();
    for (auto &w : workers) w.join();
    workers.clear();
    stop.store(false);
    count = n;
    // Workers start from the current generation: one read in the new thread
    // could already see the first region posted and wait for the next.
    uint64_t start = generation.load();
    for (int i = 1; i < n; ++i) workers.emplace_back([this, i, start] { work(i, start); });
  }
  int size() const { return count; }

  void run(const Region &r) {
    if (count == 1 || tlInRegion) { // nested regions run on the caller alone
      call(r, tlThread);
      return;
    }
    region = r;
    pending.store(count - 1, std::memory_order_relaxed);
    generation.fetch_add(1, std::memory_order_release);
    if (sleepers.load()) {
      std::lock_guard<std::mutex> l(mutex);
      cv.notify_all();
    }
    tlInRegion = true;
    call(r, 0);
    tlInRegion = false;
    while (pending.load(std::memory_order_acquire) != 0) _mm_pause();
  }

  // Sense-reversing barrier for the team of the current region.
  void barrier() {
    if (count == 1 || !tlInRegion) return;
    bool sense = !barrierSense.load(std::memory_order_relaxed);
    if (barrierCount.fetch_add(1, std::memory_order_acq_rel) + 1 == count) {
      barrierCount.store(0, std::memory_order_relaxed);
      barrierSense.store(sense, std::memory_order_release);
    } else {
      while (barrierSense.load(std::memory_order_acquire) != sense) _mm_pause();
    }
  }

private:
  static void call(const Region &r, int thread) {
    int32_t gtid = thread, btid = thread;
    void *const *a = r.args;
    switch (r.argc) {
    case 0: r.fn(&gtid, &btid); break;
    case 1: r.fn(&gtid, &btid, a[0]); break;
    case 2: r.fn(&gtid, &btid, a[0], a[1]); break;
    case 3: r.fn(&gtid, &btid, a[0], a[1], a[2]); break;
    case 4: r.fn(&gtid, &btid, a[0], a[1], a[2], a[3]); break;
    case 5: r.fn(&gtid, &btid, a[0], a[1], a[2], a[3], a[4]); break;
    case 6: r.fn(&gtid, &btid, a[0], a[1], a[2], a[3], a[4], a[5]); break;
    case 7: r.fn(&gtid, &btid, a[0], a[1], a[2], a[3], a[4], a[5], a[6]); break;
    default: r.fn(&gtid, &btid, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]); break;
    }
  }

  void work(int id, uint64_t seen) {
    tlThread = id;
    tlInRegion = true;
    while (true) {
      // Spin briefly (regions come every few microseconds while decoding),
      // then sleep so an idle model does not burn a core.
      int spins = 0;
      while (generation.load(std::memory_order_acquire) == seen && !stop.load()) {
        if (++spins < 200000) {
          _mm_pause();
          continue;
        }
        std::unique_lock<std::mutex> l(mutex);
        sleepers.fetch_add(1);
        cv.wait(l, [&] { return generation.load() != seen || stop.load(); });
        sleepers.fetch_sub(1);
      }
      if (stop.load()) return;
      seen = generation.load(std::memory_order_acquire);
      call(region, id);
      pending.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  int count = 1;
  std::vector<std::thread> workers;
  Region region;
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  std::atomic<bool> stop{false};
  std::atomic<int> sleepers{0};
  std::atomic<int> barrierCount{0};
  std::atomic<bool> barrierSense{false};
  std::mutex mutex;
  std::condition_variable cv;
};

Pool &pool() {
  static Pool p;
  return p;
}

} // namespace

void setThreads(int threads) { pool().resize(threads); }
int threadCount() { return pool().size(); }

} // namespace qwen3c_rt

// --- the parallel-for ABI called by generated code --------------------------

extern "C" {

int32_t __kmpc_global_thread_num(void *) { return qwen3c_rt::tlThread; }

void __kmpc_fork_call(void *, int32_t argc, qwen3c_rt::Microtask fn, ...) {
  qwen3c_rt::Region r;
  r.fn = fn;
  r.argc = argc > qwen3c_rt::kMaxArgs ? qwen3c_rt::kMaxArgs : argc;
  va_list ap;
  va_start(ap, fn);
  for (int i = 0; i < r.argc; ++i) r.args[i] = va_arg(ap, void *);
  va_end(ap);
  qwen3c_rt::pool().run(r);
}

// Static schedule: thread t gets the t-th of `threads` contiguous parts of
// the inclusive range [*lower, *upper]; an empty part has upper = lower - 1.
void __kmpc_for_static_init_8u(void *, int32_t gtid, int32_t, int32_t *lastIter, uint64_t *lower,
                               uint64_t *upper, int64_t *stride, int64_t, int64_t) {
  uint64_t total = *upper - *lower + 1;
  uint64_t threads = uint64_t(qwen3c_rt::tlInRegion ? qwen3c_rt::pool().size() : 1);
  uint64_t t = uint64_t(qwen3c_rt::tlInRegion ? gtid : 0);
  uint64_t chunk = total == 0 ? 0 : (total + threads - 1) / threads;
  uint64_t lo = *lower + t * chunk, hi = lo + chunk - 1;
  if (total == 0 || t * chunk >= total) {
    *upper = *lower - 1;
    *lastIter = 0;
  } else {
    if (hi > *upper) hi = *upper;
    *lastIter = hi == *upper;
    *lower = lo;
    *upper = hi;
  }
  *stride = int64_t(total);
}

void __kmpc_for_static_fini(void *, int32_t) {}

void __kmpc_barrier(void *, int32_t) { qwen3c_rt::pool().barrier(); }

} // extern "C"
