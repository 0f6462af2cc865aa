//===- GgufNames.cpp --------------------------------------------------------===//
#include "frontend/GgufNames.h"
#include "frontend/ModelConfig.h"

namespace q3c {

std::string ggufArchitecture(const ModelConfig &c) { return c.moe ? "qwen3moe" : "qwen3"; }

std::vector<GgufTensorName> ggufTensorNames(const ModelConfig &c) {
  std::vector<GgufTensorName> names;
  auto add = [&](const std::string &gguf, std::vector<std::string> parts) { names.push_back({gguf, std::move(parts)}); };
  add("token_embd.weight", {"model.embed_tokens.weight"});
  add("output_norm.weight", {"model.norm.weight"});
  if (!c.tieWordEmbeddings) add("output.weight", {"lm_head.weight"});
  for (int64_t l = 0; l < c.numLayers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".", b = "blk." + std::to_string(l) + ".";
    add(b + "attn_norm.weight", {p + "input_layernorm.weight"});
    add(b + "attn_q.weight", {p + "self_attn.q_proj.weight"});
    add(b + "attn_k.weight", {p + "self_attn.k_proj.weight"});
    add(b + "attn_v.weight", {p + "self_attn.v_proj.weight"});
    add(b + "attn_output.weight", {p + "self_attn.o_proj.weight"});
    add(b + "attn_q_norm.weight", {p + "self_attn.q_norm.weight"});
    add(b + "attn_k_norm.weight", {p + "self_attn.k_norm.weight"});
    add(b + "ffn_norm.weight", {p + "post_attention_layernorm.weight"});
    if (c.isSparseLayer(l)) {
      add(b + "ffn_gate_inp.weight", {p + "mlp.gate.weight"});
      for (const char *proj : {"gate", "up", "down"}) {
        std::vector<std::string> experts;
        for (int64_t e = 0; e < c.numExperts; ++e)
          experts.push_back(p + "mlp.experts." + std::to_string(e) + "." + proj + "_proj.weight");
        add(b + "ffn_" + proj + "_exps.weight", experts);
      }
    } else {
      for (const char *proj : {"gate", "up", "down"})
        add(b + "ffn_" + std::string(proj) + ".weight", {p + "mlp." + proj + "_proj.weight"});
    }
  }
  return names;
}

} // namespace q3c
