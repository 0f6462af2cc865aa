//===- ThreadPool.cpp - the kmpc ABI on a pool that tolerates a busy machine -===//
//
// A parallel region is cut into slices (kSlicesPerThread per thread); each
// slice is one call of the region's microtask, and the static schedule gives
// slice s the s-th contiguous part of the loop. Whoever is running claims
// the next slice: the caller claims them too, so a worker the kernel has
// descheduled never holds up work it has not started, and the caller waits
// only for slices already under way. Which thread runs a slice does not
// change what it computes, so results are bit-identical for any -t.
//
// Waiting is bounded: a thread spins for a few tens of microseconds (regions
// come every few microseconds while decoding), then sleeps on a futex.
//
// Joining is one compare-and-swap on a ticket holding the region's epoch, a
// closed bit and the count of joined workers. The caller closes the ticket
// when no slice is left; a worker that arrives later sees it closed and never
// touches the region's arguments (which live in the caller's frame).
//
//===----------------------------------------------------------------------===//
#include "runtime/ThreadPool.h"
#include "runtime/Futex.h"

#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <immintrin.h>
#include <thread>
#include <vector>

namespace qwen3c_rt {
namespace {

using Microtask = void (*)(int32_t *, int32_t *, ...);
constexpr int kMaxArgs = 8;
// Slices per thread: small enough that a thread preempted inside one holds
// back little, few enough that claiming costs nothing next to the work.
constexpr int kSlicesPerThread = 4;
// How long a thread spins before it sleeps.
constexpr auto kSpin = std::chrono::microseconds(50);

struct Region {
  Microtask fn = nullptr;
  int argc = 0;
  void *args[kMaxArgs] = {};
};

// The slice the current thread is running, and how many the region has;
// outside a region (or in a nested one, run inline) the loop is one slice.
thread_local int tlSlice = 0;
thread_local int tlSlices = 1;
thread_local bool tlInRegion = false;

constexpr uint64_t kClosed = uint64_t(1) << 31;
constexpr uint64_t kJoinedMask = kClosed - 1;

// Spins until `done()` or the spin budget is spent; true if done.
template <typename Done> bool spinUntil(Done done) {
  auto until = std::chrono::steady_clock::now() + kSpin;
  while (true) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      _mm_pause();
    }
    if (std::chrono::steady_clock::now() >= until) return done();
  }
}

class Pool {
public:
  ~Pool() { resize(1); }

  void resize(int n) {
    if (n < 1) n = 1;
    if (n == size()) return;
    stop.store(true);
    epoch.fetch_add(1);
    futexWakeAll(&epoch);
    for (auto &w : workers) w.join();
    workers.clear();
    stop.store(false);
    count = n;
    // Each worker starts from the epoch of its creation, not from the one it
    // reads when it first runs: a resize (or the exit's) that stops it before
    // then has moved the epoch past it, so it wakes, sees stop and returns
    // (reading the epoch itself, it would wait on the stopping one forever).
    const uint32_t born = epoch.load(std::memory_order_seq_cst);
    for (int i = 1; i < n; ++i) workers.emplace_back([this, born] { work(born); });
  }
  int size() const { return count; }

