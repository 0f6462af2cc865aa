#include "frontend/Error.h"
#include "frontend/GgufFile.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

using namespace q3c;

namespace {

// A GGUF v3 file written field by field.
struct Builder {
  std::vector<uint8_t> b;
  template <typename T> Builder &put(T v) {
    const auto *p = reinterpret_cast<const uint8_t *>(&v);
    b.insert(b.end(), p, p + sizeof v);
    return *this;
  }
  Builder &str(const std::string &s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  void pad(size_t a) { b.resize((b.size() + a - 1) / a * a, 0); }
};

struct TensorSpec {
  std::string name;
  std::vector<uint64_t> dims;
  uint32_t type;
  uint64_t offset;
};

std::vector<uint8_t> file(const std::vector<TensorSpec> &tensors, size_t dataBytes, uint64_t kvExtra = 0) {
  Builder w;
  w.b = {'G', 'G', 'U', 'F'};
  w.put<uint32_t>(3).put<uint64_t>(tensors.size()).put<uint64_t>(2 + kvExtra);
  w.str("general.architecture").put<uint32_t>(8).str("qwen3");
  w.str("qwen3.block_count").put<uint32_t>(4).put<uint32_t>(28);
  for (const auto &t : tensors) {
    w.str(t.name).put<uint32_t>(uint32_t(t.dims.size()));
    for (uint64_t d : t.dims) w.put<uint64_t>(d);
    w.put<uint32_t>(t.type).put<uint64_t>(t.offset);
  }
  w.pad(32);
  w.b.resize(w.b.size() + dataBytes, 0);
  return w.b;
}

std::string errorOf(const std::vector<uint8_t> &bytes) {
  try {
    parseGguf("m.gguf", bytes.data(), bytes.size());
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(GgufFile, ReadsMetadataAndTensors) {
  // A Q8_0 matrix of 2 rows of 64 (2 x 2 blocks of 34 bytes), then an F32 vector.
  auto bytes = file({{"blk.0.attn_q.weight", {64, 2}, 8, 0}, {"output_norm.weight", {64}, 0, 160}}, 160 + 256);
  GgufFile f = parseGguf("m.gguf", bytes.data(), bytes.size());
  EXPECT_EQ(f.version, 3u);
  EXPECT_EQ(f.string("general.architecture"), std::optional<std::string>("qwen3"));
  EXPECT_EQ(f.integers.at("qwen3.block_count"), 28);
  ASSERT_EQ(f.tensors.size(), 2u);
  const GgufTensor *q = f.tensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_STREQ(q->type->name, "Q8_0");
  EXPECT_EQ(q->bytes, 136u);
  EXPECT_EQ(q->dims, (std::vector<int64_t>{64, 2}));
  EXPECT_EQ(f.tensor("output_norm.weight")->bytes, 256u);
  EXPECT_EQ(f.tensor("output_norm.weight")->offset - q->offset, 160u);
}

TEST(GgufFile, RejectsBadFiles) {
  auto good = file({{"t", {32}, 2, 0}}, 18);
  EXPECT_EQ(errorOf(good), "");
  // Truncated anywhere: in the header, in the table, in the data.
  for (size_t n : {size_t(3), size_t(20), size_t(60), good.size() - 1}) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + long(n));
    EXPECT_NE(errorOf(cut), "") << n;
  }
  EXPECT_NE(errorOf(std::vector<uint8_t>(good.size() - 1)).find("not a GGUF file"), std::string::npos);
  // A tensor past the end, unaligned, of an unknown type, of partial blocks.
  EXPECT_NE(errorOf(file({{"t", {32}, 2, 32}}, 18)).find("tensor 't' (18 bytes at data offset 32) lies past the end"),
            std::string::npos);
  EXPECT_NE(errorOf(file({{"t", {32}, 2, 4}}, 64)).find("tensor 't' at offset 4 is not aligned to 32"), std::string::npos);
  EXPECT_NE(errorOf(file({{"t", {32}, 99, 0}}, 64)).find("tensor 't' has ggml type 99, which this reader does not know"),
            std::string::npos);
  EXPECT_NE(errorOf(file({{"t", {48}, 12, 0}}, 1024)).find("rows of 48 elements, not whole blocks of 256"),
            std::string::npos);
  EXPECT_NE(errorOf(file({{"a", {64}, 0, 0}, {"b", {64}, 0, 128}}, 512)).find("tensors 'a' and 'b' overlap"),
            std::string::npos);
  EXPECT_NE(errorOf(file({{"a", {8}, 0, 0}, {"a", {8}, 0, 32}}, 64)).find("tensor 'a' appears twice"), std::string::npos);
  EXPECT_NE(errorOf(file({{"t", {0}, 0, 0}}, 64)).find("dimension 0 of 0 elements"), std::string::npos);
  // A metadata count that lies.
  EXPECT_NE(errorOf(file({}, 0, uint64_t(1) << 40)).find("metadata entries exceed the file"), std::string::npos);
}

// Floats and flat arrays of strings or integers are kept (the tokenizer's
// vocabulary, token types; rope and norm constants); nested arrays and
// float arrays are checked and skipped.
TEST(GgufFile, KeepsFloatsAndFlatArrays) {
  Builder w;
  w.b = {'G', 'G', 'U', 'F'};
  w.put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(5);
  w.str("qwen3.rope.freq_base").put<uint32_t>(6).put<float>(1e6f);
  w.str("eps64").put<uint32_t>(12).put<double>(1e-6);
  w.str("tokens").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(2).str("a").str("bc");
  w.str("types").put<uint32_t>(9).put<uint32_t>(5).put<uint64_t>(3).put<int32_t>(1).put<int32_t>(3).put<int32_t>(-4);
  w.str("scores").put<uint32_t>(9).put<uint32_t>(6).put<uint64_t>(2).put<float>(0.5f).put<float>(1.5f);
  w.pad(32);
  GgufFile f = parseGguf("m.gguf", w.b.data(), w.b.size());
  EXPECT_EQ(f.floats.at("qwen3.rope.freq_base"), 1e6);
  EXPECT_EQ(f.floats.at("eps64"), 1e-6);
  EXPECT_EQ(f.stringArrays.at("tokens"), (std::vector<std::string>{"a", "bc"}));
  EXPECT_EQ(f.integerArrays.at("types"), (std::vector<int64_t>{1, 3, -4}));
  EXPECT_FALSE(f.integerArrays.count("scores"));
  EXPECT_TRUE(f.has("scores") == false);
}
