//===- WeightPacker.cpp -----------------------------------------------------===//
#include "codegen/WeightPacker.h"
#include "frontend/AtomicFile.h"
#include "frontend/Error.h"
#include "frontend/TensorInventory.h"
#include "runtime/WeightsFile.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace q3c {
namespace {

DType dtypeOf(mlir::Type t) {
  if (t.isF32()) return DType::F32;
  if (t.isBF16()) return DType::BF16;
  if (t.isF16()) return DType::F16;
  fail("the weight packer cannot write element type ", "(integer weights are not supported yet)");
}

// Appends `v` converted from its checkpoint dtype to `to`.
void appendConverted(const TensorView &v, DType to, std::vector<uint8_t> &out) {
  size_t n = size_t(v.numel());
  size_t start = out.size();
  out.resize(start + n * dtypeSize(to));
  if (v.dtype == to) {
    std::memcpy(out.data() + start, v.data, v.nbytes);
    return;
  }
  std::vector<float> f(n);
  toF32(v.dtype, v.data, f.data(), n);
  if (to == DType::F32) {
    std::memcpy(out.data() + start, f.data(), n * 4);
    return;
  }
  uint16_t *h = reinterpret_cast<uint16_t *>(out.data() + start);
  for (size_t i = 0; i < n; ++i) h[i] = to == DType::BF16 ? f32ToBf16(f[i]) : f32ToF16(f[i]);
}

// Row-major [N, K] -> Wp[n / 16][k][n % 16] (k16), or with `pairs`
// Wp[n / 16][k / 2][n % 16][k % 2] (K even: each output's consecutive k in
// pairs, as vdpbf16ps reads them), in place.
void toK16(uint8_t *data, int64_t N, int64_t K, size_t elem, bool pairs = false) {
  std::vector<uint8_t> src(data, data + size_t(N * K) * elem);
  for (int64_t nb = 0; nb < N / 16; ++nb)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t r = 0; r < 16; ++r) {
        int64_t at = pairs ? ((nb * (K / 2) + k / 2) * 16 + r) * 2 + k % 2 : (nb * K + k) * 16 + r;
        std::memcpy(data + size_t(at) * elem, src.data() + size_t((nb * 16 + r) * K + k) * elem, elem);
      }
}

// [gate; up] rows -> gate block j, up block j, ... (16-row blocks), in place.
void interleaveGateUp(uint8_t *data, int64_t N, int64_t K, size_t elem) {
  std::vector<uint8_t> src(data, data + size_t(N * K) * elem);
  size_t block = size_t(16 * K) * elem;
  int64_t half = N / 2 / 16;
  for (int64_t j = 0; j < half; ++j) {
    std::memcpy(data + size_t(2 * j) * block, src.data() + size_t(j) * block, block);
    std::memcpy(data + size_t(2 * j + 1) * block, src.data() + size_t(half + j) * block, block);
  }
}

// [N, K] f32 rows quantised group by group: rule(x, q) writes a group's
// kQ8Group values (one byte each) and returns its scale d, stored as f16.
template <typename Rule>
std::pair<std::vector<uint8_t>, std::vector<uint16_t>> quantiseGroups(const float *w, int64_t N, int64_t K, Rule rule) {
  const int64_t G = K / q3::kQ8Group;
  std::vector<uint8_t> q(size_t(N * K));
  std::vector<uint16_t> d(size_t(N * G));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < G; ++g)
      d[size_t(n * G + g)] = f32ToF16(rule(w + n * K + g * q3::kQ8Group, q.data() + n * K + g * q3::kQ8Group));
  return {std::move(q), std::move(d)};
}

// Replaces bytes[start..] by `values`, then the [N, K / 32] scales in k16 blocks.
void storeQuantised(std::vector<uint8_t> &bytes, size_t start, const std::vector<uint8_t> &values,
                    std::vector<uint16_t> d, int64_t N, int64_t K) {
  toK16(reinterpret_cast<uint8_t *>(d.data()), N, K / q3::kQ8Group, 2);
  bytes.resize(start);
  bytes.insert(bytes.end(), values.begin(), values.end());
  const uint8_t *dBytes = reinterpret_cast<const uint8_t *>(d.data());
  bytes.insert(bytes.end(), dBytes, dBytes + d.size() * 2);
}

