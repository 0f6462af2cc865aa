//===- SafeTensors.cpp - safetensors reading, validation and writing --------===//
#include "frontend/SafeTensors.h"
#include "frontend/Error.h"
#include "frontend/TensorInventory.h"
#include "frontend/AtomicFile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace q3c {

std::vector<float> TensorView::toF32() const {
  std::vector<float> out(static_cast<size_t>(numel()));
  q3c::toF32(dtype, data, out.data(), out.size());
  return out;
}

std::map<std::string, TensorView> parseSafeTensorsHeader(const std::string &file,
                                                         const char *header,
                                                         size_t headerSize,
                                                         const uint8_t *data,
                                                         size_t dataSize) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header, header + headerSize);
  } catch (const nlohmann::json::exception &e) {
    fail(file, ": malformed safetensors header: ", e.what());
  }
  if (!j.is_object()) fail(file, ": safetensors header is not a JSON object");

  std::map<std::string, TensorView> out;
  struct Range { size_t begin, end; const std::string *name; };
  std::vector<Range> ranges;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string &name = it.key();
    if (name == "__metadata__") continue;
    const auto &e = it.value();
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") ||
        !e.contains("data_offsets"))
      fail(file, ": tensor '", name, "': header entry needs dtype, shape and data_offsets");
    if (!e["dtype"].is_string()) fail(file, ": tensor '", name, "': dtype is not a string");
    std::string dt = e["dtype"].get<std::string>();
    auto dtype = parseSafetensorsDType(dt);
    if (!dtype)
      fail(file, ": tensor '", name, "': unsupported dtype '", dt, "' (F32, BF16, F16)");
    TensorView v;
    v.name = name;
    v.file = file;
    v.dtype = *dtype;
    if (!e["shape"].is_array()) fail(file, ": tensor '", name, "': shape is not a list");
    // Element count with overflow checks: a lying header must not wrap around.
    unsigned __int128 numel = 1;
    for (const auto &d : e["shape"]) {
      if (!d.is_number_unsigned()) fail(file, ": tensor '", name, "': bad dimension ", d.dump());
      uint64_t dim = d.get<uint64_t>();
      if (dim > (uint64_t(1) << 40)) fail(file, ": tensor '", name, "': dimension ", dim, " is absurd");
      v.shape.push_back(int64_t(dim));
      numel *= dim;
      if (numel > (unsigned __int128)(uint64_t(1) << 50))
        fail(file, ": tensor '", name, "': too many elements");
    }
    const auto &off = e["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
        !off[1].is_number_unsigned())
      fail(file, ": tensor '", name, "': data_offsets must be [begin, end]");
    uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end) fail(file, ": tensor '", name, "': data_offsets [", begin, ", ", end, "] are reversed");
    if (end > dataSize)
      fail(file, ": tensor '", name, "': data_offsets [", begin, ", ", end,
           "] run past the end of the data (", dataSize, " bytes; file truncated?)");
    uint64_t expected = uint64_t(numel) * dtypeSize(v.dtype);
    if (end - begin != expected)
      fail(file, ": tensor '", name, "': ", end - begin, " bytes for ", dt, " ",
           shapeString(v.shape), ", expected ", expected);
    v.data = data + begin;
    v.nbytes = size_t(end - begin);
    auto [pos, inserted] = out.emplace(name, std::move(v));
    ranges.push_back({size_t(begin), size_t(end), &pos->first});
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const Range &a, const Range &b) { return a.begin < b.begin; });
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].begin < ranges[i - 1].end)
      fail(file, ": tensors '", *ranges[i - 1].name, "' and '", *ranges[i].name,
           "' overlap in the data section");
  return out;
}

std::unique_ptr<SafeTensorsFile> SafeTensorsFile::open(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, ": cannot open: ", std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, ": not a regular file");
  }
  std::unique_ptr<SafeTensorsFile> f(new SafeTensorsFile());
  f->path_ = path;
  f->size_ = size_t(st.st_size);
  if (f->size_ < 8) {
    ::close(fd);
    fail(path, ": truncated: ", f->size_, " bytes, too short for a safetensors header");
  }
  f->map_ = mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (f->map_ == MAP_FAILED) {
    f->map_ = nullptr;
    fail(path, ": mmap failed: ", std::strerror(errno));
  }
  const uint8_t *base = static_cast<const uint8_t *>(f->map_);
  uint64_t headerLen;
  std::memcpy(&headerLen, base, 8); // little-endian on every target we support
  if (headerLen > f->size_ - 8)
    fail(path, ": header length ", headerLen, " runs past the end of the file (",
         f->size_, " bytes)");
  f->tensors_ = parseSafeTensorsHeader(path, reinterpret_cast<const char *>(base + 8),
                                       size_t(headerLen), base + 8 + headerLen,
                                       f->size_ - 8 - size_t(headerLen));
  return f;
}

SafeTensorsFile::~SafeTensorsFile() {
  if (map_) munmap(map_, size_);
}

size_t TensorHeader::nbytes() const {
  size_t n = dtypeSize(dtype);
  for (int64_t d : shape) n *= size_t(d);
  return n;
}

void writeSafeTensors(const std::string &path, const std::vector<TensorHeader> &tensors,
                      const std::function<void(size_t, std::vector<uint8_t> &)> &fill) {
  nlohmann::json header = nlohmann::json::object();
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const auto &t : tensors) {
    header[t.name] = {{"dtype", dtypeName(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' '); // keep the data 8-byte aligned
  AtomicFile out(path);
  uint64_t len = h.size();
  out.write(&len, 8);
  out.write(h.data(), h.size());
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < tensors.size(); ++i) {
    bytes.clear();
    fill(i, bytes);
    if (bytes.size() != tensors[i].nbytes())
      fail(path, ": internal error: tensor '", tensors[i].name, "' produced ", bytes.size(),
           " bytes, expected ", tensors[i].nbytes());
    out.write(bytes.data(), bytes.size());
  }
  out.commit();
}

} // namespace q3c
