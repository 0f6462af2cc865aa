// libFuzzer target: the compiled binary's argument parser (NUL-separated args).
#include "runtime/Generate.h"

#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<std::string> args;
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += char(data[i]);
    }
  }
  args.push_back(cur);
  for (const auto &a : args)
    if (a == "-h" || a == "--help" || a == "-f" || a == "--file") return 0; // exit / file reads
  try {
    (void)qwen3c_rt::parseRunFlags(args, qwen3c_rt::RunOptions(), "fuzz");
  } catch (const qwen3c_rt::RunError &) {
  }
  return 0;
}
