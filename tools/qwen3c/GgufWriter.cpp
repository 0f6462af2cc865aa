//===- GgufWriter.cpp -------------------------------------------------------===//
#include "tools/qwen3c/GgufWriter.h"
#include "frontend/AtomicFile.h"
#include "frontend/Checkpoint.h"
#include "frontend/DType.h"
#include "frontend/Error.h"
#include "frontend/BlockQuants.h"
#include "frontend/GgufFile.h"
#include "frontend/GgufNames.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <set>

namespace q3c {
namespace {

// GGUF value types (gguf.h).
enum : uint32_t { kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7, kString = 8, kArray = 9 };
constexpr uint64_t kAlign = 32;

class Buffer {
public:
  std::string bytes;
  template <typename T> void raw(T v) { bytes.append(reinterpret_cast<const char *>(&v), sizeof v); }
  void str(const std::string &s) {
    raw<uint64_t>(s.size());
    bytes += s;
  }
};

// The metadata section, counting its entries.
class Metadata {
public:
  Buffer buf;
  uint64_t count = 0;
  void key(const std::string &k, uint32_t type) {
    buf.str(k);
    buf.raw(type);
    ++count;
  }
  void u32(const std::string &k, int64_t v) {
    key(k, kU32);
    buf.raw<uint32_t>(uint32_t(v));
  }
  void f32(const std::string &k, double v) {
    key(k, kF32);
    buf.raw<float>(float(v));
  }
  void boolean(const std::string &k, bool v) {
    key(k, kBool);
    buf.raw<uint8_t>(v);
  }
  void str(const std::string &k, const std::string &v) {
    key(k, kString);
    buf.str(v);
  }
  void strings(const std::string &k, const std::vector<std::string> &v) {
    key(k, kArray);
    buf.raw(kString);
    buf.raw<uint64_t>(v.size());
    for (const auto &s : v) buf.str(s);
  }
  void i32s(const std::string &k, const std::vector<int32_t> &v) {
    key(k, kArray);
    buf.raw(kI32);
    buf.raw<uint64_t>(v.size());
    for (int32_t x : v) buf.raw(x);
  }
};

// One GGUF tensor: its llama.cpp name and shape (ggml order: innermost
// first) and the checkpoint tensors it is made of (several for stacked
// experts, concatenated along the outermost dimension).
struct OutTensor {
  std::string name;
  std::vector<uint64_t> ne;
  std::vector<const TensorView *> parts;
  uint64_t offset = 0;
  uint64_t elements() const {
    uint64_t n = 1;
    for (uint64_t d : ne) n *= d;
    return n;
  }
};

void addTokenizer(Metadata &md, const Checkpoint &ck) {
  auto tokenizer = ck.tokenizerJson();
  if (!tokenizer) fail(ck.dir(), ": no tokenizer.json (llama.cpp needs the vocabulary)");
  const std::string *path = &tokenizer->source;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(tokenizer->json);
  } catch (const nlohmann::json::exception &e) {
    fail(*path, ": malformed JSON: ", e.what());
  }
  const int64_t V = ck.config().vocabSize;
  std::vector<std::string> tokens(static_cast<size_t>(V));
  std::vector<int32_t> types(size_t(V), 5); // unused, until named below
  for (int64_t i = 0; i < V; ++i) tokens[size_t(i)] = "[PAD" + std::to_string(i) + "]";
  try {
    for (auto it = j.at("model").at("vocab").begin(); it != j.at("model").at("vocab").end(); ++it) {
      int64_t id = it.value().get<int64_t>();
      if (id >= 0 && id < V) tokens[size_t(id)] = it.key(), types[size_t(id)] = 1;
    }
    if (j.contains("added_tokens"))
      for (const auto &a : j.at("added_tokens")) {
        int64_t id = a.at("id").get<int64_t>();
        if (id >= 0 && id < V)
          tokens[size_t(id)] = a.at("content").get<std::string>(), types[size_t(id)] = a.value("special", false) ? 3 : 4;
      }
    // Merges whose parts are in the (possibly truncated) vocabulary.
    std::set<std::string> known(tokens.begin(), tokens.end());
    std::vector<std::string> merges;
    for (const auto &m : j.at("model").at("merges")) {
      std::string a, b;
      if (m.is_string()) {
        std::string s = m.get<std::string>();
        size_t sp = s.find(' ');
        if (sp == std::string::npos) continue;
        a = s.substr(0, sp), b = s.substr(sp + 1);
      } else {
        a = m.at(0).get<std::string>(), b = m.at(1).get<std::string>();
      }
      if (known.count(a) && known.count(b) && known.count(a + b)) merges.push_back(a + " " + b);
    }
    md.str("tokenizer.ggml.model", "gpt2");
    md.str("tokenizer.ggml.pre", "qwen2");
    md.strings("tokenizer.ggml.tokens", tokens);
    md.i32s("tokenizer.ggml.token_type", types);
    md.strings("tokenizer.ggml.merges", merges);
  } catch (const nlohmann::json::exception &e) {
    fail(*path, ": unexpected layout: ", e.what());
  }
  const auto &c = ck.config();
  int64_t eos = c.eosTokenIds.empty() ? 0 : c.eosTokenIds[0];
  md.u32("tokenizer.ggml.eos_token_id", eos);
  md.u32("tokenizer.ggml.padding_token_id", eos);
  md.u32("tokenizer.ggml.bos_token_id", c.bosTokenId >= 0 ? c.bosTokenId : eos);
  md.boolean("tokenizer.ggml.add_bos_token", false);
  if (auto chat = ck.chatTemplate()) md.str("tokenizer.chat_template", chat->source);
}

} // namespace

