// libFuzzer target: a safetensors header and data section from arbitrary bytes.
#include "frontend/Error.h"
#include "frontend/SafeTensors.h"

#include <cstdint>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  size_t split = data[0] * size / 256; // header | data
  try {
    auto tensors = q3c::parseSafeTensorsHeader("fuzz.safetensors", reinterpret_cast<const char *>(data + 1),
                                               split, data + 1 + split, size - 1 - split);
    for (const auto &[name, v] : tensors) // every accepted view must be readable
      if (v.nbytes) {
        volatile uint8_t sink = v.data[0] ^ v.data[v.nbytes - 1];
        (void)sink;
      }
  } catch (const q3c::Error &) {
  }
  return 0;
}
