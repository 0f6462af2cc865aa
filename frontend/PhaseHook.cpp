//===- PhaseHook.cpp --------------------------------------------------------===//
#include "frontend/PhaseHook.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace q3c {

void phaseReached(const char *phase) {
  const char *at = std::getenv("QWEN3C_TEST_PAUSE_AT");
  if (!at || std::strcmp(at, phase) != 0) return;
  std::fprintf(stderr, "qwen3c: paused at %s\n", phase);
  std::fflush(stderr);
  while (true) ::pause(); // the signal's handler cleans up and ends the process
}

} // namespace q3c
