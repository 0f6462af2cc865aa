//===- TempDir.h - a scratch folder removed on every exit path ---*- C++ -*-===//
//
// mkdtemp under the system's temporary folder; the folder and the files
// named through file() are removed by the destructor and, on a signal, by
// SignalCleanup's handler, so an interrupted build or `explain --measure`
// leaves no scratch behind.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_FRONTEND_TEMPDIR_H
#define QWEN3C_FRONTEND_TEMPDIR_H

#include "frontend/SignalCleanup.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace q3c {

class TempDir {
public:
  // A new folder PREFIX-XXXXXX; fails with a message naming the parent.
  explicit TempDir(const std::string &prefix);
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  // The path of `name` inside, registered for removal on a signal.
  std::string file(const std::string &name);
  const std::filesystem::path &path() const { return path_; }

private:
  std::filesystem::path path_;
  std::unique_ptr<RemoveOnSignal> onSignal_;
  std::vector<std::unique_ptr<RemoveOnSignal>> files_;
};

} // namespace q3c

#endif