  void run(const Region &r) {
    if (count == 1 || tlInRegion) { // nested regions run inline as one slice
      runInline(r);
      return;
    }
    region = r;
    slices = count * kSlicesPerThread;
    nextSlice.store(0, std::memory_order_relaxed);
    finished.store(0, std::memory_order_relaxed);
    uint32_t e = epoch.load(std::memory_order_relaxed) + 1;
    ticket.store(uint64_t(e) << 32, std::memory_order_relaxed);
    epoch.store(e, std::memory_order_seq_cst); // publishes the region
    if (sleepingWorkers.load(std::memory_order_seq_cst) > 0) futexWakeAll(&epoch);

    tlInRegion = true;
    runSlices();
    tlInRegion = false;

    uint32_t joined = uint32_t(ticket.fetch_or(kClosed, std::memory_order_acq_rel) & kJoinedMask);
    auto allDone = [&] { return finished.load(std::memory_order_acquire) == joined; };
    if (spinUntil(allDone)) return;
    callerSleeping.store(true, std::memory_order_seq_cst);
    for (uint32_t f; (f = finished.load(std::memory_order_seq_cst)) != joined;) futexWait(&finished, f);
    callerSleeping.store(false, std::memory_order_relaxed);
  }

private:
  static void call(const Region &r, int slice) {
    int32_t gtid = slice, btid = slice;
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

  static void runInline(const Region &r) {
    int slice = tlSlice, slicesWas = tlSlices;
    bool inRegion = tlInRegion;
    tlSlice = 0;
    tlSlices = 1;
    tlInRegion = true;
    call(r, 0);
    tlSlice = slice;
    tlSlices = slicesWas;
    tlInRegion = inRegion;
  }

  // Claims and runs slices until none is left.
  void runSlices() {
    tlSlices = slices;
    for (int s; (s = nextSlice.fetch_add(1, std::memory_order_relaxed)) < slices;) {
      tlSlice = s;
      call(region, s);
    }
    tlSlice = 0;
    tlSlices = 1;
  }

  // Joins the region of epoch `e` unless the caller has closed it already.
  bool join(uint32_t e) {
    uint64_t t = ticket.load(std::memory_order_acquire);
    while ((t >> 32) == e && !(t & kClosed))
      if (ticket.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel)) return true;
    return false;
  }

  void work(uint32_t born) {
    tlInRegion = true;
    uint32_t seen = born;
    while (true) {
      auto posted = [&] { return epoch.load(std::memory_order_acquire) != seen; };
      if (!spinUntil(posted)) {
        sleepingWorkers.fetch_add(1, std::memory_order_seq_cst);
        while (epoch.load(std::memory_order_seq_cst) == seen) futexWait(&epoch, seen);
        sleepingWorkers.fetch_sub(1, std::memory_order_relaxed);
      }
      // The epoch first: resize() sets stop before it moves the epoch, so a
      // worker that sees the stopping epoch also sees stop (else it would
      // wait on that epoch forever).
      seen = epoch.load(std::memory_order_seq_cst);
      if (stop.load(std::memory_order_seq_cst)) return;
      if (!join(seen)) continue; // too late: the caller did it all
      runSlices();
      finished.fetch_add(1, std::memory_order_seq_cst);
      if (callerSleeping.load(std::memory_order_seq_cst)) futexWakeAll(&finished);
    }
  }

  int count = 1;
  std::vector<std::thread> workers;
  Region region;
  int slices = 1;
  std::atomic<uint32_t> epoch{0};
  std::atomic<uint64_t> ticket{0};
  std::atomic<int> nextSlice{0};
  std::atomic<uint32_t> finished{0};
  std::atomic<int> sleepingWorkers{0};
  std::atomic<bool> callerSleeping{false};
  std::atomic<bool> stop{false};
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

int32_t __kmpc_global_thread_num(void *) { return qwen3c_rt::tlSlice; }

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

// Static schedule over slices: slice s gets the s-th of `slices` contiguous
// parts of the inclusive range [*lower, *upper]; an empty part has
// upper = lower - 1.
void __kmpc_for_static_init_8u(void *, int32_t, int32_t, int32_t *lastIter, uint64_t *lower,
                               uint64_t *upper, int64_t *stride, int64_t, int64_t) {
  uint64_t total = *upper - *lower + 1;
  uint64_t parts = uint64_t(qwen3c_rt::tlSlices);
  uint64_t s = uint64_t(qwen3c_rt::tlSlice);
  uint64_t chunk = total == 0 ? 0 : (total + parts - 1) / parts;
  uint64_t lo = *lower + s * chunk, hi = lo + chunk - 1;
  if (total == 0 || s * chunk >= total) {
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

// Slices run one after another on whichever thread claims them, so a barrier
// inside a region could never be met. scf.parallel's lowering puts none
// there (each region is one loop; the region's end is the join); one would
// be a compiler bug, reported rather than deadlocking.
void __kmpc_barrier(void *, int32_t) {
  if (qwen3c_rt::tlSlices == 1) return;
  std::fputs("qwen3c runtime: internal error: a barrier inside a parallel region\n", stderr);
  std::abort();
}

} // extern "C"
