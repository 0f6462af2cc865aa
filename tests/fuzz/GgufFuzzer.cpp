// libFuzzer target: a GGUF file (header, metadata, tensor table, data) from arbitrary bytes.
#include "frontend/Error.h"
#include "frontend/GgufFile.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    q3c::GgufFile f = q3c::parseGguf("fuzz.gguf", data, size);
    for (const auto &t : f.tensors) // every accepted tensor must lie inside the input
      if (t.bytes) {
        volatile uint8_t sink = data[t.offset] ^ data[t.offset + t.bytes - 1];
        (void)sink;
      }
  } catch (const q3c::Error &) {
  }
  return 0;
}
