// Every q3 verifier and type-inference message, triggered once.
// RUN: qwen3c-opt %s -split-input-file -verify-diagnostics

func.func @weight_empty_name() {
  // expected-error @+1 {{weight name must not be empty}}
  %w = q3.weight "" : tensor<4xf32>
  return
}

// -----

func.func @weight_missing_layer() {
  // expected-error @+1 {{contains {layer} but no layer operand is given}}
  %w = q3.weight "model.layers.{layer}.input_layernorm.weight" : tensor<4xf32>
  return
}

// -----

func.func @weight_stray_layer(%l: index) {
  // expected-error @+1 {{layer operand given but name 'model.norm.weight' has no {layer} placeholder}}
  %w = q3.weight "model.norm.weight" layer %l : tensor<4xf32>
  return
}

// -----

func.func @weight_expert_rank(%l: index) {
  // expected-error @+1 {{{expert} stacks experts on a new leading dimension, so the result needs rank >= 2, got [4]}}
  %w = q3.weight "model.layers.{layer}.mlp.experts.{expert}.x" layer %l : tensor<4xf32>
  return
}

// -----

func.func @embedding_table_rank(%t: tensor<100xf32>, %ids: tensor<4xi32>) {
  // expected-error @+1 {{table must be [vocab, hidden], got [100]}}
  %x = q3.embedding %t[%ids] : tensor<100xf32>, tensor<4xi32> -> tensor<4x16xf32>
  return
}

// -----

func.func @embedding_table_int(%t: tensor<100x16xi8>, %ids: tensor<4xi32>) {
  // expected-error @+1 {{table element type 'i8' is not supported: quantised embedding tables need scales}}
  %x = q3.embedding %t[%ids] : tensor<100x16xi8>, tensor<4xi32> -> tensor<4x16xf32>
  return
}

// -----

func.func @embedding_ids_rank(%t: tensor<100x16xf32>, %ids: tensor<2x2xi32>) {
  // expected-error @+1 {{ids must be [tokens], got [2x2]}}
  %x = q3.embedding %t[%ids] : tensor<100x16xf32>, tensor<2x2xi32> -> tensor<4x16xf32>
  return
}

// -----

func.func @embedding_result(%t: tensor<100x16xf32>, %ids: tensor<4xi32>) {
  // expected-error @+1 {{result [4x8] must be [tokens x hidden] = [4x16]}}
  %x = q3.embedding %t[%ids] : tensor<100x16xf32>, tensor<4xi32> -> tensor<4x8xf32>
  return
}

// -----

func.func @rms_norm_eps(%x: tensor<4x16xf32>, %w: tensor<16xf32>) {
  // expected-error @+1 {{eps must be positive, got 0}}
  %y = q3.rms_norm %x, %w {eps = 0.0 : f64} : tensor<4x16xf32>, tensor<16xf32>
  return
}

// -----

func.func @rms_norm_scalar(%x: tensor<f32>, %w: tensor<16xf32>) {
  // expected-error @+1 {{input must have rank >= 1}}
  %y = q3.rms_norm %x, %w {eps = 1.0e-6 : f64} : tensor<f32>, tensor<16xf32>
  return
}

// -----

func.func @rms_norm_weight_type(%x: tensor<4x16xf32>, %w: tensor<16xi8>) {
  // expected-error @+1 {{weight element type must be f32, bf16 or f16, got 'i8'}}
  %y = q3.rms_norm %x, %w {eps = 1.0e-6 : f64} : tensor<4x16xf32>, tensor<16xi8>
  return
}

// -----

