//===- Tokenizer.cpp --------------------------------------------------------===//
#include "runtime/Tokenizer.h"
#include "runtime/Generate.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <nlohmann/json.hpp>
#include <pcre2.h>
#include <utf8proc.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace qwen3c_rt {

struct Tokenizer::Regex {
  pcre2_code *code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

Tokenizer::~Tokenizer() = default;

namespace {

std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xE0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  }
  return s;
}

// The regex of the first Split pre-tokenizer (Qwen3: in a Sequence).
std::string findSplitPattern(const nlohmann::json &pre) {
  if (!pre.is_object()) return "";
  if (pre.value("type", "") == "Split" && pre.contains("pattern") && pre["pattern"].contains("Regex"))
    return pre["pattern"]["Regex"].get<std::string>();
  if (pre.contains("pretokenizers"))
    for (const auto &p : pre["pretokenizers"]) {
      std::string s = findSplitPattern(p);
      if (!s.empty()) return s;
    }
  return "";
}

} // namespace

void checkUtf8(const std::string &s, const std::string &what) {
  if (utf8Lossy(s) == s) return;
  // Find the first bad byte for the message.
  size_t i = 0;
  while (i < s.size()) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t *>(s.data() + i),
                                          utf8proc_ssize_t(s.size() - i), &cp);
    if (n < 0) break;
    i += size_t(n);
  }
  throw RunError(what + ": invalid UTF-8 at byte " + std::to_string(i));
}

std::unique_ptr<Tokenizer> Tokenizer::fromJson(const std::string &text, const std::string &source) {
  try {
    return fromJsonUnchecked(text, source);
  } catch (const nlohmann::json::exception &e) { // a key of the wrong type
    throw RunError(source + ": malformed tokenizer.json: " + e.what());
  }
}

std::unique_ptr<Tokenizer> Tokenizer::fromJsonUnchecked(const std::string &text, const std::string &source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception &e) {
    throw RunError(source + ": malformed JSON: " + e.what());
  }
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  t->decoder = TokenDecoder::fromParsed(j, source);
  const auto &model = j["model"];
  if (model.value("type", "") != "BPE") throw RunError(source + ": model.type is not BPE");
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it)
    t->vocab.emplace(it.key(), it.value().get<int32_t>());
  if (!model.contains("merges") || !model["merges"].is_array()) throw RunError(source + ": no model.merges");
  int32_t rank = 0;
  for (const auto &m : model["merges"]) {
    std::string key;
    if (m.is_string()) key = m.get<std::string>();
    else if (m.is_array() && m.size() == 2) key = m[0].get<std::string>() + " " + m[1].get<std::string>();
    else throw RunError(source + ": malformed merge " + m.dump());
    t->ranks.emplace(std::move(key), rank++);
  }
  if (j.contains("added_tokens")) {
    if (!j["added_tokens"].is_array()) throw RunError(source + ": added_tokens is not a list");
    for (const auto &a : j["added_tokens"]) {
      // at(), not []: a const json's [] on a missing key is undefined behaviour.
      if (!a.is_object() || !a.contains("content") || !a.at("content").is_string() || !a.contains("id") ||
          !a.at("id").is_number_integer())
        throw RunError(source + ": added token " + a.dump() + " lacks a string content or an integer id");
      int64_t id = a.at("id").get<int64_t>();
      if (id < 0 || id > INT32_MAX) throw RunError(source + ": added token id " + std::to_string(id) + " out of range");
      t->added.emplace_back(a.at("content").get<std::string>(), int32_t(id));
    }
  }
  std::sort(t->added.begin(), t->added.end(),
            [](const auto &a, const auto &b) { return a.first.size() > b.first.size(); });
  t->initByteMap();
  std::string pattern = findSplitPattern(j["pre_tokenizer"]);
  if (pattern.empty()) throw RunError(source + ": no Split pre-tokenizer regex");
  t->compileSplit(pattern, source);
  return t;
}

void Tokenizer::initByteMap() { // GPT-2's bytes_to_unicode
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    byteChar[b] = utf8(uint32_t(printable ? b : 256 + extra++));
  }
}

void Tokenizer::compileSplit(const std::string &pattern, const std::string &source) {
  int err;
  PCRE2_SIZE offset;
  splitPattern = pattern;
  split = std::make_unique<Regex>();
  split->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.c_str()), pattern.size(),
                              PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
  if (!split->code) throw RunError(source + ": the split regex does not compile at offset " + std::to_string(offset));
  pcre2_jit_compile(split->code, PCRE2_JIT_COMPLETE); // falls back to the interpreter if unavailable
}

// Binary form: "Q3TOK001", then u32-length-prefixed strings:
// pattern; vocab count, (id, byte-level string)*; merge count, "left right"* in
// rank order; added count, (id, content)*; decoder count, raw bytes* by id.
namespace {
void putU32(std::string &o, uint32_t v) { o.append(reinterpret_cast<const char *>(&v), 4); }
void putStr(std::string &o, const std::string &s) {
  putU32(o, uint32_t(s.size()));
  o += s;
}
struct Reader {
  const char *p, *end;
  const std::string &source;
  uint32_t u32() {
    if (end - p < 4) throw RunError(source + ": truncated tokenizer data");
    uint32_t v;
    std::memcpy(&v, p, 4);
    p += 4;
    return v;
  }
  std::string str() {
    uint32_t n = u32();
    if (uint32_t(end - p) < n) throw RunError(source + ": truncated tokenizer data");
    std::string s(p, n);
    p += n;
    return s;
  }
};
} // namespace

