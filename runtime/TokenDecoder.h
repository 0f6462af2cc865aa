//===- TokenDecoder.h - token ids back to text (byte-level BPE) --*- C++ -*-===//
//
// The decoding half of the Qwen3 tokenizer: vocabulary and added tokens from
// tokenizer.json, GPT-2's byte-to-unicode map undone, invalid UTF-8 replaced
// by U+FFFD as Hugging Face's decoder does. Encoding comes with the full
// tokenizer.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_TOKENDECODER_H
#define QWEN3C_RUNTIME_TOKENDECODER_H

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace qwen3c_rt {

class TokenDecoder {
public:
  // Parses tokenizer.json text; throws RunError naming `source` when it is
  // not a byte-level BPE tokenizer file.
  static TokenDecoder fromJson(const std::string &json, const std::string &source);
  // From an already parsed tokenizer.json (a nlohmann::json).
  static TokenDecoder fromParsed(const nlohmann::json &j, const std::string &source);
  static TokenDecoder fromFile(const std::string &path);
  static TokenDecoder fromPieces(std::vector<std::string> pieces) {
    TokenDecoder d;
    d.pieces = std::move(pieces);
    return d;
  }

  // The raw bytes of one token (may be part of a UTF-8 character).
  const std::string &bytes(int32_t id) const;
  // Text of a sequence, invalid UTF-8 replaced by U+FFFD.
  std::string decode(const std::vector<int32_t> &ids) const;
  size_t size() const { return pieces.size(); }

private:
  std::vector<std::string> pieces; // id -> bytes
};

// Replaces each invalid UTF-8 sequence by U+FFFD.
std::string utf8Lossy(const std::string &bytes);

// Streams token bytes as text: add() returns what can be printed now,
// holding back a character whose bytes have not all arrived (a character can
// span several tokens); finish() returns the rest.
class Utf8Stream {
public:
  std::string add(const std::string &bytes);
  std::string finish();

private:
  std::string pending;
};

} // namespace qwen3c_rt

#endif
