//===- BlockQuants.cpp ------------------------------------------------------===//
#include "frontend/BlockQuants.h"
#include "frontend/Error.h"

#include <algorithm>
#include <cmath>
#include <cstring>

// The references round each product separately; a contracted a * b - c
// would round once and differ in the last bit.
#pragma clang fp contract(off)

namespace q3c {
namespace {

uint16_t loadHalf(const uint8_t *p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return h;
}

void dequantiseQ8_0(const uint8_t *b, float *y, int64_t blocks) {
  for (int64_t i = 0; i < blocks; ++i, b += 34, y += 32) {
    const float d = f16ToF32(loadHalf(b));
    for (int j = 0; j < 32; ++j) y[j] = float(int8_t(b[2 + j])) * d;
  }
}

void dequantiseQ4_0(const uint8_t *b, float *y, int64_t blocks) {
  for (int64_t i = 0; i < blocks; ++i, b += 18, y += 32) {
    const float d = f16ToF32(loadHalf(b));
    for (int j = 0; j < 16; ++j) {
      y[j] = float((b[2 + j] & 0x0f) - 8) * d;
      y[j + 16] = float((b[2 + j] >> 4) - 8) * d;
    }
  }
}

// ggml's get_scale_min_k4: group j's 6-bit scale and min from the 12 bytes.
void scaleMinK4(int j, const uint8_t *q, uint8_t &sc, uint8_t &m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = uint8_t((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
    m = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// block_q4_K: f16 d, f16 dmin, scales[12], qs[128].
void dequantiseQ4_K(const uint8_t *b, float *y, int64_t blocks) {
  for (int64_t i = 0; i < blocks; ++i, b += 144) {
    const float d = f16ToF32(loadHalf(b)), dmin = f16ToF32(loadHalf(b + 2));
    const uint8_t *scales = b + 4, *q = b + 16;
    for (int j = 0; j < 256; j += 64, q += 32) {
      uint8_t sc, m;
      scaleMinK4(j / 32, scales, sc, m);
      const float d1 = d * float(sc), m1 = dmin * float(m);
      scaleMinK4(j / 32 + 1, scales, sc, m);
      const float d2 = d * float(sc), m2 = dmin * float(m);
      for (int l = 0; l < 32; ++l) {
        const float p = d1 * float(q[l] & 0x0f);
        *y++ = p - m1;
      }
      for (int l = 0; l < 32; ++l) {
        const float p = d2 * float(q[l] >> 4);
        *y++ = p - m2;
      }
    }
  }
}

// block_q6_K: ql[128] (low 4 bits), qh[64] (high 2 bits), int8 scales[16], f16 d.
void dequantiseQ6_K(const uint8_t *b, float *y, int64_t blocks) {
  for (int64_t i = 0; i < blocks; ++i, b += 210) {
    const float d = f16ToF32(loadHalf(b + 208));
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = reinterpret_cast<const int8_t *>(b + 192);
    for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8)
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * float(sc[is]) * float(q1);
        y[l + 32] = d * float(sc[is + 2]) * float(q2);
        y[l + 64] = d * float(sc[is + 4]) * float(q3);
        y[l + 96] = d * float(sc[is + 6]) * float(q4);
      }
  }
}

} // namespace

void dequantiseBlocks(DType t, const void *src, float *dst, size_t n) {
  const auto *b = static_cast<const uint8_t *>(src);
  const int64_t blocks = int64_t(n) / blockShape(t).elements;
  switch (t) {
  case DType::Q8_0: return dequantiseQ8_0(b, dst, blocks);
  case DType::Q4_0: return dequantiseQ4_0(b, dst, blocks);
  case DType::Q4_K: return dequantiseQ4_K(b, dst, blocks);
  case DType::Q6_K: return dequantiseQ6_K(b, dst, blocks);
  default: fail("internal error: ", dtypeName(t), " is not a block-quantised type");
  }
}

void unpackQ8_0(const uint8_t *b, int64_t n, int8_t *q, uint16_t *d) {
  for (int64_t i = 0; i < n / 32; ++i, b += 34) {
    d[i] = loadHalf(b);
    std::memcpy(q + i * 32, b + 2, 32);
  }
}

void unpackQ4_0(const uint8_t *b, int64_t n, uint8_t *q, uint16_t *d, bool nibbles) {
  const int bias = nibbles ? 0 : 8;
  for (int64_t i = 0; i < n / 32; ++i, b += 18) {
    d[i] = loadHalf(b);
    uint8_t *out = q + i * 32;
    for (int j = 0; j < 16; ++j) {
      out[j] = uint8_t((b[2 + j] & 0x0f) - bias);
      out[j + 16] = uint8_t((b[2 + j] >> 4) - bias);
    }
  }
}

float quantiseGroupQ8_0(const float *x, uint8_t *q) {
  float amax = 0;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float scale = amax / 127.0f, inverse = scale != 0 ? 1.0f / scale : 0.0f;
  for (int j = 0; j < 32; ++j) q[j] = uint8_t(int8_t(std::clamp(std::round(x[j] * inverse), -127.0f, 127.0f)));
  return scale;
}

// The signed value of largest magnitude (the first of equals); d = max / -8;
// q = min(15, (int8_t)(w * (1 / d) + 8.5f)).
float quantiseGroupQ4_0(const float *x, uint8_t *q) {
  float amax = 0, max = 0;
  for (int j = 0; j < 32; ++j)
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  const float scale = max / -8.0f, inverse = scale != 0 ? 1.0f / scale : 0.0f;
  for (int j = 0; j < 32; ++j) {
    const float scaled = x[j] * inverse;
    q[j] = uint8_t(std::min<int>(15, int8_t(scaled + 8.5f)));
  }
  return scale;
}

void quantiseRowQ8_0(const float *x, int64_t n, uint8_t *b) {
  for (int64_t i = 0; i < n / 32; ++i, b += 34) {
    uint16_t d = f32ToF16(quantiseGroupQ8_0(x + i * 32, b + 2));
    std::memcpy(b, &d, 2);
  }
}

void quantiseRowQ4_0(const float *x, int64_t n, uint8_t *b) {
  uint8_t q[32];
  for (int64_t i = 0; i < n / 32; ++i, b += 18) {
    uint16_t d = f32ToF16(quantiseGroupQ4_0(x + i * 32, q));
    std::memcpy(b, &d, 2);
    for (int j = 0; j < 16; ++j) b[2 + j] = uint8_t(q[j] | q[j + 16] << 4);
  }
}

} // namespace q3c
