#include "frontend/DType.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace q3c;

TEST(DType, Bf16RoundsToNearestEven) {
  EXPECT_EQ(f32ToBf16(1.0f), 0x3f80);
  // 1 + 2^-8 lies exactly between two bf16 values: ties go to even (1.0).
  EXPECT_EQ(f32ToBf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  // 1 + 3*2^-8 ties between 0x3f81 and 0x3f82: even is 0x3f82.
  EXPECT_EQ(f32ToBf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_EQ(bf16ToF32(0xc000), -2.0f);
  EXPECT_TRUE(std::isnan(bf16ToF32(f32ToBf16(NAN))));
}

TEST(DType, F16RoundTripsEveryValue) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    uint16_t v = uint16_t(h);
    if ((v & 0x7c00) == 0x7c00 && (v & 0x3ff)) continue; // NaN payloads
    EXPECT_EQ(f32ToF16(f16ToF32(v)), v) << std::hex << h;
  }
  EXPECT_EQ(f16ToF32(0x3c00), 1.0f);
  EXPECT_EQ(f16ToF32(0x0001), std::ldexp(1.0f, -24)); // smallest subnormal
  EXPECT_EQ(f32ToF16(1e6f), 0x7c00);                 // overflow to inf
}

TEST(DType, Names) {
  EXPECT_EQ(parseSafetensorsDType("BF16"), DType::BF16);
  EXPECT_FALSE(parseSafetensorsDType("I64"));
  EXPECT_EQ(parseTorchDType("bfloat16"), DType::BF16);
  EXPECT_EQ(parseTorchDType("f32"), DType::F32);
}
