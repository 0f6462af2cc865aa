#include "frontend/Error.h"
#include "frontend/SafeTensors.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace q3c;

namespace {

std::map<std::string, TensorView> parse(const std::string &header, size_t dataSize) {
  static std::vector<uint8_t> data(1 << 16);
  return parseSafeTensorsHeader("f.safetensors", header.data(), header.size(), data.data(), dataSize);
}

std::string errorOf(const std::string &header, size_t dataSize) {
  try {
    parse(header, dataSize);
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(SafeTensors, ParsesValidHeader) {
  auto t = parse(R"({"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},)"
                 R"("b":{"dtype":"F32","shape":[],"data_offsets":[12,16]}})",
                 16);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.at("a").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(t.at("a").dtype, DType::BF16);
  EXPECT_EQ(t.at("b").numel(), 1);
}

TEST(SafeTensors, RejectsLyingHeaders) {
  EXPECT_NE(errorOf(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8).find("run past the end"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,12]}})", 64).find("12 bytes for F32 [4], expected 16"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})", 64)
                .find("overlap"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 64).find("reversed"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 64).find("bad dimension"),
            std::string::npos);
  // Dimensions whose product overflows 64 bits must not wrap into a small size.
  EXPECT_NE(errorOf(R"({"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,0]}})", 64)
                .find("too many elements"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"a":{"dtype":"F32"}})", 64).find("needs dtype, shape and data_offsets"), std::string::npos);
  EXPECT_NE(errorOf(R"([1,2])", 64).find("not a JSON object"), std::string::npos);
  EXPECT_NE(errorOf(R"({"a":)", 64).find("malformed"), std::string::npos);
  // Found by fuzz-SafeTensorsHeader: a number too large for a double threw
  // nlohmann's out_of_range, which escaped as an unnamed error.
  EXPECT_NE(errorOf("55e585yp55", 64).find("malformed safetensors header"), std::string::npos);
}
