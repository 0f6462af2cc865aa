//===- WeightsFile.h - the sidecar weight file format ------------*- C++ -*-===//
//
// `qwen3c build --weights sidecar` writes EXE.weights: a 4 KiB header, then
// the weight blob exactly as it would be embedded. The executable knows the
// blob's size, checksum and model id and refuses a file that disagrees.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_WEIGHTSFILE_H
#define QWEN3C_RUNTIME_WEIGHTSFILE_H

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace qwen3c_abi {

struct WeightsHeader {
  char magic[8];       // "QWEN3CW" + format version byte
  uint64_t blobBytes;
  uint64_t checksum;   // Checksum of the blob
  uint64_t modelId;    // identifies the model and build the blob belongs to
};
constexpr size_t kWeightsHeaderBytes = 4096; // the blob starts page aligned
constexpr char kWeightsMagic[8] = {'Q', 'W', 'E', 'N', '3', 'C', 'W', 1};

// FNV-1a over the bytes, fed in pieces of any size.
class Checksum {
public:
  void add(const void *data, size_t n) {
    const auto *p = static_cast<const uint8_t *>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
  uint64_t value() const { return h; }

private:
  uint64_t h = 1469598103934665603ull;
};

} // namespace qwen3c_abi

#endif
