//===- PhaseHook.h - a test hook at the named phases of a build --*- C++ -*-===//
//
// Tests interrupt `qwen3c build` at a named phase, not after a guessed delay
// (which lands elsewhere on a faster or busier machine). With
// QWEN3C_TEST_PAUSE_AT=PHASE in the environment, reaching that phase prints
// "qwen3c: paused at PHASE" on stderr and blocks until a signal ends the
// process; the test's helper sends it once it reads the line. Phases, in
// order: lower, pack (the weights' output is open), codegen, link (the
// linker is running). Without the variable this costs one getenv.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_FRONTEND_PHASEHOOK_H
#define QWEN3C_FRONTEND_PHASEHOOK_H

namespace q3c {

void phaseReached(const char *phase);

} // namespace q3c

#endif
