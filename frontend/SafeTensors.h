//===- SafeTensors.h - memory-mapped, validated safetensors files -*- C++ -*-===//
#ifndef QWEN3C_FRONTEND_SAFETENSORS_H
#define QWEN3C_FRONTEND_SAFETENSORS_H

#include "frontend/DType.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace q3c {

struct TensorView {
  std::string name;
  std::string file; // for error messages
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr;
  size_t nbytes = 0;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  std::vector<float> toF32() const;
};

// One .safetensors file, mapped read-only. Opening it validates the whole
// header against the file: sizes, offsets in range, no overlap, byte counts.
class SafeTensorsFile {
public:
  static std::unique_ptr<SafeTensorsFile> open(const std::string &path);
  ~SafeTensorsFile();
  SafeTensorsFile(const SafeTensorsFile &) = delete;
  SafeTensorsFile &operator=(const SafeTensorsFile &) = delete;

  const std::string &path() const { return path_; }
  const std::map<std::string, TensorView> &tensors() const { return tensors_; }

private:
  SafeTensorsFile() = default;
  std::string path_;
  void *map_ = nullptr;
  size_t size_ = 0;
  std::map<std::string, TensorView> tensors_;
};

// Parses and validates a header (the JSON after the 8-byte length) for a data
// section of dataSize bytes starting at `data`. Exposed for the fuzzers.
std::map<std::string, TensorView> parseSafeTensorsHeader(const std::string &file,
                                                         const char *header,
                                                         size_t headerSize,
                                                         const uint8_t *data,
                                                         size_t dataSize);

// Writes a safetensors file atomically (a temporary renamed into place),
// streaming: fill(i, bytes) produces tensor i's data when its turn comes, so a
// multi-gigabyte checkpoint never sits in memory whole.
struct TensorHeader {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  size_t nbytes() const;
};
void writeSafeTensors(const std::string &path, const std::vector<TensorHeader> &tensors,
                      const std::function<void(size_t, std::vector<uint8_t> &)> &fill);

} // namespace q3c

#endif
