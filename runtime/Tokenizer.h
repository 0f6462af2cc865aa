//===- Tokenizer.h - the Qwen3 byte-level BPE tokenizer ----------*- C++ -*-===//
//
// Encoding as Hugging Face's `tokenizers` does for Qwen3's tokenizer.json:
// added tokens matched first on the raw text, NFC normalisation (utf8proc),
// the pre-tokenizer's split regex (PCRE2 with Unicode properties), GPT-2's
// byte-to-unicode map, merges by rank. Decoding is TokenDecoder's.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_TOKENIZER_H
#define QWEN3C_RUNTIME_TOKENIZER_H

#include "runtime/TokenDecoder.h"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace qwen3c_rt {

class Tokenizer {
public:
  static std::unique_ptr<Tokenizer> fromJson(const std::string &json, const std::string &source);
  static std::unique_ptr<Tokenizer> fromFile(const std::string &path);
  // A compact binary form (what `qwen3c build` embeds): loads ~10x faster
  // than tokenizer.json because nothing is parsed.
  std::string serialize() const;
  static std::unique_ptr<Tokenizer> fromBinary(const char *data, size_t size, const std::string &source);
  ~Tokenizer();

  // Throws RunError on invalid UTF-8 (naming the byte offset).
  std::vector<int32_t> encode(const std::string &text) const;
  std::string decode(const std::vector<int32_t> &ids) const { return decoder.decode(ids); }
  const TokenDecoder &tokenDecoder() const { return decoder; }
  // The id of an added token such as "<|im_end|>", or -1.
  int32_t addedTokenId(const std::string &content) const;

private:
  Tokenizer() = default;
  static std::unique_ptr<Tokenizer> fromJsonUnchecked(const std::string &json, const std::string &source);
  void encodePiece(const std::string &piece, std::vector<int32_t> &out) const;
  void encodeOrdinary(const std::string &text, std::vector<int32_t> &out) const;
  void initByteMap();
  void compileSplit(const std::string &pattern, const std::string &source);

  TokenDecoder decoder;
  std::unordered_map<std::string, int32_t> vocab;   // byte-level string -> id
  std::unordered_map<std::string, int32_t> ranks;   // "left right" -> merge rank
  std::vector<std::pair<std::string, int32_t>> added; // longest first
  std::string byteChar[256];                        // byte -> its unicode stand-in (UTF-8)
  struct Regex;
  std::unique_ptr<Regex> split;
  std::string splitPattern;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache;
};

// Throws RunError if `s` is not valid UTF-8.
void checkUtf8(const std::string &s, const std::string &what);

} // namespace qwen3c_rt

#endif
