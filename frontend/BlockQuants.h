//===- BlockQuants.h - ggml's block-quantised formats -----------*- C++ -*-===//
//
// The GGUF tensor types qwen3c reads, as ggml's reference code (and
// gguf-py's quants.py) defines them, each a block of elements sharing
// scales:
//   Q8_0  32 int8 values and an f16 scale d:               w = q * d
//   Q4_0  32 nibbles (element j low, j + 16 high), f16 d:  w = (q - 8) * d
//   Q4_K  256 nibbles in 8 groups of 32, a 6-bit scale and min per group,
//         f16 d and dmin:                                  w = d*sc * q - dmin*m
//   Q6_K  256 6-bit values in 16 groups of 16, an int8 scale per group,
//         f16 d:                                           w = d*sc * (q - 32)
// Dequantisation rounds exactly as those references do (each product to
// f32, no fused multiply-add), so the values equal gguf-py's bit for bit.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_FRONTEND_BLOCKQUANTS_H
#define QWEN3C_FRONTEND_BLOCKQUANTS_H

#include "frontend/DType.h"

#include <cstdint>

namespace q3c {

inline constexpr int64_t kQ8_0Block = 32;

// A row's Q8_0 / Q4_0 blocks split into one value per element and one f16
// scale per 32 elements (the groups qwen3c's k16_q8 / k16_q4 weights keep):
// Q8_0 gives q in -127..127 (as stored), Q4_0 gives q - 8 in -8..7 (int8) or,
// with `nibbles`, the stored 0..15.
void unpackQ8_0(const uint8_t *blocks, int64_t n, int8_t *q, uint16_t *d);
void unpackQ4_0(const uint8_t *blocks, int64_t n, uint8_t *q, uint16_t *d, bool nibbles);

// llama.cpp's quantize_row_q8_0 / quantize_row_q4_0 rules for one group of
// 32 values: writes the 32 stored values (int8; Q4_0's 0..15) and returns
// the f32 scale whose f16 rounding is stored.
float quantiseGroupQ8_0(const float *x, uint8_t *q);
float quantiseGroupQ4_0(const float *x, uint8_t *q);

// n elements (a multiple of 32) of f32 to Q8_0 / Q4_0 blocks, as llama.cpp lays them out.
void quantiseRowQ8_0(const float *x, int64_t n, uint8_t *blocks);
void quantiseRowQ4_0(const float *x, int64_t n, uint8_t *blocks);

} // namespace q3c

#endif
