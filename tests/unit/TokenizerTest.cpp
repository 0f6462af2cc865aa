// The C++ tokenizer against golden ids from an independent implementation
// (tests/tokenizer/make_golden.mjs), and decode(encode(x)) == NFC(x).
#include "runtime/Generate.h"
#include "runtime/Tokenizer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <utf8proc.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

using qwen3c_rt::Tokenizer;

namespace {

const Tokenizer &qwen3() {
  static auto t = Tokenizer::fromFile(std::string(QWEN3C_TOKENIZER_DIR) + "/tokenizer.json");
  return *t;
}

std::string nfc(const std::string &s) {
  utf8proc_uint8_t *out = nullptr;
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t *>(s.data()), utf8proc_ssize_t(s.size()), &out,
                        utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  std::string r(reinterpret_cast<char *>(out), size_t(n));
  std::free(out);
  return r;
}

nlohmann::json golden() {
  std::ifstream in(std::string(QWEN3C_TESTS_DIR) + "/tokenizer/golden.json");
  return nlohmann::json::parse(in);
}

} // namespace

TEST(Tokenizer, MatchesIndependentImplementation) {
  auto g = golden();
  ASSERT_GT(g.size(), 20u);
  for (const auto &entry : g) {
    std::string text = entry["text"].get<std::string>();
    EXPECT_EQ(qwen3().encode(text), entry["ids"].get<std::vector<int32_t>>()) << text;
  }
}

TEST(Tokenizer, DecodeOfEncodeIsNfc) {
  for (const auto &entry : golden()) {
    std::string text = entry["text"].get<std::string>();
    EXPECT_EQ(qwen3().decode(qwen3().encode(text)), nfc(text)) << text;
  }
}

TEST(Tokenizer, InvalidUtf8IsAnError) {
  try {
    qwen3().encode("ok \xC3\x28 then");
    FAIL();
  } catch (const qwen3c_rt::RunError &e) {
    EXPECT_STREQ(e.what(), "tokenizer input: invalid UTF-8 at byte 3");
  }
}

TEST(Tokenizer, AddedTokens) {
  EXPECT_EQ(qwen3().addedTokenId("<|im_end|>"), 151645);
  EXPECT_EQ(qwen3().addedTokenId("<think>"), 151667);
  EXPECT_EQ(qwen3().addedTokenId("<nope>"), -1);
}

TEST(Tokenizer, BinaryFormRoundTrips) {
  std::string bin = qwen3().serialize();
  auto t = Tokenizer::fromBinary(bin.data(), bin.size(), "test");
  for (const auto &entry : golden()) {
    std::string text = entry["text"].get<std::string>();
    EXPECT_EQ(t->encode(text), qwen3().encode(text)) << text;
    EXPECT_EQ(t->decode(t->encode(text)), qwen3().decode(qwen3().encode(text)));
  }
  EXPECT_THROW(Tokenizer::fromBinary(bin.data(), 100, "test"), qwen3c_rt::RunError);
  EXPECT_THROW(Tokenizer::fromBinary("nope", 4, "test"), qwen3c_rt::RunError);
}
