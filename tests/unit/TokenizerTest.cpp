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

// Fuzzer regression (TokenizerJson): a tokenizer.json whose vocabulary lacks a
// byte must refuse text needing it with RunError, and free its regex match
// state on that path (LeakSanitizer checks this in the ASan build).
TEST(Tokenizer, VocabularyWithoutAByteRefusesByName) {
  std::ifstream in(std::string(QWEN3C_TESTS_DIR) + "/fuzz/corpus/TokenizerJson/mini.json");
  nlohmann::json j = nlohmann::json::parse(in);
  j["model"]["vocab"].erase("o"); // byte 'o'
  auto tok = Tokenizer::fromJson(j.dump(), "mini.json");
  EXPECT_EQ(tok->encode("Hell"), (std::vector<int32_t>{256, 257}));
  try {
    tok->encode("Hello");
    FAIL() << "expected RunError";
  } catch (const qwen3c_rt::RunError &e) {
    EXPECT_NE(std::string(e.what()).find("no vocabulary entry"), std::string::npos) << e.what();
  }
}


// Fuzzer regression (TokenizerJson): malformed added_tokens entries were read
// with a const json's operator[] (undefined behaviour on a missing key).
TEST(Tokenizer, MalformedAddedTokensAreRefusedByName) {
  std::ifstream in(std::string(QWEN3C_TESTS_DIR) + "/fuzz/corpus/TokenizerJson/mini.json");
  const nlohmann::json base = nlohmann::json::parse(in);
  for (const char *bad : {R"([{"id": 258, "idntent": "<|im_end|>"}])", R"([{"content": "<|x|>"}])",
                          R"([{"id": -1, "content": "<|x|>"}])", R"([{"id": "7", "content": "<|x|>"}])",
                          R"({"a": 1})", R"([3])"}) {
    nlohmann::json j = base;
    j["added_tokens"] = nlohmann::json::parse(bad);
    try {
      Tokenizer::fromJson(j.dump(), "mini.json");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const qwen3c_rt::RunError &e) {
      EXPECT_EQ(std::string(e.what()).rfind("mini.json: ", 0), 0u) << e.what();
    }
  }
}

TEST(Tokenizer, InconsistentTokenizerJsonIsRefusedByName) {
  std::ifstream in(std::string(QWEN3C_TESTS_DIR) + "/fuzz/corpus/TokenizerJson/mini.json");
  const nlohmann::json base = nlohmann::json::parse(in);
  auto message = [](const nlohmann::json &j) {
    try {
      Tokenizer::fromJson(j.dump(), "t.json");
    } catch (const qwen3c_rt::RunError &e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  nlohmann::json j = base;
  j["model"].erase("merges");
  EXPECT_EQ(message(j), "t.json: no model.merges");
  j = base;
  j["pre_tokenizer"] = nullptr;
  EXPECT_EQ(message(j), "t.json: no Split pre-tokenizer regex");
  j = base;
  j["model"]["vocab"]["He"] = int64_t(1) << 30;
  EXPECT_EQ(message(j), "t.json: token id 1073741824 out of range");
  j = base;
  j["model"]["type"] = "Unigram";
  EXPECT_EQ(message(j), "t.json: model.type is not BPE");
}
