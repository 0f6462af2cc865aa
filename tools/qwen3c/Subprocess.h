//===- Subprocess.h - run a program, capture its output ----------*- C++ -*-===//
#ifndef QWEN3C_TOOLS_SUBPROCESS_H
#define QWEN3C_TOOLS_SUBPROCESS_H

#include <string>
#include <vector>

namespace q3c {

struct ProcessResult {
  int status = -1; // exit status; 128 + signal when killed; -1 if it did not start
  std::string out, err;
  // The last non-empty line of stderr: what a failing tool said.
  std::string lastErrorLine() const;
};

// Runs argv[0] (searched in PATH) with stdin from /dev/null; both streams
// captured.
ProcessResult runProcess(const std::vector<std::string> &argv);

// The running qwen3c executable, to run its own subcommands as children.
std::string selfExecutable();

} // namespace q3c

#endif