std::string Tokenizer::serialize() const {
  std::string o = "Q3TOK001";
  putStr(o, splitPattern);
  putU32(o, uint32_t(vocab.size()));
  for (const auto &[s, id] : vocab) putU32(o, uint32_t(id)), putStr(o, s);
  std::vector<const std::string *> byRank(ranks.size());
  for (const auto &[s, r] : ranks) byRank[size_t(r)] = &s;
  putU32(o, uint32_t(byRank.size()));
  for (const std::string *s : byRank) putStr(o, *s);
  putU32(o, uint32_t(added.size()));
  for (const auto &[c, id] : added) putU32(o, uint32_t(id)), putStr(o, c);
  putU32(o, uint32_t(decoder.size()));
  for (size_t i = 0; i < decoder.size(); ++i) putStr(o, decoder.bytes(int32_t(i)));
  return o;
}

std::unique_ptr<Tokenizer> Tokenizer::fromBinary(const char *data, size_t size, const std::string &source) {
  if (size < 8 || std::memcmp(data, "Q3TOK001", 8) != 0) throw RunError(source + ": not qwen3c tokenizer data");
  Reader r{data + 8, data + size, source};
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  std::string pattern = r.str();
  uint32_t n = r.u32();
  t->vocab.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    int32_t id = int32_t(r.u32());
    t->vocab.emplace(r.str(), id);
  }
  n = r.u32();
  t->ranks.reserve(n);
  for (uint32_t i = 0; i < n; ++i) t->ranks.emplace(r.str(), int32_t(i));
  n = r.u32();
  for (uint32_t i = 0; i < n; ++i) {
    int32_t id = int32_t(r.u32());
    t->added.emplace_back(r.str(), id);
  }
  n = r.u32();
  std::vector<std::string> pieces(n);
  for (uint32_t i = 0; i < n; ++i) pieces[i] = r.str();
  t->decoder = TokenDecoder::fromPieces(std::move(pieces));
  t->initByteMap();
  t->compileSplit(pattern, source);
  return t;
}

std::unique_ptr<Tokenizer> Tokenizer::fromFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RunError(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return fromJson(ss.str(), path);
}

int32_t Tokenizer::addedTokenId(const std::string &content) const {
  for (const auto &[c, id] : added)
    if (c == content) return id;
  return -1;
}

// BPE on one pre-token: byte-level symbols merged lowest rank first.
void Tokenizer::encodePiece(const std::string &piece, std::vector<int32_t> &out) const {
  if (auto it = cache.find(piece); it != cache.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
    return;
  }
  std::vector<std::string> sym;
  for (unsigned char c : piece) sym.push_back(byteChar[c]);
  std::string key;
  while (sym.size() > 1) {
    int32_t best = INT32_MAX;
    size_t at = 0;
    for (size_t i = 0; i + 1 < sym.size(); ++i) {
      key.assign(sym[i]).append(" ").append(sym[i + 1]);
      auto r = ranks.find(key);
      if (r != ranks.end() && r->second < best) best = r->second, at = i;
    }
    if (best == INT32_MAX) break;
    sym[at] += sym[at + 1];
    sym.erase(sym.begin() + long(at) + 1);
  }
  std::vector<int32_t> ids;
  for (const auto &s : sym) {
    auto v = vocab.find(s);
    if (v == vocab.end()) throw RunError("tokenizer: no vocabulary entry for a byte sequence");
    ids.push_back(v->second);
  }
  if (cache.size() < 200000) cache.emplace(piece, ids);
  out.insert(out.end(), ids.begin(), ids.end());
}

// Text without added tokens: NFC, split regex, BPE per piece.
void Tokenizer::encodeOrdinary(const std::string &raw, std::vector<int32_t> &out) const {
  if (raw.empty()) return;
  utf8proc_uint8_t *nfc = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t *>(raw.data()),
                                    utf8proc_ssize_t(raw.size()), &nfc,
                                    utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) throw RunError(std::string("tokenizer: ") + utf8proc_errmsg(n));
  std::string text(reinterpret_cast<char *>(nfc), size_t(n));
  std::free(nfc);
  // Owned so a piece missing from the vocabulary (RunError) does not leak it.
  std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data *)> owner(
      pcre2_match_data_create_from_pattern(split->code, nullptr), pcre2_match_data_free);
  pcre2_match_data *md = owner.get();
  if (!md) throw std::bad_alloc();
  PCRE2_SIZE pos = 0;
  while (pos < text.size()) {
    int rc = pcre2_match(split->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), pos,
                         PCRE2_NO_UTF_CHECK, md, nullptr);
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    PCRE2_SIZE start = rc >= 0 ? ov[0] : text.size(), end = rc >= 0 ? ov[1] : text.size();
    if (start > pos) encodePiece(text.substr(pos, start - pos), out); // unmatched gap: its own piece
    if (rc < 0) break;
    if (end == start) { // empty match: step one character
      size_t step = 1;
      while (start + step < text.size() && (text[start + step] & 0xC0) == 0x80) ++step;
      encodePiece(text.substr(start, step), out);
      pos = start + step;
      continue;
    }
    encodePiece(text.substr(start, end - start), out);
    pos = end;
  }
}

std::vector<int32_t> Tokenizer::encode(const std::string &text) const {
  checkUtf8(text, "tokenizer input");
  std::vector<int32_t> out;
  size_t start = 0, i = 0;
  while (i < text.size()) {
    const std::pair<std::string, int32_t> *hit = nullptr;
    if (text[i] == '<')
      for (const auto &a : added)
        if (text.compare(i, a.first.size(), a.first) == 0) {
          hit = &a;
          break;
        }
    if (!hit) {
      ++i;
      continue;
    }
    encodeOrdinary(text.substr(start, i - start), out);
    out.push_back(hit->second);
    i += hit->first.size();
    start = i;
  }
  encodeOrdinary(text.substr(start), out);
  return out;
}

} // namespace qwen3c_rt
