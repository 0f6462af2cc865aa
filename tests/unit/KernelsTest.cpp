// Properties of the eager kernels that hold whatever the weights are.
#include "eager/Kernels.h"

#include <gtest/gtest.h>

#include <xtensor/xrandom.hpp>

using namespace q3c::eager;

TEST(Kernels, RopeAtPositionZeroIsIdentity) {
  xt::xarray<float> x = xt::random::randn<float>({3, 2, 8});
  // Token 0 sits at position 0 (angle 0), the others rotate.
  auto y = rope(x, 0, q3::RopeSpec{1e6, std::nullopt}, true);
  for (size_t i = 0; i < 16; ++i) EXPECT_FLOAT_EQ(y.data()[i], x.data()[i]);
  // A rotation keeps each pair's norm.
  for (size_t t = 0; t < 3; ++t)
    for (size_t h = 0; h < 2; ++h)
      for (size_t i = 0; i < 4; ++i) {
        float a = x(t, h, i), b = x(t, h, i + 4), c = y(t, h, i), d = y(t, h, i + 4);
        EXPECT_NEAR(a * a + b * b, c * c + d * d, 1e-5);
      }
}

TEST(Kernels, AttentionOverOnePositionReturnsItsValue) {
  xt::xarray<float> q = xt::random::randn<float>({1, 4, 8});
  xt::xarray<float> k = xt::random::randn<float>({1, 2, 16, 8});
  xt::xarray<float> v = xt::random::randn<float>({1, 2, 16, 8});
  auto o = attention(q, k, v, 0, 0, 0.35);
  for (size_t h = 0; h < 4; ++h)
    for (size_t d = 0; d < 8; ++d) EXPECT_FLOAT_EQ(o(0, h, d), v(0, h / 2, 0, d));
}

TEST(Kernels, RouterKeepsTopKAndRenormalises) {
  xt::xarray<float> logits = {{0.f, 3.f, 1.f, 2.f}, {5.f, 5.f, 0.f, -1.f}};
  xt::xarray<float> w;
  xt::xarray<int32_t> e;
  moeRouter(logits, 2, true, w, e);
  EXPECT_EQ(e(0, 0), 1);
  EXPECT_EQ(e(0, 1), 3);
  EXPECT_NEAR(w(0, 0) + w(0, 1), 1.0f, 1e-6);
  EXPECT_EQ(e(1, 0), 0); // tie: lower expert first
  EXPECT_EQ(e(1, 1), 1);
  moeRouter(logits, 2, false, w, e);
  EXPECT_LT(w(0, 0) + w(0, 1), 1.0f);
}

TEST(Kernels, KVWriteDropsRowsPastCapacity) {
  xt::xarray<float> cache = xt::zeros<float>({2, 1, 4, 2});
  xt::xarray<float> v = xt::ones<float>({3, 1, 2});
  kvWrite(cache, v, 1, 2); // positions 2, 3, and 4 (dropped)
  EXPECT_EQ(xt::sum(cache)(), 4.0f);
  EXPECT_EQ(cache(1, 0, 3, 1), 1.0f);
}

TEST(Kernels, Int8RowsKeepTheMaximumAndRoundHalfToEven) {
  // Row 0: max|x| = 2.54, so the step is 0.02 and x * 127 / 2.54 = 50 x.
  // 0.03 -> 1.5 -> 2 (even), 0.05 -> 2.5 -> 2 (even), -2.54 -> -127 exactly.
  // Row 1 is all zeros: scale 0, no division by zero.
  xt::xarray<float> x = {{{0.03f, 0.05f, -2.54f, 1.0f}, {0.f, 0.f, 0.f, 0.f}}};
  roundToInt8Rows(x);
  const float d = 2.54f / 127.0f;
  EXPECT_FLOAT_EQ(x(0, 0, 2), -127.0f * d);
  EXPECT_FLOAT_EQ(x(0, 0, 3), 50.0f * d);
  EXPECT_FLOAT_EQ(x(0, 0, 1), 2.0f * d);
  EXPECT_FLOAT_EQ(x(0, 0, 0), std::nearbyint(0.03f * (127.0f / 2.54f)) * d);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(x(0, 1, i), 0.0f);
}
