//===- CpuFeaturesTest.cpp - the start-up check of the compiled features ----===//
#include "runtime/CpuFeatures.h"
#include "runtime/Generate.h"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace qwen3c_rt;

namespace {

// Every x86-64 CPU this project supports has SSE3 and SSSE3.
TEST(CpuFeatures, BaselineIsPresent) {
  EXPECT_TRUE(cpuSupports("sse3"));
  EXPECT_TRUE(missingCpuFeatures("sse3,ssse3").empty());
  EXPECT_TRUE(missingCpuFeatures("").empty());
}

TEST(CpuFeatures, PretendedFeaturesAreMissing) {
  EXPECT_EQ(missingCpuFeatures("sse3,ssse3", "ssse3"), std::vector<std::string>{"ssse3"});
}

TEST(CpuFeatures, UnknownNamesAreMissing) {
  EXPECT_FALSE(cpuSupports("no-such-feature"));
  EXPECT_EQ(missingCpuFeatures("sse3,no-such-feature"), std::vector<std::string>{"no-such-feature"});
}

TEST(CpuFeatures, AvxImpliesTheOsSavesYmm) {
  // avx2 without avx would mean the table's register-state checks disagree.
  if (cpuSupports("avx2")) EXPECT_TRUE(cpuSupports("avx"));
  if (cpuSupports("avx512bw")) EXPECT_TRUE(cpuSupports("avx512f"));
}

TEST(CpuFeatures, RequireNamesWhatIsMissingAndTheTarget) {
  ::setenv("QWEN3C_PRETEND_MISSING_FEATURES", "ssse3", 1);
  try {
    requireCpuFeatures("sse3,ssse3", "znver9");
    ADD_FAILURE() << "no error";
  } catch (const RunError &e) {
    EXPECT_NE(std::string(e.what()).find("this CPU lacks ssse3, which this model was compiled for (target cpu znver9)"),
              std::string::npos)
        << e.what();
  }
  ::unsetenv("QWEN3C_PRETEND_MISSING_FEATURES");
  EXPECT_NO_THROW(requireCpuFeatures("sse3,ssse3", "znver9"));
}

TEST(CpuFeatures, TableNamesAreDistinct) {
  const auto &names = checkableCpuFeatures();
  for (size_t i = 0; i < names.size(); ++i)
    for (size_t j = i + 1; j < names.size(); ++j) EXPECT_NE(names[i], names[j]);
}

} // namespace
