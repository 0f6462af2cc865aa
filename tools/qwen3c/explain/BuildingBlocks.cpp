//===- BuildingBlocks.cpp - the blocks of Qwen3 and their formulas ------------===//
#include "tools/qwen3c/explain/BuildingBlocks.h"

namespace q3c::explain {

const std::vector<BuildingBlock> &buildingBlocks() {
  static const std::vector<BuildingBlock> blocks = {
      {"embedding", "Embedding",
       "x[t] = E[token_t]: one row of E [vocab_size, hidden_size] per token (a gather, no arithmetic)",
       {"vocab_size", "hidden_size", "torch_dtype"},
       {"model.embed_tokens"}},
      {"rms-norm", "RMSNorm",
       "y = x / sqrt(mean(x^2) + eps) * g over the hidden_size values of a token; before attention, before the "
       "MLP and after the last layer",
       {"hidden_size", "rms_norm_eps"},
       {"input_layernorm", "post_attention_layernorm", "model.norm"}},
      {"qkv", "Q, K and V projections",
       "q = h Wq^T, k = h Wk^T, v = h Wv^T with Wq [num_attention_heads*head_dim, hidden_size] and Wk, Wv "
       "[num_key_value_heads*head_dim, hidden_size]",
       {"hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim", "attention_bias"},
       {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}},
      {"qk-norm", "QK-norm",
       "an RMSNorm over the head_dim values of every q head and every k head, with its own weights (q_norm, "
       "k_norm), before RoPE: Qwen3's addition to the Qwen2 layer",
       {"head_dim", "rms_norm_eps"},
       {"self_attn.q_norm", "self_attn.k_norm"}},
      {"rope", "RoPE",
       "(a, b) <- (a cos(p w_i) - b sin(p w_i), b cos(p w_i) + a sin(p w_i)) for the two halves a, b of a head at "
       "position p, w_i = rope_theta^(-2i/head_dim) (YaRN's scaled frequencies with rope_scaling)",
       {"rope_theta", "head_dim", "max_position_embeddings", "rope_scaling"},
       {"self_attn.rotary_emb.q", "self_attn.rotary_emb.k"}},
      {"kv-write", "KV-cache write",
       "K[layer, kv_head, pos + t] = k[t, kv_head] and the same for v: the cache every later token attends to",
       {"num_hidden_layers", "num_key_value_heads", "head_dim"},
       {"self_attn.k_cache", "self_attn.v_cache"}},
      {"attention", "Grouped-query attention",
       "o = softmax(q K^T / sqrt(head_dim), causal) V; num_attention_heads / num_key_value_heads query heads share "
       "each K/V head",
       {"num_attention_heads", "num_key_value_heads", "head_dim", "use_sliding_window"},
       {"self_attn.attention"}},
      {"o-proj", "Output projection",
       "a = o Wo^T with Wo [hidden_size, num_attention_heads*head_dim]",
       {"hidden_size", "num_attention_heads", "head_dim"},
       {"self_attn.o_proj"}},
      {"residual", "Residual adds",
       "x = x + a after attention and x = x + f after the MLP",
       {"hidden_size"},
       {"attention_residual", "mlp_residual"}},
      {"swiglu", "SwiGLU FFN",
       "f = (silu(h Wg^T) * (h Wu^T)) Wd^T, silu(z) = z / (1 + e^-z); Wg, Wu [intermediate_size, hidden_size]",
       {"hidden_size", "intermediate_size", "hidden_act"},
       {"mlp.gate_proj", "mlp.up_proj", "mlp.act_fn", "mlp.down_proj"},
       false, true},
      {"moe-router", "MoE router",
       "p = softmax(h Wr^T) over num_experts; the top num_experts_per_tok (ties: the lower index), "
       "renormalised to sum 1 when norm_topk_prob",
       {"num_experts", "num_experts_per_tok", "norm_topk_prob"},
       {"mlp.gate", "mlp.router"},
       true},
      {"moe-experts", "MoE experts",
       "f = sum over the chosen e of p_e * SwiGLU_e(h), each expert an FFN of moe_intermediate_size",
       {"num_experts", "num_experts_per_tok", "moe_intermediate_size", "decoder_sparse_step", "mlp_only_layers"},
       {"mlp.experts"},
       true},
      {"lm-head", "LM head",
       "logits = x W^T with W = lm_head [vocab_size, hidden_size], or the embedding when tie_word_embeddings",
       {"vocab_size", "hidden_size", "tie_word_embeddings"},
       {"lm_head"}},
  };
  return blocks;
}

bool computes(const BuildingBlock &block, const std::string &name) {
  for (const std::string &m : block.modules) {
    if (name == m) return true;
    if (name.size() > m.size() && name.compare(name.size() - m.size(), m.size(), m) == 0 &&
        name[name.size() - m.size() - 1] == '.')
      return true;
  }
  return false;
}

} // namespace q3c::explain
