//===- Linker.cpp -----------------------------------------------------------===//
#include "codegen/Linker.h"
#include "frontend/PhaseHook.h"
#include "frontend/SignalCleanup.h"
#include "frontend/Error.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace q3c {

std::string runtimeLibrary() {
  if (const char *env = std::getenv("QWEN3C_RUNTIME_LIB")) return env;
  return QWEN3C_RUNTIME_LIB;
}

void linkExecutable(const std::vector<std::string> &inputs, const std::vector<EmbeddedBlob> &blobs,
                    const std::string &output) {
  std::string driver = std::getenv("QWEN3C_LINKER") ? std::getenv("QWEN3C_LINKER") : "clang++-22";
  std::string absOutput = std::filesystem::absolute(output).string();
  std::string tmp = absOutput + ".tmp." + std::to_string(getpid());
  RemoveOnSignal tmpOnSignal(tmp);
  std::vector<std::string> args{driver, "-o", tmp};
  args.insert(args.end(), inputs.begin(), inputs.end());
  // ld names binary inputs' symbols after their paths; the link runs in the
  // blobs' folder so the names are fixed, then aliases them.
  for (const auto &blob : blobs) {
    std::string name = std::filesystem::path(blob.path).filename().string();
    std::string mangled = "_binary_";
    for (char ch : name) mangled += std::isalnum((unsigned char)ch) ? ch : '_';
    args.push_back("-Wl,--defsym=" + blob.symbol + "=" + mangled + "_start");
    args.push_back("-Wl,--defsym=" + blob.symbol + "_end=" + mangled + "_end");
    args.push_back("-Wl,--format=binary");
    args.push_back("-Wl," + name);
    args.push_back("-Wl,--format=default");
  }
  if (!blobs.empty()) args.push_back("-Wl,-z,noexecstack"); // raw input carries no GNU-stack note
  args.push_back(runtimeLibrary());
  std::string deps = std::getenv("QWEN3C_RUNTIME_DEPS") ? std::getenv("QWEN3C_RUNTIME_DEPS") : QWEN3C_RUNTIME_DEPS;
  for (size_t start = 0; start < deps.size();) {
    size_t end = deps.find('|', start);
    if (end == std::string::npos) end = deps.size();
    if (end > start) args.push_back(deps.substr(start, end - start));
    start = end + 1;
  }
  args.push_back("-lm");
  std::vector<char *> argv;
  for (auto &a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Output and inputs as absolute paths: the linker runs in the blob's folder.
  std::string cwd = blobs.empty() ? std::string(".")
                                  : std::filesystem::path(blobs[0].path).parent_path().string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  pid_t pid;
  int rc = posix_spawnp(&pid, driver.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) fail("cannot run the linker '", driver, "' (set QWEN3C_LINKER)");
  setChildToStop(pid);
  phaseReached("link");
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  setChildToStop(0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::remove(tmp.c_str());
    fail("linking ", output, " failed (", driver, " exited with ",
         WIFEXITED(status) ? WEXITSTATUS(status) : -1, ")");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, absOutput, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail(output, ": cannot write: ", ec.message());
  }
}

} // namespace q3c
