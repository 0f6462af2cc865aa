// Decoding with the real Qwen3 tokenizer.json (ids read off its vocabulary).
#include "runtime/Generate.h"
#include "runtime/TokenDecoder.h"
#include "runtime/Tokenizer.h"

#include <gtest/gtest.h>

using qwen3c_rt::TokenDecoder;
using qwen3c_rt::utf8Lossy;

namespace {
const TokenDecoder &qwen3() {
  static TokenDecoder d = TokenDecoder::fromFile(std::string(QWEN3C_TOKENIZER_DIR) + "/tokenizer.json");
  return d;
}
} // namespace

TEST(TokenDecoder, DecodesByteLevelPieces) {
  EXPECT_EQ(qwen3().decode({9707, 11, 1879, 0}), "Hello, world!");
  EXPECT_EQ(qwen3().decode({108386}), "你好");
  EXPECT_EQ(qwen3().decode({151644, 872}), "<|im_start|>user");
  EXPECT_GE(qwen3().size(), 151669u);
}

TEST(TokenDecoder, SplitCharacterStaysRawUntilComplete) {
  // "é" is two bytes; the piece "Ã©" (963) carries both.
  EXPECT_EQ(qwen3().bytes(963), "\xC3\xA9");
}

TEST(TokenDecoder, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(utf8Lossy("a\xC3"), "a\xEF\xBF\xBD");            // cut short
  EXPECT_EQ(utf8Lossy("\xE2\x82x"), "\xEF\xBF\xBDx");        // one U+FFFD for the prefix
  EXPECT_EQ(utf8Lossy("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD"); // overlong
  EXPECT_EQ(utf8Lossy("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); // surrogate
  EXPECT_EQ(utf8Lossy("ok \xF0\x9F\xA4\x96"), "ok \xF0\x9F\xA4\x96");
}

TEST(TokenDecoder, RejectsNonTokenizerJson) {
  EXPECT_THROW(TokenDecoder::fromJson("{\"model\": {}}", "x.json"), qwen3c_rt::RunError);
  EXPECT_THROW(TokenDecoder::fromJson("{", "x.json"), qwen3c_rt::RunError);
  EXPECT_THROW(TokenDecoder::fromJson(R"({"model": {"vocab": {"a": "x"}}})", "x.json"), qwen3c_rt::RunError);
  EXPECT_THROW(qwen3c_rt::Tokenizer::fromJson(R"({"model": {"type": 3}})", "x.json"), qwen3c_rt::RunError);
}

TEST(TokenDecoder, StreamingHoldsBackSplitCharacters) {
  qwen3c_rt::Utf8Stream s;
  EXPECT_EQ(s.add("a\xE4"), "a");        // first byte of 你
  EXPECT_EQ(s.add("\xBD"), "");
  EXPECT_EQ(s.add("\xA0" "b"), "\xE4\xBD\xA0" "b");
  EXPECT_EQ(s.add("\xF0\x9F"), "");     // half an emoji at the end
  EXPECT_EQ(s.finish(), "\xEF\xBF\xBD");
}