// bytes[start..] holds an [N, K] f32 matrix; replaces it by its k16_q8 form:
// per output n and group of 32 k, d = amax / 127 and q = roundf(w / d) as
// llama.cpp's quantize_row_q8_0 computes them (the f32 reciprocal of d, an
// f16 d stored), the int8 values in k16 blocks, then the scales likewise.
void quantiseQ8(std::vector<uint8_t> &bytes, size_t start, int64_t N, int64_t K) {
  auto [q, d] = quantiseGroups(reinterpret_cast<const float *>(bytes.data() + start), N, K, [](const float *x, uint8_t *q) {
    float amax = 0;
    for (int64_t j = 0; j < q3::kQ8Group; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float scale = amax / 127.0f, inverse = scale != 0 ? 1.0f / scale : 0.0f;
    for (int64_t j = 0; j < q3::kQ8Group; ++j)
      q[j] = uint8_t(int8_t(std::clamp(std::round(x[j] * inverse), -127.0f, 127.0f)));
    return scale;
  });
  toK16(q.data(), N, K, 1);
  storeQuantised(bytes, start, q, std::move(d), N, K);
}

// The same for k16_q4: per output n and group of 32 k, llama.cpp's
// quantize_row_q4_0 (max the signed value of largest magnitude, the first
// of equals; d = max / -8; q = min(15, (int8_t)(w * (1 / d) + 8.5f)), an f16
// d stored), the values as nibbles Wq[n / 16][k / 2][n % 16] (k even in the
// low nibble), then the scales in k16 blocks.
void quantiseQ4(std::vector<uint8_t> &bytes, size_t start, int64_t N, int64_t K) {
  auto [q, d] = quantiseGroups(reinterpret_cast<const float *>(bytes.data() + start), N, K, [](const float *x, uint8_t *q) {
    float amax = 0, max = 0;
    for (int64_t j = 0; j < q3::kQ8Group; ++j)
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    const float scale = max / -8.0f, inverse = scale != 0 ? 1.0f / scale : 0.0f;
    for (int64_t j = 0; j < q3::kQ8Group; ++j) {
      // Two statements: a product rounded to f32, then the sum (one
      // expression could contract into an FMA, which rounds once).
      const float scaled = x[j] * inverse;
      q[j] = uint8_t(std::min<int>(15, int8_t(scaled + 8.5f)));
    }
    return scale;
  });
  std::vector<uint8_t> packed(size_t(N * K / 2));
  for (int64_t nb = 0; nb < N / 16; ++nb)
    for (int64_t p = 0; p < K / 2; ++p)
      for (int64_t r = 0; r < 16; ++r) {
        const uint8_t *row = q.data() + (nb * 16 + r) * K;
        packed[size_t((nb * (K / 2) + p) * 16 + r)] = uint8_t(row[2 * p] | row[2 * p + 1] << 4);
      }
  storeQuantised(bytes, start, packed, std::move(d), N, K);
}

} // namespace

uint64_t packWeights(const Checkpoint &ck, const q3::WeightPlan &plan, AtomicFile &out) {
  // Instances in offset order, so the file is written front to back.
  struct Instance { int64_t offset; const q3::WeightSlot *slot; int64_t layer; };
  std::vector<Instance> order;
  for (const auto &s : plan.slots)
    for (size_t l = 0; l < s.offsets.size(); ++l)
      if (s.offsets[l] >= 0) order.push_back({s.offsets[l], &s, s.perLayer ? int64_t(l) : -1});
  std::sort(order.begin(), order.end(), [](const Instance &a, const Instance &b) { return a.offset < b.offset; });

  qwen3c_abi::Checksum fnv;
  int64_t written = 0;
  std::vector<uint8_t> bytes;
  for (const Instance &inst : order) {
    bytes.assign(size_t(inst.offset - written), 0); // alignment padding
    DType to = dtypeOf(inst.slot->type.getElementType());
    std::string name = expandName(inst.slot->pattern, inst.layer);
    auto shape = inst.slot->type.getShape();
    if (name.find("{expert}") != std::string::npos) {
      for (int64_t e = 0; e < shape[0]; ++e) {
        const TensorView &v = ck.tensor(expandName(name, -1, e));
        if (v.numel() * shape[0] != inst.slot->type.getNumElements())
          fail(v.file, ": tensor '", v.name, "' does not fit the compiled shape");
        size_t start = bytes.size();
        appendConverted(v, to, bytes);
        if (inst.slot->layout) toK16(bytes.data() + start, shape[1], shape[2], dtypeSize(to)); // k16 per expert
      }
    } else {
      // One tensor, or the parts of a stack, rows in order.
      std::vector<std::string> names;
      for (const auto &p : inst.slot->parts) names.push_back(expandName(p, inst.layer));
      if (names.empty()) names.push_back(name);
      size_t start = bytes.size();
      const bool quantised = inst.slot->layout && q3::isQuantisedLayout(*inst.slot->layout);
      if (quantised) to = DType::F32; // quantised from f32 below
      int64_t rows = 0, perRow = inst.slot->type.getNumElements() / shape[0];
      for (const auto &n : names) {
        const TensorView &v = ck.tensor(n);
        if (v.numel() % perRow != 0 || rows + v.numel() / perRow > shape[0])
          fail(v.file, ": tensor '", v.name, "' does not fit the compiled shape");
        rows += v.numel() / perRow;
        appendConverted(v, to, bytes);
      }
      if (rows != shape[0]) fail(ck.tensor(names[0]).file, ": tensor '", names[0], "' does not fit the compiled shape");
      if (inst.slot->layout && q3::isGatedLayout(*inst.slot->layout))
        interleaveGateUp(bytes.data() + start, shape[0], shape[1], dtypeSize(to));
      if (quantised) {
        if (q3::isQ4Layout(*inst.slot->layout)) quantiseQ4(bytes, start, shape[0], shape[1]);
        else quantiseQ8(bytes, start, shape[0], shape[1]);
      } else if (inst.slot->layout) { // k16 (gated or not), or its k-paired form
        toK16(bytes.data() + start, shape[0], shape[1], dtypeSize(to), q3::isPairedLayout(*inst.slot->layout));
      }
    }
    out.write(bytes.data(), bytes.size());
    fnv.add(bytes.data(), bytes.size());
    written = inst.offset + inst.slot->bytes();
  }
  std::vector<uint8_t> tail(size_t(plan.totalBytes - written), 0);
  out.write(tail.data(), tail.size());
  fnv.add(tail.data(), tail.size());
  return fnv.value();
}

} // namespace q3c
