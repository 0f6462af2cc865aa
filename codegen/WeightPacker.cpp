//===- WeightPacker.cpp -----------------------------------------------------===//
#include "codegen/WeightPacker.h"
#include "frontend/AtomicFile.h"
#include "frontend/BlockQuants.h"
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

// Row-major [N, K] -> Wp[n / 16][k][n % 16] (k16), or with `run` > 1
// Wp[n / 16][k / run][n % 16][k % run] (K a multiple of `run`: each
// output's consecutive k in pairs as vdpbf16ps reads them, or in quads as
// vpdpbusd does), in place.
void toK16(uint8_t *data, int64_t N, int64_t K, size_t elem, int64_t run = 1) {
  std::vector<uint8_t> src(data, data + size_t(N * K) * elem);
  for (int64_t nb = 0; nb < N / 16; ++nb)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t r = 0; r < 16; ++r) {
        int64_t at = ((nb * (K / run) + k / run) * 16 + r) * run + k % run;
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

// An [N, K] matrix as quantised groups of 32 k: one stored value per
// element (int8, or Q4's nibble value 0..15) and an f16 scale per group,
// rows in order. Parts already in the stored format (a GGUF file's Q8_0 /
// Q4_0 tensors) are taken as they are; Q4_0 into an int8 layout exactly
// too (q - 8 with the same scale); anything else is quantised from f32 by
// llama.cpp's rule for the format.
struct QuantisedRows {
  std::vector<uint8_t> q;
  std::vector<uint16_t> d;

  void append(const TensorView &v, bool q4) {
    const size_t n = size_t(v.numel()), at = q.size();
    q.resize(at + n);
    d.resize(d.size() + n / size_t(q3::kQ8Group));
    uint16_t *scales = d.data() + at / size_t(q3::kQ8Group);
    if (!q4 && v.dtype == DType::Q8_0) return unpackQ8_0(v.data, int64_t(n), reinterpret_cast<int8_t *>(q.data() + at), scales);
    if (v.dtype == DType::Q4_0) return unpackQ4_0(v.data, int64_t(n), q.data() + at, scales, q4);
    std::vector<float> f = v.toF32();
    for (size_t g = 0; g < n / size_t(q3::kQ8Group); ++g) {
      const float *x = f.data() + g * size_t(q3::kQ8Group);
      uint8_t *out = q.data() + at + g * size_t(q3::kQ8Group);
      scales[g] = f32ToF16(q4 ? quantiseGroupQ4_0(x, out) : quantiseGroupQ8_0(x, out));
    }
  }
};

// The k16_q8 / k16_q4 form of `m` ([N, K]), or with `quads` their quads
// form (see #q3.layout): the values in k16 blocks (Q4 as nibbles Wq[n /
// 16][k / 2][n % 16], k even in the low nibble), and the [N, K / 32] scales
// in k16 blocks, appended to `values` and `scales`.
void appendQuantised(QuantisedRows &m, int64_t N, int64_t K, bool q4, bool quads, std::vector<uint8_t> &values,
                     std::vector<uint8_t> &scales) {
  const size_t at = values.size();
  if (q4 && quads) { // Wq[n / 16][k / 8][n % 16][j]: k = 8p + j low, 8p + 4 + j high
    values.resize(at + size_t(N * K / 2));
    for (int64_t nb = 0; nb < N / 16; ++nb)
      for (int64_t p = 0; p < K / 8; ++p)
        for (int64_t r = 0; r < 16; ++r)
          for (int64_t j = 0; j < 4; ++j) {
            const uint8_t *row = m.q.data() + (nb * 16 + r) * K + 8 * p;
            values[at + size_t(((nb * (K / 8) + p) * 16 + r) * 4 + j)] = uint8_t(row[j] | row[4 + j] << 4);
          }
  } else if (q4) {
    values.resize(at + size_t(N * K / 2));
    for (int64_t nb = 0; nb < N / 16; ++nb)
      for (int64_t p = 0; p < K / 2; ++p)
        for (int64_t r = 0; r < 16; ++r) {
          const uint8_t *row = m.q.data() + (nb * 16 + r) * K;
          values[at + size_t((nb * (K / 2) + p) * 16 + r)] = uint8_t(row[2 * p] | row[2 * p + 1] << 4);
        }
  } else {
    toK16(m.q.data(), N, K, 1, quads ? 4 : 1);
    values.insert(values.end(), m.q.begin(), m.q.end());
  }
  toK16(reinterpret_cast<uint8_t *>(m.d.data()), N, K / q3::kQ8Group, 2);
  const uint8_t *dBytes = reinterpret_cast<const uint8_t *>(m.d.data());
  scales.insert(scales.end(), dBytes, dBytes + m.d.size() * 2);
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
    const bool quantised = inst.slot->layout && q3::isQuantisedLayout(*inst.slot->layout);
    const bool q4 = quantised && q3::isQ4Layout(*inst.slot->layout);
    const bool quads = quantised && q3::isQuadLayout(*inst.slot->layout);
    if (name.find("{expert}") != std::string::npos) {
      std::vector<uint8_t> values, scales; // quantised: every expert's values, then every expert's scales
      for (int64_t e = 0; e < shape[0]; ++e) {
        const TensorView &v = ck.tensor(expandName(name, -1, e));
        if (v.numel() * shape[0] != inst.slot->type.getNumElements())
          fail(v.file, ": tensor '", v.name, "' does not fit the compiled shape");
        if (quantised) {
          QuantisedRows groups;
          groups.append(v, q4);
          appendQuantised(groups, shape[1], shape[2], q4, quads, values, scales);
          continue;
        }
        size_t start = bytes.size();
        appendConverted(v, to, bytes);
        if (inst.slot->layout) // k16 per expert, or its k-paired form
          toK16(bytes.data() + start, shape[1], shape[2], dtypeSize(to), q3::isPairedLayout(*inst.slot->layout) ? 2 : 1);
      }
      bytes.insert(bytes.end(), values.begin(), values.end());
      bytes.insert(bytes.end(), scales.begin(), scales.end());
    } else {
      // One tensor, or the parts of a stack, rows in order.
      std::vector<std::string> names;
      for (const auto &p : inst.slot->parts) names.push_back(expandName(p, inst.layer));
      if (names.empty()) names.push_back(name);
      size_t start = bytes.size();
      QuantisedRows groups;
      int64_t rows = 0, perRow = inst.slot->type.getNumElements() / shape[0];
      for (const auto &n : names) {
        const TensorView &v = ck.tensor(n);
        if (v.numel() % perRow != 0 || rows + v.numel() / perRow > shape[0])
          fail(v.file, ": tensor '", v.name, "' does not fit the compiled shape");
        rows += v.numel() / perRow;
        if (quantised) groups.append(v, q4);
        else appendConverted(v, to, bytes);
      }
      if (rows != shape[0]) fail(ck.tensor(names[0]).file, ": tensor '", names[0], "' does not fit the compiled shape");
      const int64_t N = shape[0], K = shape[1];
      if (quantised) {
        if (q3::isGatedLayout(*inst.slot->layout)) { // rows interleave alike in values and scales
          interleaveGateUp(groups.q.data(), N, K, 1);
          interleaveGateUp(reinterpret_cast<uint8_t *>(groups.d.data()), N, K / q3::kQ8Group, 2);
        }
        std::vector<uint8_t> values, scales;
        appendQuantised(groups, N, K, q4, quads, values, scales);
        bytes.insert(bytes.end(), values.begin(), values.end());
        bytes.insert(bytes.end(), scales.begin(), scales.end());
      } else if (inst.slot->layout) { // k16 (gated or not), or its k-paired form
        if (q3::isGatedLayout(*inst.slot->layout)) interleaveGateUp(bytes.data() + start, N, K, dtypeSize(to));
        toK16(bytes.data() + start, N, K, dtypeSize(to), q3::isPairedLayout(*inst.slot->layout) ? 2 : 1);
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
