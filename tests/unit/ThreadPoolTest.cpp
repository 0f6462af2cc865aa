//===- ThreadPoolTest.cpp ---------------------------------------------------===//
#include "runtime/ThreadPool.h"

#include <gtest/gtest.h>

using namespace qwen3c_rt;

// A resize, or the exit's, may stop workers that have not run their first
// instruction yet (a compiled model that fails right after setThreads: a
// truncated weight file). They must still stop: each starts from the epoch
// of its creation, so the stopping epoch has moved past it. Before the fix
// a worker read the stopping epoch as its own and waited on it forever, and
// this loop hung on its first few resizes (as a CI run did in sidecar.test).
TEST(ThreadPool, StopsWorkersThatHaveNotStartedYet) {
  for (int i = 0; i < 200; ++i) {
    setThreads(2 + i % 7);
    setThreads(1);
  }
  EXPECT_EQ(threadCount(), 1);
}
