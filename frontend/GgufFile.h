//===- GgufFile.h - a validated GGUF header and tensor table ----*- C++ -*-===//
//
// GGUF (v2 and v3, llama.cpp's model files): the metadata and the table of
// tensors, each checked against the file: every string and array inside
// it, every tensor's shape, type and byte range (aligned, within the data
// section, no two overlapping). A file that breaks any of these is an
// Error naming the file and, where one is at fault, the key or the tensor.
// The metadata keeps its strings, integers, floats and flat arrays of
// strings or integers (the tokenizer's); nested arrays and float arrays are
// checked and skipped.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_FRONTEND_GGUFFILE_H
#define QWEN3C_FRONTEND_GGUFFILE_H

#include "frontend/DType.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace q3c {

// ggml's element types that a GGUF tensor may have and their blocks: `block`
// elements in `bytes` bytes (llama.cpp's ggml_type_traits).
struct GgmlTypeInfo {
  uint32_t id;
  const char *name;
  int64_t block;
  int64_t bytes;
};
// nullptr for a type this reader does not know.
const GgmlTypeInfo *ggmlType(uint32_t id);

// The ggml types qwen3c reads as checkpoint tensors (F32, F16, BF16, Q8_0,
// Q4_0, Q4_K, Q6_K) and their ids; nullopt for the other ggml types.
std::optional<DType> dtypeOfGgmlType(uint32_t id);
uint32_t ggmlTypeOf(DType t);

struct GgufTensor {
  std::string name;
  const GgmlTypeInfo *type = nullptr;
  std::vector<int64_t> dims; // ggml order: dims[0] is the contiguous one
  uint64_t offset = 0;       // from the start of the file
  uint64_t bytes = 0;
};

struct GgufFile {
  std::string path;
  uint32_t version = 0;
  std::map<std::string, std::string> strings;
  std::map<std::string, int64_t> integers; // every integer type, and bools as 0 / 1
  std::map<std::string, double> floats;    // F32 and F64
  std::map<std::string, std::vector<std::string>> stringArrays;
  std::map<std::string, std::vector<int64_t>> integerArrays;
  std::vector<GgufTensor> tensors;          // in the file's order
  uint64_t alignment = 32;

  const GgufTensor *tensor(const std::string &name) const;
  std::optional<std::string> string(const std::string &key) const;
  bool has(const std::string &key) const;
};

// A GGUF file kept mapped: its parsed table and the bytes the tensors' offsets point into.
class MappedGguf {
public:
  static std::shared_ptr<const MappedGguf> open(const std::string &path);
  ~MappedGguf();
  MappedGguf(const MappedGguf &) = delete;
  MappedGguf &operator=(const MappedGguf &) = delete;

  const GgufFile &file() const { return file_; }
  const uint8_t *data(const GgufTensor &t) const { return base_ + t.offset; }

private:
  MappedGguf() = default;
  GgufFile file_;
  const uint8_t *base_ = nullptr;
  size_t size_ = 0;
};

// Parses `size` bytes (the whole file) named `path` in messages.
GgufFile parseGguf(const std::string &path, const uint8_t *data, size_t size);
// Maps the file and parses it.
GgufFile readGguf(const std::string &path);

} // namespace q3c

#endif
