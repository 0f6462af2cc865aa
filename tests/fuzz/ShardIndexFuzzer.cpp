// libFuzzer target: model.safetensors.index.json from arbitrary bytes. Either
// a clear q3c::Error or an index whose file names are safe plain names.
#include "frontend/Checkpoint.h"
#include "frontend/Error.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  try {
    q3c::ShardIndex index = q3c::parseShardIndex("fuzz/model.safetensors.index.json", text);
    for (const auto &f : index.files) // never a path out of the checkpoint folder
      if (f.empty() || f == "." || f == ".." || f.find('/') != std::string::npos) std::abort();
    for (const auto &[tensor, f] : index.tensorToFile)
      if (f.empty()) std::abort();
  } catch (const q3c::Error &) {
  }
  return 0;
}
