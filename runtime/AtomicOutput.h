//===- AtomicOutput.h - a run's output file, whole or not at all -*- C++ -*-===//
//
// Writes to a temporary beside the path and renames it over the path on
// commit(); a failed write or an exception before commit() removes the
// temporary, so a compiled model never leaves a half-written dump or
// profile. (The compiler's twin, frontend/AtomicFile.h, also registers the
// temporary for removal on a signal; the runtime does not link it.)
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_ATOMICOUTPUT_H
#define QWEN3C_RUNTIME_ATOMICOUTPUT_H

#include "runtime/Generate.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>

namespace qwen3c_rt {

class AtomicOutput {
public:
  explicit AtomicOutput(const std::string &path) : path(path), tmp(path + ".tmp." + std::to_string(getpid())) {
    f = std::fopen(tmp.c_str(), "wb");
    if (!f) failRun(path, ": cannot write: ", std::strerror(errno));
  }
  ~AtomicOutput() {
    if (f) {
      std::fclose(f);
      std::remove(tmp.c_str());
    }
  }
  AtomicOutput(const AtomicOutput &) = delete;
  AtomicOutput &operator=(const AtomicOutput &) = delete;
  void write(const void *data, size_t bytes) {
    if (std::fwrite(data, 1, bytes, f) != bytes) failRun(path, ": write failed: ", std::strerror(errno));
  }
  void write(const std::string &s) { write(s.data(), s.size()); }
  void commit() {
    int rc = std::fclose(f);
    f = nullptr;
    if (rc != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
      std::remove(tmp.c_str());
      failRun(path, ": write failed: ", std::strerror(errno));
    }
  }

private:
  std::string path, tmp;
  FILE *f = nullptr;
};

} // namespace qwen3c_rt

#endif