func.func @rms_norm_weight_shape(%x: tensor<4x16xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{weight [8] must be [16], the input's last dimension}}
  %y = q3.rms_norm %x, %w {eps = 1.0e-6 : f64} : tensor<4x16xf32>, tensor<8xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<4x16xf32>, %w: tensor<16xf32>) {
  // expected-error @+1 {{weight must be [out, in], got [16]}}
  %y = q3.linear %x, %w : tensor<4x16xf32>, tensor<16xf32>
  return
}

// -----

func.func @linear_input_rank(%x: tensor<f32>, %w: tensor<8x16xf32>) {
  // expected-error @+1 {{input must have rank >= 1}}
  %y = q3.linear %x, %w : tensor<f32>, tensor<8x16xf32>
  return
}

// -----

func.func @linear_in_features(%x: tensor<4x16xf32>, %w: tensor<8x32xbf16>) {
  // expected-error @+1 {{weight in-features (32) must equal the input's last dimension (16)}}
  %y = q3.linear %x, %w : tensor<4x16xf32>, tensor<8x32xbf16>
  return
}

// -----

func.func @linear_missing_scales(%x: tensor<4x16xf32>, %w: tensor<8x16xi8>) {
  // expected-error @+1 {{weight element type 'i8' is quantised and needs scales}}
  %y = q3.linear %x, %w : tensor<4x16xf32>, tensor<8x16xi8>
  return
}

// -----

func.func @linear_stray_scales(%x: tensor<4x16xf32>, %w: tensor<8x16xbf16>, %s: tensor<8xf32>) {
  // expected-error @+1 {{scales are only allowed with integer (quantised) weights}}
  %y = q3.linear %x, %w scales %s : tensor<8xf32> : tensor<4x16xf32>, tensor<8x16xbf16>
  return
}

// -----

func.func @linear_scales_shape(%x: tensor<4x16xf32>, %w: tensor<8x16xi4>, %s: tensor<8x3xf32>) {
  // expected-error @+1 {{scales [8x3] must be [8] (per row) or [8xG] with G dividing 16 (per group)}}
  %y = q3.linear %x, %w scales %s : tensor<8x3xf32> : tensor<4x16xf32>, tensor<8x16xi4>
  return
}

// -----

func.func @rope_rank(%x: tensor<4x64xf32>, %p: index) {
  // expected-error @+1 {{input must be [tokens, heads, head_dim], got [4x64]}}
  %y = q3.rope %x at %p {theta = 1.0e6 : f64, style = #q3.rope_style<split_halves>} : tensor<4x64xf32>
  return
}

// -----

func.func @rope_odd(%x: tensor<4x2x63xf32>, %p: index) {
  // expected-error @+1 {{head_dim (63) must be even}}
  %y = q3.rope %x at %p {theta = 1.0e6 : f64, style = #q3.rope_style<split_halves>} : tensor<4x2x63xf32>
  return
}

// -----

func.func @rope_theta(%x: tensor<4x2x64xf32>, %p: index) {
  // expected-error @+1 {{theta must be greater than 1, got 5.000000e-01}}
  %y = q3.rope %x at %p {theta = 0.5 : f64, style = #q3.rope_style<split_halves>} : tensor<4x2x64xf32>
  return
}

// -----

func.func @kv_write_cache_rank(%v: tensor<4x2x64xf32>, %c: tensor<2x128x64xf32>, %l: index, %p: index) {
  // expected-error @+1 {{cache must be [layers, kv_heads, capacity, head_dim], got [2x128x64]}}
  %c2 = q3.kv_write %v into %c[%l] at %p : tensor<4x2x64xf32>, tensor<2x128x64xf32>
  return
}

// -----

func.func @kv_write_value_rank(%v: tensor<4x128xf32>, %c: tensor<1x2x128x64xf32>, %l: index, %p: index) {
  // expected-error @+1 {{value must be [tokens, kv_heads, head_dim], got [4x128]}}
  %c2 = q3.kv_write %v into %c[%l] at %p : tensor<4x128xf32>, tensor<1x2x128x64xf32>
  return
}

// -----

func.func @kv_write_heads(%v: tensor<4x4x64xf32>, %c: tensor<1x2x128x64xf32>, %l: index, %p: index) {
  // expected-error @+1 {{value heads x head_dim (4x64) must match the cache's (2x64)}}
  %c2 = q3.kv_write %v into %c[%l] at %p : tensor<4x4x64xf32>, tensor<1x2x128x64xf32>
  return
}

// -----

func.func @kv_write_capacity(%v: tensor<256x2x64xf32>, %c: tensor<1x2x128x64xf32>, %l: index, %p: index) {
  // expected-error @+1 {{chunk of 256 tokens exceeds the cache capacity (128)}}
  %c2 = q3.kv_write %v into %c[%l] at %p : tensor<256x2x64xf32>, tensor<1x2x128x64xf32>
  return
}

// -----

func.func @attention_query_rank(%q: tensor<4x512xf32>, %c: tensor<1x2x128x64xf32>, %l: index, %p: index) {
  // expected-error @+1 {{query must be [tokens, q_heads, head_dim], got [4x512]}}
  %o = q3.attention %q, %c, %c[%l] at %p {scale = 0.125 : f64} : tensor<4x512xf32>, tensor<1x2x128x64xf32>
  return
}

// -----

func.func @attention_cache_rank(%q: tensor<4x8x64xf32>, %c: tensor<2x128x64xf32>, %l: index, %p: index) {
  // expected-error @+1 {{keys must be [layers, kv_heads, capacity, head_dim], got [2x128x64]}}
  %o = q3.attention %q, %c, %c[%l] at %p {scale = 0.125 : f64} : tensor<4x8x64xf32>, tensor<2x128x64xf32>
  return
}

// -----

func.func @attention_groups(%q: tensor<4x6x64xf32>, %c: tensor<1x4x128x64xf32>, %l: index, %p: index) {
  // expected-error @+1 {{q_heads (6) must be a multiple of kv_heads (4)}}
  %o = q3.attention %q, %c, %c[%l] at %p {scale = 0.125 : f64} : tensor<4x6x64xf32>, tensor<1x4x128x64xf32>
  return
}

// -----

func.func @attention_head_dim(%q: tensor<4x8x32xf32>, %c: tensor<1x2x128x64xf32>, %l: index, %p: index) {
  // expected-error @+1 {{query head_dim (32) must equal the cache head_dim (64)}}
  %o = q3.attention %q, %c, %c[%l] at %p {scale = 0.125 : f64} : tensor<4x8x32xf32>, tensor<1x2x128x64xf32>
  return
}

// -----

func.func @attention_scale(%q: tensor<4x8x64xf32>, %c: tensor<1x2x128x64xf32>, %l: index, %p: index) {
  // expected-error @+1 {{scale must be positive, got -1}}
  %o = q3.attention %q, %c, %c[%l] at %p {scale = -1.0 : f64} : tensor<4x8x64xf32>, tensor<1x2x128x64xf32>
  return
}

// -----

func.func @router_rank(%x: tensor<8xf32>) {
  // expected-error @+1 {{logits must be [tokens, experts], got [8]}}
  %w, %e = q3.moe_router %x {top_k = 2 : i64, norm_topk_prob = true} : tensor<8xf32>
  return
}

// -----

func.func @router_k_zero(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{top_k must be >= 1}}
  %w, %e = q3.moe_router %x {top_k = 0 : i64, norm_topk_prob = true} : tensor<4x8xf32>
  return
}

// -----

func.func @router_k_large(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{top_k (9) exceeds the number of experts (8)}}
  %w, %e = q3.moe_router %x {top_k = 9 : i64, norm_topk_prob = false} : tensor<4x8xf32>
  return
}

// -----

func.func @experts_input(%x: tensor<16xf32>, %w: tensor<4x2xf32>, %e: tensor<4x2xi32>, %g: tensor<8x24x16xf32>, %d: tensor<8x16x24xf32>) {
  // expected-error @+1 {{input must be [tokens, hidden], got [16]}}
  %y = q3.moe_experts %x, %w, %e, %g, %g, %d : tensor<16xf32>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<8x24x16xf32>, tensor<8x24x16xf32>, tensor<8x16x24xf32>
  return
}

// -----

func.func @experts_weights(%x: tensor<4x16xf32>, %w: tensor<3x2xf32>, %e: tensor<4x2xi32>, %g: tensor<8x24x16xf32>, %d: tensor<8x16x24xf32>) {
  // expected-error @+1 {{weights [3x2] must be [4xK]}}
  %y = q3.moe_experts %x, %w, %e, %g, %g, %d : tensor<4x16xf32>, tensor<3x2xf32>, tensor<4x2xi32>, tensor<8x24x16xf32>, tensor<8x24x16xf32>, tensor<8x16x24xf32>
  return
}

// -----

func.func @experts_ids(%x: tensor<4x16xf32>, %w: tensor<4x2xf32>, %e: tensor<4x3xi32>, %g: tensor<8x24x16xf32>, %d: tensor<8x16x24xf32>) {
  // expected-error @+1 {{experts [4x3] must have the shape of weights [4x2]}}
  %y = q3.moe_experts %x, %w, %e, %g, %g, %d : tensor<4x16xf32>, tensor<4x2xf32>, tensor<4x3xi32>, tensor<8x24x16xf32>, tensor<8x24x16xf32>, tensor<8x16x24xf32>
  return
}

// -----

func.func @experts_gate_rank(%x: tensor<4x16xf32>, %w: tensor<4x2xf32>, %e: tensor<4x2xi32>, %g: tensor<24x16xf32>, %d: tensor<8x16x24xf32>) {
  // expected-error @+1 {{gate must be [experts, inter, hidden], got [24x16]}}
  %y = q3.moe_experts %x, %w, %e, %g, %g, %d : tensor<4x16xf32>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<24x16xf32>, tensor<24x16xf32>, tensor<8x16x24xf32>
  return
}

// -----

func.func @experts_gate_hidden(%x: tensor<4x16xf32>, %w: tensor<4x2xf32>, %e: tensor<4x2xi32>, %g: tensor<8x24x32xf32>, %d: tensor<8x32x24xf32>) {
  // expected-error @+1 {{gate hidden size (32) must equal the input's (16)}}
  %y = q3.moe_experts %x, %w, %e, %g, %g, %d : tensor<4x16xf32>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<8x24x32xf32>, tensor<8x24x32xf32>, tensor<8x32x24xf32>
  return
}

// -----

func.func @experts_up(%x: tensor<4x16xf32>, %w: tensor<4x2xf32>, %e: tensor<4x2xi32>, %g: tensor<8x24x16xf32>, %u: tensor<8x12x16xf32>, %d: tensor<8x16x24xf32>) {
  // expected-error @+1 {{up [8x12x16] must have the shape of gate [8x24x16]}}
  %y = q3.moe_experts %x, %w, %e, %g, %u, %d : tensor<4x16xf32>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<8x24x16xf32>, tensor<8x12x16xf32>, tensor<8x16x24xf32>
  return
}

// -----

func.func @experts_down(%x: tensor<4x16xf32>, %w: tensor<4x2xf32>, %e: tensor<4x2xi32>, %g: tensor<8x24x16xf32>, %d: tensor<8x24x16xf32>) {
  // expected-error @+1 {{down [8x24x16] must be [8x16x24]}}
  %y = q3.moe_experts %x, %w, %e, %g, %g, %d : tensor<4x16xf32>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<8x24x16xf32>, tensor<8x24x16xf32>, tensor<8x24x16xf32>
  return
}

// -----

func.func @experts_int(%x: tensor<4x16xf32>, %w: tensor<4x2xf32>, %e: tensor<4x2xi32>, %g: tensor<8x24x16xi8>, %d: tensor<8x16x24xi8>) {
  // expected-error @+1 {{gate element type 'i8' is not supported: quantised experts need scales}}
  %y = q3.moe_experts %x, %w, %e, %g, %g, %d : tensor<4x16xf32>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<8x24x16xi8>, tensor<8x24x16xi8>, tensor<8x16x24xi8>
  return
}

// -----

func.func @argmax_scalar(%x: tensor<f32>) {
  // expected-error @+1 {{input must have rank >= 1}}
  %i = q3.argmax %x : tensor<f32>
  return
}

// -----

func.func @argmax_empty(%x: tensor<4x0xf32>) {
  // expected-error @+1 {{cannot take the argmax of an empty dimension}}
  %i = q3.argmax %x : tensor<4x0xf32>
  return
}

// -----

func.func @concat_mismatch(%a: tensor<16x8xf32>, %b: tensor<16x4xf32>) {
  // expected-error @+1 {{input [16x4] does not stack into [32x8]}}
  %w = q3.concat %a, %b : tensor<16x8xf32>, tensor<16x4xf32> -> tensor<32x8xf32>
  return
}

// -----

func.func @concat_rows(%a: tensor<16x8xf32>, %b: tensor<16x8xf32>) {
  // expected-error @+1 {{inputs have 32 rows, the result 48}}
  %w = q3.concat %a, %b : tensor<16x8xf32>, tensor<16x8xf32> -> tensor<48x8xf32>
  return
}

// -----

func.func @split_rows(%x: tensor<1x8xf32>, %w: tensor<32x8xf32>) {
  // expected-error @+1 {{results' last dimensions sum to 24, but the weight has 32 rows}}
  %a, %b = q3.linear_split %x, %w : tensor<1x8xf32>, tensor<32x8xf32> -> tensor<1x16xf32>, tensor<1x8xf32>
  return
}

// -----

func.func @split_result_shape(%x: tensor<2x8xf32>, %w: tensor<32x8xf32>) {
  // expected-error @+1 {{must be the input's shape but for the last dimension}}
  %a, %b = q3.linear_split %x, %w : tensor<2x8xf32>, tensor<32x8xf32> -> tensor<1x16xf32>, tensor<2x16xf32>
  return
}

// -----

func.func @split_norm_size(%x: tensor<1x8xf32>, %w: tensor<16x8xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{norm weight [4] must be [8]}}
  %a = q3.linear_split %x, %w norm %g : tensor<4xf32> {norm_eps = 1.0e-6 : f64} : tensor<1x8xf32>, tensor<16x8xf32> -> tensor<1x16xf32>
  return
}

// -----

func.func @split_norm_eps(%x: tensor<1x8xf32>, %w: tensor<16x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{a norm needs a positive norm_eps}}
  %a = q3.linear_split %x, %w norm %g : tensor<8xf32> : tensor<1x8xf32>, tensor<16x8xf32> -> tensor<1x16xf32>
  return
}