void writeGguf(const std::string &checkpointDir, const std::string &outPath, GgufType type) {
  Checkpoint ck = Checkpoint::open(checkpointDir);
  const ModelConfig &c = ck.config();
  const bool moe = c.moe;
  const std::string arch = ggufArchitecture(c);

  Metadata md;
  md.str("general.architecture", arch);
  md.str("general.name", checkpointDir);
  md.u32("general.alignment", kAlign);
  // llama_ftype: ALL_F32 0, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7, MOSTLY_BF16 32.
  md.u32("general.file_type", type == GgufType::BF16 ? 32 : type == GgufType::Q8_0 ? 7 : type == GgufType::Q4_0 ? 2 : 0);
  md.u32(arch + ".block_count", c.numLayers);
  md.u32(arch + ".context_length", c.maxPositionEmbeddings);
  md.u32(arch + ".embedding_length", c.hiddenSize);
  md.u32(arch + ".feed_forward_length", c.intermediateSize);
  md.u32(arch + ".attention.head_count", c.numHeads);
  md.u32(arch + ".attention.head_count_kv", c.numKVHeads);
  md.u32(arch + ".attention.key_length", c.headDim);
  md.u32(arch + ".attention.value_length", c.headDim);
  md.f32(arch + ".rope.freq_base", c.ropeTheta);
  md.f32(arch + ".attention.layer_norm_rms_epsilon", c.rmsNormEps);
  if (c.yarn) { // llama.cpp's keys; attn_factor multiplies YaRN's default attention factor
    md.str(arch + ".rope.scaling.type", "yarn");
    md.f32(arch + ".rope.scaling.factor", c.yarn->factor);
    md.u32(arch + ".rope.scaling.original_context_length", c.yarn->originalContext);
    md.f32(arch + ".rope.scaling.yarn_beta_fast", c.yarn->betaFast);
    md.f32(arch + ".rope.scaling.yarn_beta_slow", c.yarn->betaSlow);
    const double standard = q3::yarnDefaultAttentionFactor(c.yarn->factor);
    if (std::fabs(c.yarn->attentionFactor - standard) > 1e-12 * standard)
      md.f32(arch + ".rope.scaling.attn_factor", c.yarn->attentionFactor / standard);
  }
  if (moe) {
    md.u32(arch + ".expert_count", c.numExperts);
    md.u32(arch + ".expert_used_count", c.numExpertsPerTok);
    md.u32(arch + ".expert_feed_forward_length", c.moeIntermediateSize);
    md.boolean(arch + ".expert_weights_norm", c.normTopkProb);
  }
  addTokenizer(md, ck);

  // Tensors under llama.cpp's names; ggml shapes are the reverse of ours.
  std::vector<OutTensor> tensors;
  for (const auto &name : ggufTensorNames(c)) {
    OutTensor t;
    t.name = name.gguf;
    for (const auto &p : name.parts) t.parts.push_back(&ck.tensor(p));
    const auto &shape = t.parts[0]->shape;
    t.ne.assign(shape.rbegin(), shape.rend());
    if (name.parts.size() > 1) t.ne.push_back(name.parts.size());
    tensors.push_back(t);
  }

  // Header: norms and other 1-D tensors stay f32, as llama.cpp's converter
  // keeps them, and so does the MoE router (llama-quantize leaves
  // ffn_gate_inp alone).
  Buffer info;
  uint64_t offset = 0;
  std::vector<DType> types;
  for (auto &t : tensors) {
    const bool matrix = t.ne.size() > 1 && t.name.find("ffn_gate_inp") == std::string::npos;
    const DType stored = !matrix                  ? DType::F32
                         : type == GgufType::BF16 ? DType::BF16
                         : type == GgufType::Q8_0 ? DType::Q8_0
                         : type == GgufType::Q4_0 ? DType::Q4_0
                                                  : DType::F32;
    types.push_back(stored);
    t.offset = offset;
    offset += (dtypeBytes(stored, t.elements()) + kAlign - 1) / kAlign * kAlign;
    info.str(t.name);
    info.raw<uint32_t>(uint32_t(t.ne.size()));
    for (uint64_t d : t.ne) info.raw<uint64_t>(d);
    info.raw(ggmlTypeOf(stored));
    info.raw<uint64_t>(t.offset);
  }
  Buffer head;
  head.bytes = "GGUF";
  head.raw<uint32_t>(3);
  head.raw<uint64_t>(tensors.size());
  head.raw<uint64_t>(md.count);
  head.bytes += md.buf.bytes + info.bytes;
  head.bytes.resize((head.bytes.size() + kAlign - 1) / kAlign * kAlign, '\0');

  AtomicFile out(outPath);
  out.write(head.bytes);
  std::vector<char> chunk;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto &t = tensors[i];
    size_t written = 0;
    for (const TensorView *v : t.parts) {
      const size_t n = size_t(v->numel());
      chunk.resize(dtypeBytes(types[i], n));
      if (types[i] == v->dtype) {
        std::memcpy(chunk.data(), v->data, chunk.size());
      } else if (isBlockQuantised(types[i])) { // rows of whole blocks: quantised in one run
        std::vector<float> f = v->toF32();
        auto *blocks = reinterpret_cast<uint8_t *>(chunk.data());
        if (types[i] == DType::Q8_0) quantiseRowQ8_0(f.data(), int64_t(n), blocks);
        else quantiseRowQ4_0(f.data(), int64_t(n), blocks);
      } else {
        std::vector<float> f = v->toF32();
        if (types[i] == DType::F32) {
          std::memcpy(chunk.data(), f.data(), chunk.size());
        } else {
          auto *dst = reinterpret_cast<uint16_t *>(chunk.data());
          for (size_t k = 0; k < n; ++k) dst[k] = f32ToBf16(f[k]);
        }
      }
      out.write(chunk.data(), chunk.size());
      written += chunk.size();
    }
    size_t pad = (written + kAlign - 1) / kAlign * kAlign - written;
    static const char zeros[kAlign] = {};
    out.write(zeros, pad);
  }
  out.commit();
}

} // namespace q3c
