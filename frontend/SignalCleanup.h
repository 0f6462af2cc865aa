//===- SignalCleanup.h - remove temporaries when a signal ends us --*- C++ -*-===//
//
// Temporaries are normally removed by destructors; a signal (Ctrl-C, kill,
// hang-up) skips them. Paths registered here are unlinked (files) or rmdir'ed
// (folders, after their files) by a handler that then re-raises the signal, so
// an interrupted `qwen3c build` leaves neither a partial executable nor a
// partial sidecar nor scratch files. SIGXFSZ is ignored so that exceeding a
// file-size limit is an ordinary write error (EFBIG) with a message.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_FRONTEND_SIGNALCLEANUP_H
#define QWEN3C_FRONTEND_SIGNALCLEANUP_H

#include <string>

namespace q3c {

void installSignalCleanup();

// A child process (the linker) that must die before the temporaries go: a
// signal sent to qwen3c alone (kill PID, a supervisor) does not reach it, and
// it would write its output after the cleanup. 0: none.
void setChildToStop(int pid);

// RAII registration; a path is forgotten when its guard goes away.
class RemoveOnSignal {
public:
  explicit RemoveOnSignal(const std::string &path, bool isFolder = false);
  ~RemoveOnSignal();
  RemoveOnSignal(const RemoveOnSignal &) = delete;
  RemoveOnSignal &operator=(const RemoveOnSignal &) = delete;

private:
  int slot_;
};

} // namespace q3c

#endif
