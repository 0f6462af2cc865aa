// Every q3 op prints, parses and prints again identically.
// RUN: qwen3c-opt %s -split-input-file | qwen3c-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func @weights
func.func @weights(%l: index) -> (tensor<2048x1024xbf16>, tensor<151936x1024xbf16>, tensor<8x64x32xbf16>, tensor<64x32xi8>) {
  // CHECK: q3.weight "model.layers.{layer}.self_attn.q_proj.weight" layer %{{.*}} : tensor<2048x1024xbf16>
  %q = q3.weight "model.layers.{layer}.self_attn.q_proj.weight" layer %l : tensor<2048x1024xbf16>
  // CHECK: q3.weight "model.embed_tokens.weight" : tensor<151936x1024xbf16>
  %e = q3.weight "model.embed_tokens.weight" : tensor<151936x1024xbf16>
  // CHECK: q3.weight "model.layers.{layer}.mlp.experts.{expert}.gate_proj.weight" layer %{{.*}} : tensor<8x64x32xbf16>
  %g = q3.weight "model.layers.{layer}.mlp.experts.{expert}.gate_proj.weight" layer %l : tensor<8x64x32xbf16>
  // CHECK: q3.weight "w_int8" : tensor<64x32xi8>
  %i = q3.weight "w_int8" : tensor<64x32xi8>
  return %q, %e, %g, %i : tensor<2048x1024xbf16>, tensor<151936x1024xbf16>, tensor<8x64x32xbf16>, tensor<64x32xi8>
}

// -----

// CHECK-LABEL: func @embedding_norm_linear
func.func @embedding_norm_linear(%table: tensor<100x16xbf16>, %ids: tensor<4xi32>, %nw: tensor<16xf32>,
                                 %w: tensor<32x16xbf16>, %wq: tensor<32x16xi8>, %s: tensor<32xf32>,
                                 %sg: tensor<32x2xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>) {
  // CHECK: q3.embedding %{{.*}}[%{{.*}}] : tensor<100x16xbf16>, tensor<4xi32> -> tensor<4x16xf32>
  %x = q3.embedding %table[%ids] : tensor<100x16xbf16>, tensor<4xi32> -> tensor<4x16xf32>
  // CHECK: q3.rms_norm %{{.*}}, %{{.*}} {eps = 9.9999999999999995E-7 : f64} : tensor<4x16xf32>, tensor<16xf32>
  %n = q3.rms_norm %x, %nw {eps = 1.0e-6 : f64} : tensor<4x16xf32>, tensor<16xf32>
  // CHECK: q3.linear %{{.*}}, %{{.*}} : tensor<4x16xf32>, tensor<32x16xbf16>
  %y = q3.linear %n, %w : tensor<4x16xf32>, tensor<32x16xbf16>
  // CHECK: q3.linear %{{.*}}, %{{.*}} scales %{{.*}} : tensor<32xf32> : tensor<4x16xf32>, tensor<32x16xi8>
  %yq = q3.linear %n, %wq scales %s : tensor<32xf32> : tensor<4x16xf32>, tensor<32x16xi8>
  // CHECK: q3.linear %{{.*}}, %{{.*}} scales %{{.*}} : tensor<32x2xf32> : tensor<4x16xf32>, tensor<32x16xi8>
  %yg = q3.linear %n, %wq scales %sg : tensor<32x2xf32> : tensor<4x16xf32>, tensor<32x16xi8>
  return %y, %yq, %yg : tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>
}

// -----

