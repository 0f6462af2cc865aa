//===- TensorInventory.cpp - expected tensor names and shapes ---------------===//
#include "frontend/TensorInventory.h"
#include "frontend/ModelConfig.h"

namespace q3c {

std::string expandName(const std::string &pattern, int64_t layer, int64_t expert) {
  std::string out = pattern;
  auto replace = [&](const std::string &key, int64_t v) {
    for (size_t p; (p = out.find(key)) != std::string::npos;)
      out.replace(p, key.size(), std::to_string(v));
  };
  if (layer >= 0) replace("{layer}", layer);
  if (expert >= 0) replace("{expert}", expert);
  return out;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::vector<TensorSpec> expectedTensors(const ModelConfig &c) {
  const int64_t H = c.hiddenSize, D = c.headDim;
  std::vector<TensorSpec> out;
  out.push_back({"model.embed_tokens.weight", {c.vocabSize, H}});
  for (int64_t l = 0; l < c.numLayers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    out.push_back({p + "input_layernorm.weight", {H}});
    out.push_back({p + "self_attn.q_proj.weight", {c.numHeads * D, H}});
    out.push_back({p + "self_attn.k_proj.weight", {c.numKVHeads * D, H}});
    out.push_back({p + "self_attn.v_proj.weight", {c.numKVHeads * D, H}});
    out.push_back({p + "self_attn.o_proj.weight", {H, c.numHeads * D}});
    out.push_back({p + "self_attn.q_norm.weight", {D}});
    out.push_back({p + "self_attn.k_norm.weight", {D}});
    out.push_back({p + "post_attention_layernorm.weight", {H}});
    if (c.isSparseLayer(l)) {
      const int64_t I = c.moeIntermediateSize;
      out.push_back({p + "mlp.gate.weight", {c.numExperts, H}});
      for (int64_t e = 0; e < c.numExperts; ++e) {
        std::string q = p + "mlp.experts." + std::to_string(e) + ".";
        out.push_back({q + "gate_proj.weight", {I, H}});
        out.push_back({q + "up_proj.weight", {I, H}});
        out.push_back({q + "down_proj.weight", {H, I}});
      }
    } else {
      const int64_t I = c.intermediateSize;
      out.push_back({p + "mlp.gate_proj.weight", {I, H}});
      out.push_back({p + "mlp.up_proj.weight", {I, H}});
      out.push_back({p + "mlp.down_proj.weight", {H, I}});
    }
  }
  out.push_back({"model.norm.weight", {H}});
  if (!c.tieWordEmbeddings) out.push_back({"lm_head.weight", {c.vocabSize, H}});
  return out;
}

double decodeWeightElements(const ModelConfig &c) {
  double n = 0;
  for (const auto &t : expectedTensors(c)) {
    if (t.name == "model.embed_tokens.weight" && !c.tieWordEmbeddings) continue;
    double e = double(t.numel());
    if (t.name.find(".experts.") != std::string::npos) e *= double(c.numExpertsPerTok) / double(c.numExperts);
    n += e;
  }
  return n;
}

} // namespace q3c
