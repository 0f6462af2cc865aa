//===- AtomicFile.h - write to a temporary, rename on success ---*- C++ -*-===//
//
// Every output qwen3c writes goes through this: a failure (or an exception)
// before commit() removes the temporary, so no half-written file is left.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_FRONTEND_ATOMICFILE_H
#define QWEN3C_FRONTEND_ATOMICFILE_H

#include "frontend/SignalCleanup.h"

#include <cstddef>
#include <memory>
#include <string>

namespace q3c {

class AtomicFile {
public:
  explicit AtomicFile(std::string path);
  ~AtomicFile(); // removes the temporary unless committed
  AtomicFile(const AtomicFile &) = delete;
  AtomicFile &operator=(const AtomicFile &) = delete;

  void write(const void *data, size_t n);
  void write(const std::string &s) { write(s.data(), s.size()); }
  void writeAt(size_t offset, const void *data, size_t n); // overwrite earlier bytes
  void commit(); // fsync-free flush, close, rename over `path`

private:
  std::string path_, tmp_;
  int fd_ = -1;
  std::unique_ptr<RemoveOnSignal> onSignal_;
};

// Whole-file convenience.
void writeFileAtomically(const std::string &path, const std::string &contents);

} // namespace q3c

#endif
