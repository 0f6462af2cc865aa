//===- GgufFile.cpp ---------------------------------------------------------===//
#include "frontend/GgufFile.h"
#include "frontend/Error.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace q3c {
namespace {

// ggml.c's type traits for the types llama.cpp writes Qwen3 files in.
constexpr GgmlTypeInfo kTypes[] = {
    {0, "F32", 1, 4},        {1, "F16", 1, 2},        {2, "Q4_0", 32, 18},  {3, "Q4_1", 32, 20},
    {6, "Q5_0", 32, 22},     {7, "Q5_1", 32, 24},     {8, "Q8_0", 32, 34},  {9, "Q8_1", 32, 36},
    {10, "Q2_K", 256, 84},   {11, "Q3_K", 256, 110},  {12, "Q4_K", 256, 144}, {13, "Q5_K", 256, 176},
    {14, "Q6_K", 256, 210},  {15, "Q8_K", 256, 292},  {30, "BF16", 1, 2},
};

// GGUF metadata value types.
enum ValueType : uint32_t {
  U8 = 0, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64,
};

int64_t scalarSize(uint32_t t) {
  switch (t) {
  case U8: case I8: case BOOL: return 1;
  case U16: case I16: return 2;
  case U32: case I32: case F32: return 4;
  case U64: case I64: case F64: return 8;
  default: return 0;
  }
}

// Reads forward through the file; every read is checked against its end.
struct Cursor {
  const std::string &path;
  const uint8_t *data;
  size_t size, pos = 0;

