//===- TempDir.cpp - a scratch folder removed on every exit path -----------===//
#include "frontend/TempDir.h"
#include "frontend/Error.h"

#include <cstdlib>

namespace fs = std::filesystem;

namespace q3c {

TempDir::TempDir(const std::string &prefix) {
  std::string tmpl = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (!mkdtemp(tmpl.data())) fail("cannot create a temporary folder in ", fs::temp_directory_path().string());
  path_ = tmpl;
  onSignal_ = std::make_unique<RemoveOnSignal>(path_.string(), /*isFolder=*/true);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::file(const std::string &name) {
  std::string p = (path_ / name).string();
  files_.push_back(std::make_unique<RemoveOnSignal>(p));
  return p;
}

} // namespace q3c
