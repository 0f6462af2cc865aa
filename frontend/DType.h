//===- DType.h - checkpoint element types and bf16/f16 conversion -*- C++ -*-===//
#ifndef QWEN3C_FRONTEND_DTYPE_H
#define QWEN3C_FRONTEND_DTYPE_H

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

namespace q3c {

// Dense element types, then ggml's block-quantised ones (a GGUF file's
// tensors): `block` elements stored in `bytes` bytes, dequantised as ggml's
// reference code does (frontend/BlockQuants.h).
enum class DType { F32, BF16, F16, Q8_0, Q4_0, Q4_K, Q6_K };

inline bool isBlockQuantised(DType t) { return t != DType::F32 && t != DType::BF16 && t != DType::F16; }

// Elements per block and bytes per block (1 and the element size when dense).
struct BlockShape {
  int64_t elements, bytes;
};
inline BlockShape blockShape(DType t) {
  switch (t) {
  case DType::F32: return {1, 4};
  case DType::BF16: case DType::F16: return {1, 2};
  case DType::Q8_0: return {32, 34};
  case DType::Q4_0: return {32, 18};
  case DType::Q4_K: return {256, 144};
  case DType::Q6_K: return {256, 210};
  }
  return {1, 0};
}

// The bytes of n elements (n a multiple of the block for quantised types).
inline size_t dtypeBytes(DType t, size_t n) {
  BlockShape b = blockShape(t);
  return n / size_t(b.elements) * size_t(b.bytes);
}

// The size of one element: dense types only.
inline size_t dtypeSize(DType t) { return t == DType::F32 ? 4 : 2; }

// Names as safetensors writes them ("F32", "BF16", "F16").
inline const char *dtypeName(DType t) {
  switch (t) {
  case DType::F32: return "F32";
  case DType::BF16: return "BF16";
  case DType::F16: return "F16";
  case DType::Q8_0: return "Q8_0";
  case DType::Q4_0: return "Q4_0";
  case DType::Q4_K: return "Q4_K";
  case DType::Q6_K: return "Q6_K";
  }
  return "?";
}

inline std::optional<DType> parseSafetensorsDType(const std::string &s) {
  if (s == "F32") return DType::F32;
  if (s == "BF16") return DType::BF16;
  if (s == "F16") return DType::F16;
  return std::nullopt;
}

// Names as config.json's torch_dtype and our --dtype flags spell them.
inline std::optional<DType> parseTorchDType(const std::string &s) {
  if (s == "float32" || s == "f32") return DType::F32;
  if (s == "bfloat16" || s == "bf16") return DType::BF16;
  if (s == "float16" || s == "f16") return DType::F16;
  return std::nullopt;
}

inline float bf16ToF32(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even, NaN kept quiet.
inline uint16_t f32ToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return uint16_t((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t(bits >> 16);
}

inline float f16ToF32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else { // subnormal: normalise
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) { mant <<= 1; --exp; }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t f32ToF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint32_t sign = (bits >> 16) & 0x8000;
  int32_t exp = int32_t((bits >> 23) & 0xff) - 127 + 15;
  uint32_t mant = bits & 0x7fffff;
  if (((bits >> 23) & 0xff) == 0xff) // inf / nan
    return uint16_t(sign | 0x7c00 | (mant ? 0x200 : 0));
  if (exp >= 31) return uint16_t(sign | 0x7c00);
  if (exp <= 0) {
    if (exp < -10) return uint16_t(sign);
    mant |= 0x800000;
    uint32_t shift = uint32_t(14 - exp);
    uint32_t half = mant >> shift, rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return uint16_t(sign | half);
  }
  uint32_t half = sign | (uint32_t(exp) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) ++half;
  return uint16_t(half);
}

// Block-quantised types to f32 (frontend/BlockQuants.cpp); n a multiple of the block.
void dequantiseBlocks(DType t, const void *src, float *dst, size_t n);

// Converts n elements of type t at src to f32.
inline void toF32(DType t, const void *src, float *dst, size_t n) {
  if (isBlockQuantised(t)) {
    dequantiseBlocks(t, src, dst, n);
    return;
  }
  if (t == DType::F32) {
    std::memcpy(dst, src, n * 4);
    return;
  }
  const uint16_t *h = static_cast<const uint16_t *>(src);
  if (t == DType::BF16)
    for (size_t i = 0; i < n; ++i) dst[i] = bf16ToF32(h[i]);
  else
    for (size_t i = 0; i < n; ++i) dst[i] = f16ToF32(h[i]);
}

} // namespace q3c

#endif
