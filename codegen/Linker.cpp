//===- Linker.cpp -----------------------------------------------------------===//
#include "codegen/Linker.h"
#include "frontend/Error.h"

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

void linkExecutable(const std::vector<std::string> &inputs, const std::string &output) {
  std::string driver = std::getenv("QWEN3C_LINKER") ? std::getenv("QWEN3C_LINKER") : "clang++-22";
  std::string tmp = output + ".tmp." + std::to_string(getpid());
  std::vector<std::string> args{driver, "-o", tmp};
  args.insert(args.end(), inputs.begin(), inputs.end());
  args.push_back(runtimeLibrary());
  args.push_back("-lm");
  std::vector<char *> argv;
  for (auto &a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  if (posix_spawnp(&pid, driver.c_str(), nullptr, nullptr, argv.data(), environ) != 0)
    fail("cannot run the linker '", driver, "' (set QWEN3C_LINKER)");
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::remove(tmp.c_str());
    fail("linking ", output, " failed (", driver, " exited with ",
         WIFEXITED(status) ? WEXITSTATUS(status) : -1, ")");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, output, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail(output, ": cannot write: ", ec.message());
  }
}

} // namespace q3c