// CHECK-LABEL: func @attention_block
func.func @attention_block(%q: tensor<4x8x64xf32>, %k: tensor<4x2x64xf32>, %qn: tensor<64xbf16>,
                           %kc: tensor<3x2x128x64xbf16>, %vc: tensor<3x2x128x64xbf16>,
                           %l: index, %pos: index) -> (tensor<4x8x64xf32>, tensor<3x2x128x64xbf16>) {
  // CHECK: q3.rms_norm %{{.*}}, %{{.*}} {eps = 9.9999999999999995E-7 : f64} : tensor<4x8x64xf32>, tensor<64xbf16>
  %qnorm = q3.rms_norm %q, %qn {eps = 1.0e-6 : f64} : tensor<4x8x64xf32>, tensor<64xbf16>
  // CHECK: q3.rope %{{.*}} at %{{.*}} {style = #q3.rope_style<split_halves>, theta = 1.000000e+06 : f64} : tensor<4x8x64xf32>
  %qr = q3.rope %qnorm at %pos {theta = 1.0e6 : f64, style = #q3.rope_style<split_halves>} : tensor<4x8x64xf32>
  // CHECK: q3.rope %{{.*}} at %{{.*}} {style = #q3.rope_style<interleaved>, theta = 1.000000e+04 : f64} : tensor<4x2x64xf32>
  %kr = q3.rope %k at %pos {theta = 1.0e4 : f64, style = #q3.rope_style<interleaved>} : tensor<4x2x64xf32>
  // CHECK: q3.kv_write %{{.*}} into %{{.*}}[%{{.*}}] at %{{.*}} : tensor<4x2x64xf32>, tensor<3x2x128x64xbf16>
  %kc2 = q3.kv_write %kr into %kc[%l] at %pos : tensor<4x2x64xf32>, tensor<3x2x128x64xbf16>
  // CHECK: q3.attention %{{.*}}, %{{.*}}, %{{.*}}[%{{.*}}] at %{{.*}} {scale = 1.250000e-01 : f64} : tensor<4x8x64xf32>, tensor<3x2x128x64xbf16>
  %o = q3.attention %qr, %kc2, %vc[%l] at %pos {scale = 0.125 : f64} : tensor<4x8x64xf32>, tensor<3x2x128x64xbf16>
  // CHECK: q3.attention {{.*}} {online_softmax, scale = 1.250000e-01 : f64}
  %o2 = q3.attention %qr, %kc2, %vc[%l] at %pos {scale = 0.125 : f64, online_softmax} : tensor<4x8x64xf32>, tensor<3x2x128x64xbf16>
  return %o, %kc2 : tensor<4x8x64xf32>, tensor<3x2x128x64xbf16>
}

// -----

// CHECK-LABEL: func @elementwise
func.func @elementwise(%a: tensor<4x32xf32>, %b: tensor<4x32xf32>) -> tensor<4x32xf32> {
  // CHECK: q3.silu %{{.*}} : tensor<4x32xf32>
  %s = q3.silu %a : tensor<4x32xf32>
  // CHECK: q3.swiglu %{{.*}}, %{{.*}} : tensor<4x32xf32>
  %g = q3.swiglu %s, %b : tensor<4x32xf32>
  // CHECK: q3.add %{{.*}}, %{{.*}} : tensor<4x32xf32>
  %sum = q3.add %g, %a : tensor<4x32xf32>
  // CHECK: q3.mul %{{.*}}, %{{.*}} : tensor<4x32xf32>
  %p = q3.mul %sum, %b : tensor<4x32xf32>
  return %p : tensor<4x32xf32>
}

// -----

// CHECK-LABEL: func @moe
func.func @moe(%x: tensor<4x16xf32>, %logits: tensor<4x8xf32>, %g: tensor<8x24x16xbf16>,
               %u: tensor<8x24x16xbf16>, %d: tensor<8x16x24xbf16>) -> tensor<4x16xf32> {
  // CHECK: q3.moe_router %{{.*}} {norm_topk_prob = true, top_k = 2 : i64} : tensor<4x8xf32>
  %w, %e = q3.moe_router %logits {top_k = 2 : i64, norm_topk_prob = true} : tensor<4x8xf32>
  // CHECK: q3.moe_experts %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x16xf32>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<8x24x16xbf16>, tensor<8x24x16xbf16>, tensor<8x16x24xbf16>
  %y = q3.moe_experts %x, %w, %e, %g, %u, %d : tensor<4x16xf32>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<8x24x16xbf16>, tensor<8x24x16xbf16>, tensor<8x16x24xbf16>
  // CHECK: q3.moe_experts {{.*}} {group_by_expert} :
  %y2 = q3.moe_experts %x, %w, %e, %g, %u, %d {group_by_expert} : tensor<4x16xf32>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<8x24x16xbf16>, tensor<8x24x16xbf16>, tensor<8x16x24xbf16>
  return %y : tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func @argmax
func.func @argmax(%logits: tensor<4x100xf32>, %one: tensor<100xf16>) -> (tensor<4xi32>, tensor<i32>) {
  // CHECK: q3.argmax %{{.*}} : tensor<4x100xf32>
  %t = q3.argmax %logits : tensor<4x100xf32>
  // CHECK: q3.argmax %{{.*}} : tensor<100xf16>
  %s = q3.argmax %one : tensor<100xf16>
  return %t, %s : tensor<4xi32>, tensor<i32>
}

// -----

// The fused ops (written by the q3-fuse-* passes).
// CHECK-LABEL: func @fused
func.func @fused(%x: tensor<4x64xf32>, %g: tensor<64xf32>, %wq: tensor<128x64xbf16>, %wk: tensor<64x64xbf16>,
                 %wo: tensor<64x128xbf16>, %a: tensor<4x128xf32>, %h: tensor<4x2x32xf32>, %gk: tensor<32xf32>,
                 %cache: tensor<3x2x16x32xf32>, %l: index, %p: index)
    -> (tensor<4x128xf32>, tensor<4x64xf32>, tensor<4x96xf32>, tensor<4x64xf32>, tensor<4x2x32xf32>, tensor<3x2x16x32xf32>) {
  // CHECK: q3.concat %{{.*}}, %{{.*}} : tensor<128x64xbf16>, tensor<64x64xbf16> -> tensor<192x64xbf16>
  %w = q3.concat %wq, %wk : tensor<128x64xbf16>, tensor<64x64xbf16> -> tensor<192x64xbf16>
  // CHECK: q3.linear_split %{{.*}}, %{{.*}} norm %{{.*}} : tensor<64xf32> {norm_eps = 9.9999999999999995E-7 : f64} : tensor<4x64xf32>, tensor<192x64xbf16> -> tensor<4x128xf32>, tensor<4x64xf32>
  %q, %k = q3.linear_split %x, %w norm %g : tensor<64xf32> {norm_eps = 1.0e-6 : f64} : tensor<4x64xf32>, tensor<192x64xbf16> -> tensor<4x128xf32>, tensor<4x64xf32>
  // CHECK: q3.linear_swiglu %{{.*}}, %{{.*}} : tensor<4x64xf32>, tensor<192x64xbf16>
  %s = q3.linear_swiglu %x, %w : tensor<4x64xf32>, tensor<192x64xbf16>
  // CHECK: q3.linear_residual %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x128xf32>, tensor<64x128xbf16>, tensor<4x64xf32>
  %r = q3.linear_residual %a, %wo, %x : tensor<4x128xf32>, tensor<64x128xbf16>, tensor<4x64xf32>
  // CHECK: q3.norm_rope %{{.*}}, %{{.*}} at %{{.*}} {eps = {{.*}}, style = #q3.rope_style<split_halves>, theta = {{.*}}} : tensor<4x2x32xf32>, tensor<32xf32>
  %n = q3.norm_rope %h, %gk at %p {eps = 1.0e-6 : f64, theta = 1.0e6 : f64, style = #q3.rope_style<split_halves>} : tensor<4x2x32xf32>, tensor<32xf32>
  // CHECK: q3.norm_rope_write %{{.*}}, %{{.*}} into %{{.*}}[%{{.*}}] at %{{.*}} {{.*}} : tensor<4x2x32xf32>, tensor<32xf32>, tensor<3x2x16x32xf32>
  %c = q3.norm_rope_write %h, %gk into %cache[%l] at %p {eps = 1.0e-6 : f64, theta = 1.0e6 : f64, style = #q3.rope_style<split_halves>} : tensor<4x2x32xf32>, tensor<32xf32>, tensor<3x2x16x32xf32>
  return %q, %k, %s, %r, %n, %c : tensor<4x128xf32>, tensor<4x64xf32>, tensor<4x96xf32>, tensor<4x64xf32>, tensor<4x2x32xf32>, tensor<3x2x16x32xf32>
}
