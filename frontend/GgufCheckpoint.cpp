//===- GgufCheckpoint.cpp - Checkpoint::open for a GGUF file ----------------===//
#include "frontend/GgufCheckpoint.h"
#include "frontend/Error.h"
#include "frontend/GgufNames.h"
#include "frontend/TensorInventory.h"

#include <nlohmann/json.hpp>

#include <set>

namespace q3c {
namespace {

// llama.cpp's token types (llama_token_type).
enum TokenType : int64_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

// Qwen2's pre-tokenizer split (tokenizer.ggml.pre "qwen2"), as its tokenizer.json spells it.
constexpr const char *kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Metadata lookups that name the file and the key.
struct Keys {
  const GgufFile &f;

  int64_t integer(const std::string &key) const {
    auto it = f.integers.find(key);
    if (it != f.integers.end()) return it->second;
    if (f.integerArrays.count(key)) fail(f.path, ": '", key, "' varies per layer, which qwen3c does not support");
    fail(f.path, ": missing key '", key, "'");
  }
  std::optional<int64_t> optionalInteger(const std::string &key) const {
    if (!f.has(key)) return std::nullopt;
    return integer(key);
  }
  std::optional<double> number(const std::string &key) const {
    if (auto it = f.floats.find(key); it != f.floats.end()) return it->second;
    if (auto it = f.integers.find(key); it != f.integers.end()) return double(it->second);
    if (f.has(key)) fail(f.path, ": '", key, "' is not a number");
    return std::nullopt;
  }
  std::string string(const std::string &key) const {
    auto it = f.strings.find(key);
    if (it == f.strings.end()) fail(f.path, ": missing string key '", key, "'");
    return it->second;
  }
  const std::vector<std::string> &strings(const std::string &key) const {
    auto it = f.stringArrays.find(key);
    if (it == f.stringArrays.end()) fail(f.path, ": missing string array '", key, "'");
    return it->second;
  }
};

} // namespace

ModelConfig ggufModelConfig(const GgufFile &f) {
  Keys k{f};
  const std::string arch = k.string("general.architecture");
  if (arch != "qwen3" && arch != "qwen3moe")
    fail(f.path, ": general.architecture '", arch, "' is not qwen3 or qwen3moe");
  const std::string a = arch + ".";
  // The config.json these keys stand for, checked as one would be.
  nlohmann::json j;
  j["architectures"] = {arch == "qwen3" ? "Qwen3ForCausalLM" : "Qwen3MoeForCausalLM"};
  j["hidden_size"] = k.integer(a + "embedding_length");
  j["num_hidden_layers"] = k.integer(a + "block_count");
  j["num_attention_heads"] = k.integer(a + "attention.head_count");
  j["num_key_value_heads"] = k.optionalInteger(a + "attention.head_count_kv").value_or(j["num_attention_heads"].get<int64_t>());
  if (auto keyLength = k.optionalInteger(a + "attention.key_length")) {
    j["head_dim"] = *keyLength;
    if (auto v = k.optionalInteger(a + "attention.value_length"); v && *v != *keyLength)
      fail(f.path, ": ", a, "attention.value_length ", *v, " differs from key_length ", *keyLength, " (Qwen3's are equal)");
  }
  j["max_position_embeddings"] = k.integer(a + "context_length");
  if (auto eps = k.number(a + "attention.layer_norm_rms_epsilon")) j["rms_norm_eps"] = *eps;
  else fail(f.path, ": missing key '", a, "attention.layer_norm_rms_epsilon'");
  j["rope_theta"] = k.number(a + "rope.freq_base").value_or(10000.0);
  // YaRN under llama.cpp's keys; its attn_factor multiplies YaRN's default
  // attention factor (llama.cpp's yarn_attn_factor), as the HF config's
  // attention_factor replaces it.
  if (auto scaling = f.string(a + "rope.scaling.type"); scaling && *scaling != "none") {
    if (*scaling != "yarn")
      fail(f.path, ": ", a, "rope.scaling.type '", *scaling, "' is not supported (yarn or none)");
    auto factor = k.number(a + "rope.scaling.factor");
    if (!factor) fail(f.path, ": missing key '", a, "rope.scaling.factor' (YaRN)");
    nlohmann::json rs = {{"rope_type", "yarn"}, {"factor", *factor}};
    if (auto original = k.optionalInteger(a + "rope.scaling.original_context_length"))
      rs["original_max_position_embeddings"] = *original;
    if (auto v = k.number(a + "rope.scaling.yarn_beta_fast")) rs["beta_fast"] = *v;
    if (auto v = k.number(a + "rope.scaling.yarn_beta_slow")) rs["beta_slow"] = *v;
    if (auto v = k.number(a + "rope.scaling.attn_factor"))
      rs["attention_factor"] = *v * q3::yarnDefaultAttentionFactor(*factor);
    j["rope_scaling"] = rs;
  }
  const GgufTensor *embed = f.tensor("token_embd.weight");
  if (!embed || embed->dims.size() != 2) fail(f.path, ": missing the 2-D tensor 'token_embd.weight'");
  j["vocab_size"] = embed->dims[1];
  j["tie_word_embeddings"] = f.tensor("output.weight") == nullptr;
  if (auto bos = k.optionalInteger("tokenizer.ggml.bos_token_id")) j["bos_token_id"] = *bos;
  std::vector<int64_t> eos;
  for (const char *key : {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"})
    if (auto id = k.optionalInteger(key); id && std::find(eos.begin(), eos.end(), *id) == eos.end()) eos.push_back(*id);
  j["eos_token_id"] = eos;
  if (arch == "qwen3moe") {
    j["num_experts"] = k.integer(a + "expert_count");
    j["num_experts_per_tok"] = k.integer(a + "expert_used_count");
    j["moe_intermediate_size"] = k.integer(a + "expert_feed_forward_length");
    // llama.cpp's qwen3moe graph always renormalises the top-k weights.
    j["norm_topk_prob"] = k.optionalInteger(a + "expert_weights_norm").value_or(1) != 0;
    // Layers with a dense FFN (export-gguf writes them; llama.cpp's files have none).
    std::vector<int64_t> dense;
    for (int64_t l = 0; l < j["num_hidden_layers"].get<int64_t>(); ++l)
      if (!f.tensor("blk." + std::to_string(l) + ".ffn_gate_inp.weight")) dense.push_back(l);
    j["mlp_only_layers"] = dense;
  }
  if (auto ff = k.optionalInteger(a + "feed_forward_length")) j["intermediate_size"] = *ff;
  else if (arch == "qwen3") fail(f.path, ": missing key '", a, "feed_forward_length'");
  return ModelConfig::fromJson(j, f.path);
}

TokenizerJson ggufTokenizerJson(const GgufFile &f) {
  Keys k{f};
  const std::string model = k.string("tokenizer.ggml.model");
  if (model != "gpt2") fail(f.path, ": tokenizer.ggml.model '", model, "' is not gpt2 (Qwen3's byte-level BPE)");
  const std::string pre = f.string("tokenizer.ggml.pre").value_or("(none)");
  if (pre != "qwen2") fail(f.path, ": tokenizer.ggml.pre '", pre, "' is not qwen2 (Qwen3's pre-tokenizer)");
  const auto &tokens = k.strings("tokenizer.ggml.tokens");
  const auto &merges = k.strings("tokenizer.ggml.merges");
  std::vector<int64_t> types(tokens.size(), kNormal);
  if (auto it = f.integerArrays.find("tokenizer.ggml.token_type"); it != f.integerArrays.end()) {
    if (it->second.size() != tokens.size())
      fail(f.path, ": tokenizer.ggml.token_type has ", it->second.size(), " entries for ", tokens.size(), " tokens");
    types = it->second;
  }
  nlohmann::json vocab = nlohmann::json::object(), added = nlohmann::json::array();
  std::set<std::string> seen;
  for (size_t id = 0; id < tokens.size(); ++id) {
    const std::string &t = tokens[id];
    if (types[id] == kUnused) continue;
    if (!seen.insert(t).second) fail(f.path, ": tokenizer.ggml.tokens has '", t, "' twice (the second at id ", id, ")");
    if (types[id] == kControl || types[id] == kUserDefined)
      added.push_back({{"id", id}, {"content", t}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                       {"normalized", false}, {"special", types[id] == kControl}});
    else
      vocab[t] = id;
  }
  nlohmann::json byteLevel = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
  nlohmann::json j = {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"}, {"pattern", {{"Regex", kQwen2Split}}}, {"behavior", "Isolated"}, {"invert", false}}, byteLevel}}}},
      {"post_processor", byteLevel},
      {"decoder", byteLevel},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", ""},
        {"end_of_word_suffix", ""}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
        {"vocab", vocab}, {"merges", merges}}}};
  return {f.path + " (tokenizer.ggml.*)", j.dump()};
}

std::optional<ChatTemplateFile> ggufChatTemplate(const GgufFile &f) {
  auto t = f.string("tokenizer.chat_template");
  if (!t) return std::nullopt;
  return ChatTemplateFile{f.path + " (tokenizer.chat_template)", *t};
}

Checkpoint Checkpoint::openGguf(const std::string &path) {
  Checkpoint ck;
  ck.dir_ = path;
  ck.gguf_ = MappedGguf::open(path);
  const GgufFile &f = ck.gguf_->file();
  ck.config_ = ggufModelConfig(f);
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto &spec : expectedTensors(ck.config_)) shapes[spec.name] = spec.shape;