// -----

func.func @split_eps_without_norm(%x: tensor<1x8xf32>, %w: tensor<16x8xf32>) {
  // expected-error @+1 {{norm_eps is set but there is no norm weight}}
  %a = q3.linear_split %x, %w {norm_eps = 1.0e-6 : f64} : tensor<1x8xf32>, tensor<16x8xf32> -> tensor<1x16xf32>
  return
}

// -----

func.func @split_in_features(%x: tensor<1x8xf32>, %w: tensor<16x4xf32>) {
  // expected-error @+1 {{weight in-features (4) must equal the input's last dimension}}
  %a = q3.linear_split %x, %w : tensor<1x8xf32>, tensor<16x4xf32> -> tensor<1x16xf32>
  return
}

// -----

func.func @split_quantised(%x: tensor<1x8xf32>, %w: tensor<16x8xi8>) {
  // expected-error @+1 {{quantised weights are not supported by fused linears}}
  %a = q3.linear_split %x, %w : tensor<1x8xf32>, tensor<16x8xi8> -> tensor<1x16xf32>
  return
}

// -----

func.func @split_weight_rank(%x: tensor<1x8xf32>, %w: tensor<2x16x8xf32>) {
  // expected-error @+1 {{weight must be [out, in], got [2x16x8]}}
  %a = q3.linear_split %x, %w : tensor<1x8xf32>, tensor<2x16x8xf32> -> tensor<1x16xf32>
  return
}

