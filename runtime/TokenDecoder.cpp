//===- TokenDecoder.cpp -----------------------------------------------------===//
#include "runtime/TokenDecoder.h"
#include "runtime/Generate.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace qwen3c_rt {
namespace {

// GPT-2's bytes_to_unicode, inverted: code point -> byte.
std::vector<int> unicodeToByte() {
  std::vector<int> inv(512, -1);
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    inv[size_t(printable ? b : 256 + extra++)] = b;
  }
  return inv;
}

// Next code point of a valid UTF-8 string (tokenizer.json is valid UTF-8).
uint32_t nextCodePoint(const std::string &s, size_t &i) {
  unsigned char c = (unsigned char)s[i++];
  if (c < 0x80) return c;
  int n = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
  uint32_t cp = c & (0x3F >> n);
  for (int k = 0; k < n && i < s.size(); ++k) cp = (cp << 6) | ((unsigned char)s[i++] & 0x3F);
  return cp;
}

} // namespace

// Like Rust's String::from_utf8_lossy (what Hugging Face's decoder uses): a
// bad or cut-short sequence becomes one U+FFFD covering its valid prefix.
std::string utf8Lossy(const std::string &b) {
  std::string out;
  const size_t n = b.size();
  size_t i = 0;
  while (i < n) {
    unsigned char c = (unsigned char)b[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    size_t good = 0; // continuation bytes accepted
    bool ok = len > 0;
    if (ok && len > 1) {
      uint32_t cp = c & (0x7Fu >> len);
      for (size_t k = 1; k < len; ++k) {
        if (i + k >= n || ((unsigned char)b[i + k] >> 6) != 2) {
          ok = false;
          break;
        }
        cp = (cp << 6) | ((unsigned char)b[i + k] & 0x3F);
        ++good;
      }
      uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
      if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) {
        ok = false;
        good = 0;
      }
    }
    if (!ok) {
      out += "\xEF\xBF\xBD";
      i += 1 + good;
      continue;
    }
    out.append(b, i, len);
    i += len;
  }
  return out;
}

std::string Utf8Stream::add(const std::string &bytes) {
  pending += bytes;
  size_t cut = pending.size();
  // Back up over a trailing incomplete sequence (at most 3 bytes).
  for (size_t back = 1; back <= 3 && back <= pending.size(); ++back) {
    unsigned char c = (unsigned char)pending[pending.size() - back];
    if ((c & 0xC0) == 0x80) continue;
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (need > back) cut = pending.size() - back;
    break;
  }
  std::string out = utf8Lossy(pending.substr(0, cut));
  pending.erase(0, cut);
  return out;
}

std::string Utf8Stream::finish() {
  std::string out = utf8Lossy(pending);
  pending.clear();
  return out;
}

TokenDecoder TokenDecoder::fromJson(const std::string &text, const std::string &source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception &e) {
    throw RunError(source + ": malformed JSON: " + e.what());
  }
  try {
    return fromParsed(j, source);
  } catch (const nlohmann::json::exception &e) { // a key of the wrong type
    throw RunError(source + ": malformed tokenizer.json: " + e.what());
  }
}

TokenDecoder TokenDecoder::fromParsed(const nlohmann::json &j, const std::string &source) {
  if (!j.contains("model") || !j["model"].contains("vocab") || !j["model"]["vocab"].is_object())
    throw RunError(source + ": no model.vocab: not a BPE tokenizer.json");
  static const std::vector<int> inverse = unicodeToByte();
  TokenDecoder d;
  auto place = [&](int64_t id, std::string bytes) {
    if (id < 0 || id > (1 << 24)) throw RunError(source + ": token id " + std::to_string(id) + " out of range");
    if (size_t(id) >= d.pieces.size()) d.pieces.resize(size_t(id) + 1);
    d.pieces[size_t(id)] = std::move(bytes);
  };
  for (auto it = j["model"]["vocab"].begin(); it != j["model"]["vocab"].end(); ++it) {
    if (!it.value().is_number_integer()) throw RunError(source + ": vocab entry '" + it.key() + "' has no integer id");
    const std::string &tok = it.key();
    std::string bytes;
    for (size_t i = 0; i < tok.size();) {
      uint32_t cp = nextCodePoint(tok, i);
      if (cp < inverse.size() && inverse[cp] >= 0) bytes += char(inverse[cp]);
      else throw RunError(source + ": vocab entry '" + tok + "' is not byte-level encoded");
    }
    place(it.value().get<int64_t>(), std::move(bytes));
  }
  if (j.contains("added_tokens") && j["added_tokens"].is_array())
    for (const auto &t : j["added_tokens"])
      if (t.contains("id") && t.contains("content") && t["content"].is_string())
        place(t["id"].get<int64_t>(), t["content"].get<std::string>());
  return d;
}

TokenDecoder TokenDecoder::fromFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RunError(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return fromJson(ss.str(), path);
}

const std::string &TokenDecoder::bytes(int32_t id) const {
  static const std::string empty;
  return id >= 0 && size_t(id) < pieces.size() ? pieces[size_t(id)] : empty;
}

std::string TokenDecoder::decode(const std::vector<int32_t> &ids) const {
  std::string raw;
  for (int32_t id : ids) raw += bytes(id);
  return utf8Lossy(raw);
}

} // namespace qwen3c_rt