  std::set<std::string> used;
  for (const auto &name : ggufTensorNames(ck.config_)) {
    const GgufTensor *t = f.tensor(name.gguf);
    if (!t) fail(path, ": missing tensor '", name.gguf, "' (for ", name.parts[0], name.parts.size() > 1 ? " and the other experts" : "", ")");
    used.insert(name.gguf);
    auto dtype = dtypeOfGgmlType(t->type->id);
    if (!dtype)
      fail(path, ": tensor '", name.gguf, "' is ", t->type->name,
           ", which qwen3c does not read (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)");
    // ggml's dims are innermost first; a stack's outermost one counts experts.
    const std::vector<int64_t> &part = shapes.at(name.parts[0]);
    std::vector<int64_t> expected(part.rbegin(), part.rend());
    if (name.parts.size() > 1) expected.push_back(int64_t(name.parts.size()));
    if (t->dims != expected) {
      std::vector<int64_t> got(t->dims.rbegin(), t->dims.rend()), want(expected.rbegin(), expected.rend());
      fail(path, ": tensor '", name.gguf, "' has shape ", shapeString(got), ", expected ", shapeString(want), " from its metadata");
    }
    const uint64_t partBytes = t->bytes / name.parts.size();
    for (size_t e = 0; e < name.parts.size(); ++e) {
      TensorView v;
      v.name = name.parts.size() > 1 ? name.gguf + " (expert " + std::to_string(e) + ")" : name.gguf;
      v.file = path;
      v.dtype = *dtype;
      v.shape = part;
      v.data = ck.gguf_->data(*t) + e * partBytes;
      v.nbytes = size_t(partBytes);
      ck.ggufViews_.push_back(std::move(v));
      ck.byName_[name.parts[e]] = &ck.ggufViews_.back();
    }
  }
  for (const auto &t : f.tensors)
    if (!used.count(t.name)) fail(path, ": unexpected tensor '", t.name, "' (not part of a ", ck.config_.architecture, " with this metadata)");
  return ck;
}

} // namespace q3c