// -----

func.func @swiglu_odd(%x: tensor<1x8xf32>, %w: tensor<15x8xf32>) {
  // expected-error @+1 {{weight must be [2 * inter, in], got [15x8]}}
  %a = q3.linear_swiglu %x, %w : tensor<1x8xf32>, tensor<15x8xf32>
  return
}

// -----

func.func @residual_result(%x: tensor<1x8xf32>, %w: tensor<16x8xf32>, %r: tensor<1x8xf32>) {
  // expected-error @+1 {{must be the input's shape with 16 features}}
  %a = q3.linear_residual %x, %w, %r : tensor<1x8xf32>, tensor<16x8xf32>, tensor<1x8xf32>
  return
}

// -----

func.func @norm_rope_norm(%x: tensor<1x2x8xf32>, %g: tensor<4xf32>, %p: index) {
  // expected-error @+1 {{norm weight [4] must be [8]}}
  %a = q3.norm_rope %x, %g at %p {eps = 1.0e-6 : f64, theta = 1.0e6 : f64, style = #q3.rope_style<split_halves>} : tensor<1x2x8xf32>, tensor<4xf32>
  return
}

// -----

func.func @norm_rope_eps(%x: tensor<1x2x8xf32>, %g: tensor<8xf32>, %p: index) {
  // expected-error @+1 {{eps must be positive}}
  %a = q3.norm_rope %x, %g at %p {eps = 0.0 : f64, theta = 1.0e6 : f64, style = #q3.rope_style<split_halves>} : tensor<1x2x8xf32>, tensor<8xf32>
  return
}

// -----

func.func @norm_rope_rank(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %p: index) {
  // expected-error @+1 {{input must be [tokens, heads, head_dim], got [2x8]}}
  %a = q3.norm_rope %x, %g at %p {eps = 1.0e-6 : f64, theta = 1.0e6 : f64, style = #q3.rope_style<split_halves>} : tensor<2x8xf32>, tensor<8xf32>
  return
}

// -----

func.func @norm_rope_odd(%x: tensor<1x2x7xf32>, %g: tensor<7xf32>, %p: index) {
  // expected-error @+1 {{head_dim (7) must be even}}
  %a = q3.norm_rope %x, %g at %p {eps = 1.0e-6 : f64, theta = 1.0e6 : f64, style = #q3.rope_style<split_halves>} : tensor<1x2x7xf32>, tensor<7xf32>
  return
}

// -----

func.func @norm_rope_theta(%x: tensor<1x2x8xf32>, %g: tensor<8xf32>, %p: index) {
  // expected-error @+1 {{theta must be greater than 1, got 1}}
  %a = q3.norm_rope %x, %g at %p {eps = 1.0e-6 : f64, theta = 1.0 : f64, style = #q3.rope_style<split_halves>} : tensor<1x2x8xf32>, tensor<8xf32>
  return
}

// -----

func.func @norm_rope_write_heads(%x: tensor<1x4x8xf32>, %g: tensor<8xf32>, %c: tensor<1x2x16x8xf32>, %l: index, %p: index) {
  // expected-error @+1 {{input heads x head_dim (4x8) must match the cache's (2x8)}}
  %a = q3.norm_rope_write %x, %g into %c[%l] at %p {eps = 1.0e-6 : f64, theta = 1.0e6 : f64, style = #q3.rope_style<split_halves>} : tensor<1x4x8xf32>, tensor<8xf32>, tensor<1x2x16x8xf32>
  return
}

// -----

func.func @norm_rope_write_chunk(%x: tensor<32x2x8xf32>, %g: tensor<8xf32>, %c: tensor<1x2x16x8xf32>, %l: index, %p: index) {
  // expected-error @+1 {{chunk of 32 tokens exceeds the cache capacity}}
  %a = q3.norm_rope_write %x, %g into %c[%l] at %p {eps = 1.0e-6 : f64, theta = 1.0e6 : f64, style = #q3.rope_style<split_halves>} : tensor<32x2x8xf32>, tensor<8xf32>, tensor<1x2x16x8xf32>
  return
}

// -----

func.func @norm_rope_write_cache(%x: tensor<1x2x8xf32>, %g: tensor<8xf32>, %c: tensor<2x16x8xf32>, %l: index, %p: index) {
  // expected-error @+1 {{cache must be [layers, kv_heads, capacity, head_dim], got [2x16x8]}}
  %a = q3.norm_rope_write %x, %g into %c[%l] at %p {eps = 1.0e-6 : f64, theta = 1.0e6 : f64, style = #q3.rope_style<split_halves>} : tensor<1x2x8xf32>, tensor<8xf32>, tensor<2x16x8xf32>
  return
}