  size_t left() const { return size - pos; }
  void need(size_t n, const std::string &what) const {
    if (n > left()) fail(path, ": truncated GGUF file (", what, " at byte ", pos, " needs ", n, " bytes, ", left(), " left)");
  }
  template <typename T> T read(const std::string &what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  std::string string(const std::string &what) {
    uint64_t n = read<uint64_t>(what + " length");
    need(n, what);
    std::string s(reinterpret_cast<const char *>(data + pos), size_t(n));
    pos += size_t(n);
    return s;
  }
};

int64_t integerAt(const uint8_t *p, uint32_t t) {
  int64_t v = 0;
  switch (t) {
  case U8: v = *p; break;
  case I8: v = int8_t(*p); break;
  case BOOL: v = *p != 0; break;
  case U16: { uint16_t x; std::memcpy(&x, p, 2); v = x; break; }
  case I16: { int16_t x; std::memcpy(&x, p, 2); v = x; break; }
  case U32: { uint32_t x; std::memcpy(&x, p, 4); v = x; break; }
  case I32: { int32_t x; std::memcpy(&x, p, 4); v = x; break; }
  case U64: { uint64_t x; std::memcpy(&x, p, 8); v = int64_t(std::min<uint64_t>(x, uint64_t(INT64_MAX))); break; }
  case I64: std::memcpy(&v, p, 8); break;
  default: break;
  }
  return v;
}

// One metadata value of type `t`: kept when a string, a number or a flat
// array of strings or integers; checked and skipped otherwise.
void readValue(Cursor &c, GgufFile &f, const std::string &key, uint32_t t, int depth) {
  if (t == STRING) {
    f.strings[key] = c.string("the value of '" + key + "'");
    return;
  }
  if (t == ARRAY) {
    if (depth > 2) fail(c.path, ": metadata '", key, "': arrays nested too deep");
    uint32_t et = c.read<uint32_t>("the element type of '" + key + "'");
    uint64_t n = c.read<uint64_t>("the length of '" + key + "'");
    if (et != STRING && et != ARRAY && scalarSize(et) == 0)
      fail(c.path, ": metadata '", key, "': unknown array element type ", et);
    // Each element takes at least a byte (a string its 8-byte length), so a
    // count larger than what is left is a lie, not a long loop.
    int64_t least = et == STRING || et == ARRAY ? 8 : scalarSize(et);
    if (n > c.left() / uint64_t(least)) fail(c.path, ": metadata '", key, "': ", n, " elements exceed the file");
    const bool keep = depth == 0;
    if (et == STRING) {
      std::vector<std::string> values;
      for (uint64_t i = 0; i < n; ++i) {
        std::string s = c.string("element " + std::to_string(i) + " of '" + key + "'");
        if (keep) values.push_back(std::move(s));
      }
      if (keep) f.stringArrays[key] = std::move(values);
    } else if (et == ARRAY) {
      for (uint64_t i = 0; i < n; ++i) readValue(c, f, key, ARRAY, depth + 1);
    } else {
      if (keep && et != F32 && et != F64) {
        std::vector<int64_t> values(static_cast<size_t>(n));
        for (uint64_t i = 0; i < n; ++i) values[size_t(i)] = integerAt(c.data + c.pos + size_t(i) * size_t(least), et);
        f.integerArrays[key] = std::move(values);
      }
      c.pos += size_t(n) * size_t(least);
    }
    return;
  }
  int64_t bytes = scalarSize(t);
  if (bytes == 0) fail(c.path, ": metadata '", key, "': unknown value type ", t);
  c.need(size_t(bytes), "the value of '" + key + "'");
  const uint8_t *p = c.data + c.pos;
  c.pos += size_t(bytes);
  if (t == F32) {
    float x;
    std::memcpy(&x, p, 4);
    f.floats[key] = x;
  } else if (t == F64) {
    std::memcpy(&f.floats[key], p, 8);
  } else {
    f.integers[key] = integerAt(p, t);
  }
}

} // namespace

const GgmlTypeInfo *ggmlType(uint32_t id) {
  for (const auto &t : kTypes)
    if (t.id == id) return &t;
  return nullptr;
}

namespace {
// ggml_type ids of the DTypes, in DType's order.
constexpr std::pair<DType, uint32_t> kDTypeIds[] = {
    {DType::F32, 0}, {DType::BF16, 30}, {DType::F16, 1}, {DType::Q8_0, 8}, {DType::Q4_0, 2}, {DType::Q4_K, 12}, {DType::Q6_K, 14},
};
} // namespace

std::optional<DType> dtypeOfGgmlType(uint32_t id) {
  for (const auto &[t, i] : kDTypeIds)
    if (i == id) return t;
  return std::nullopt;
}

uint32_t ggmlTypeOf(DType t) {
  for (const auto &[d, i] : kDTypeIds)
    if (d == t) return i;
  fail("internal error: no ggml type for ", dtypeName(t));
}

const GgufTensor *GgufFile::tensor(const std::string &name) const {
  for (const auto &t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::optional<std::string> GgufFile::string(const std::string &key) const {
  auto it = strings.find(key);
  if (it == strings.end()) return std::nullopt;
  return it->second;
}

bool GgufFile::has(const std::string &key) const {
  return strings.count(key) || integers.count(key) || floats.count(key) || stringArrays.count(key) ||
         integerArrays.count(key);
}

GgufFile parseGguf(const std::string &path, const uint8_t *data, size_t size) {
  Cursor c{path, data, size};
  GgufFile f;
  f.path = path;
  c.need(4, "the magic");
  if (std::memcmp(data, "GGUF", 4) != 0) fail(path, ": not a GGUF file (no 'GGUF' magic)");
  c.pos = 4;
  f.version = c.read<uint32_t>("the version");
  if (f.version != 2 && f.version != 3) fail(path, ": GGUF version ", f.version, " (this reader knows 2 and 3)");
  uint64_t tensorCount = c.read<uint64_t>("the tensor count"), kvCount = c.read<uint64_t>("the metadata count");
  // A key-value pair takes at least 13 bytes, a tensor entry 24.
  if (kvCount > c.left() / 13) fail(path, ": ", kvCount, " metadata entries exceed the file");
  for (uint64_t i = 0; i < kvCount; ++i) {
    std::string key = c.string("metadata key " + std::to_string(i));
    if (f.has(key)) fail(path, ": metadata '", key, "' appears twice");
    readValue(c, f, key, c.read<uint32_t>("the type of '" + key + "'"), 0);
  }
  if (auto it = f.integers.find("general.alignment"); it != f.integers.end()) {
    int64_t a = it->second;
    if (a <= 0 || (a & (a - 1)) != 0 || a > 65536) fail(path, ": general.alignment ", a, " is not a power of two up to 64 KiB");
    f.alignment = uint64_t(a);
  }
  if (tensorCount > c.left() / 24) fail(path, ": ", tensorCount, " tensors exceed the file");
  for (uint64_t i = 0; i < tensorCount; ++i) {
    GgufTensor t;
    t.name = c.string("tensor name " + std::to_string(i));
    uint32_t nDims = c.read<uint32_t>("the rank of tensor '" + t.name + "'");
    if (nDims < 1 || nDims > 4) fail(path, ": tensor '", t.name, "' has rank ", nDims, " (1 to 4)");
    uint64_t numel = 1;
    for (uint32_t d = 0; d < nDims; ++d) {
      uint64_t n = c.read<uint64_t>("a dimension of tensor '" + t.name + "'");
      if (n == 0 || n > (uint64_t(1) << 40) || numel > (uint64_t(1) << 50) / n)
        fail(path, ": tensor '", t.name, "' has dimension ", d, " of ", n, " elements (empty, or too large)");
      numel *= n;
      t.dims.push_back(int64_t(n));
    }
    uint32_t type = c.read<uint32_t>("the type of tensor '" + t.name + "'");
    t.type = ggmlType(type);
    if (!t.type) fail(path, ": tensor '", t.name, "' has ggml type ", type, ", which this reader does not know");
    if (t.dims[0] % t.type->block != 0)
      fail(path, ": tensor '", t.name, "' of type ", t.type->name, " has rows of ", t.dims[0], " elements, not whole blocks of ",
           t.type->block);
    t.bytes = numel / uint64_t(t.type->block) * uint64_t(t.type->bytes);
    t.offset = c.read<uint64_t>("the offset of tensor '" + t.name + "'");
    if (t.offset % f.alignment != 0) fail(path, ": tensor '", t.name, "' at offset ", t.offset, " is not aligned to ", f.alignment);
    if (f.tensor(t.name)) fail(path, ": tensor '", t.name, "' appears twice");
    f.tensors.push_back(std::move(t));
  }
  uint64_t dataStart = (uint64_t(c.pos) + f.alignment - 1) / f.alignment * f.alignment;
  if (dataStart > size) fail(path, ": truncated GGUF file (the data section starts past its end)");
  std::vector<const GgufTensor *> byOffset;
  for (auto &t : f.tensors) {
    if (t.offset > size - dataStart || t.bytes > size - dataStart - t.offset)
      fail(path, ": tensor '", t.name, "' (", t.bytes, " bytes at data offset ", t.offset, ") lies past the end of the file");
    t.offset += dataStart;
    byOffset.push_back(&t);
  }
  std::sort(byOffset.begin(), byOffset.end(), [](auto *a, auto *b) { return a->offset < b->offset; });
  for (size_t i = 1; i < byOffset.size(); ++i)
    if (byOffset[i - 1]->offset + byOffset[i - 1]->bytes > byOffset[i]->offset)
      fail(path, ": tensors '", byOffset[i - 1]->name, "' and '", byOffset[i]->name, "' overlap");
  return f;
}

std::shared_ptr<const MappedGguf> MappedGguf::open(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, ": cannot open: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size <= 0) {
    ::close(fd);
    fail(path, ": empty or unreadable file");
  }
  size_t size = size_t(st.st_size);
  void *map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) fail(path, ": cannot map: ", std::strerror(errno));
  std::shared_ptr<MappedGguf> m(new MappedGguf);
  m->base_ = static_cast<const uint8_t *>(map);
  m->size_ = size;
  m->file_ = parseGguf(path, m->base_, size); // on failure the destructor unmaps
  return m;
}

MappedGguf::~MappedGguf() {
  if (base_) ::munmap(const_cast<uint8_t *>(base_), size_);
}

GgufFile readGguf(const std::string &path) { return MappedGguf::open(path)->file(); }

} // namespace q3c
