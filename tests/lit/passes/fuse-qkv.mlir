// q3-fuse-qkv: linears reading one input become one q3.linear_split over the
// stacked weights, results in the original order; weights defined after the
// first linear are hoisted above it.
// RUN: qwen3c-opt %s --q3-fuse-qkv -split-input-file | FileCheck %s

// CHECK-LABEL: func @qkv
func.func @qkv(%h: tensor<4x64xf32>, %l: index) -> (tensor<4x128xf32>, tensor<4x64xf32>, tensor<4x64xf32>) {
  %wq = q3.weight "model.layers.{layer}.self_attn.q_proj.weight" layer %l : tensor<128x64xf32>
  %q = q3.linear %h, %wq : tensor<4x64xf32>, tensor<128x64xf32>
  %wk = q3.weight "model.layers.{layer}.self_attn.k_proj.weight" layer %l : tensor<64x64xf32>
  %k = q3.linear %h, %wk : tensor<4x64xf32>, tensor<64x64xf32>
  %wv = q3.weight "model.layers.{layer}.self_attn.v_proj.weight" layer %l : tensor<64x64xf32>
  %v = q3.linear %h, %wv : tensor<4x64xf32>, tensor<64x64xf32>
  // CHECK: %[[WQ:.*]] = q3.weight "model.layers.{layer}.self_attn.q_proj.weight"
  // CHECK-NEXT: %[[WK:.*]] = q3.weight "model.layers.{layer}.self_attn.k_proj.weight"
  // CHECK-NEXT: %[[WV:.*]] = q3.weight "model.layers.{layer}.self_attn.v_proj.weight"
  // CHECK-NEXT: %[[W:.*]] = q3.concat %[[WQ]], %[[WK]], %[[WV]] : tensor<128x64xf32>, tensor<64x64xf32>, tensor<64x64xf32> -> tensor<256x64xf32>
  // CHECK-NEXT: %[[R:.*]]:3 = q3.linear_split %{{.*}}, %[[W]] : tensor<4x64xf32>, tensor<256x64xf32> -> tensor<4x128xf32>, tensor<4x64xf32>, tensor<4x64xf32>
  // CHECK-NOT: q3.linear %
  // CHECK: return %[[R]]#0, %[[R]]#1, %[[R]]#2
  return %q, %k, %v : tensor<4x128xf32>, tensor<4x64xf32>, tensor<4x64xf32>
}

// -----

// Different element types or in-features do not stack; a lone linear stays.
// CHECK-LABEL: func @mixed
func.func @mixed(%h: tensor<1x8xf32>, %w1: tensor<16x8xf32>, %w2: tensor<16x8xbf16>, %w3: tensor<4x8xf32>)
    -> (tensor<1x16xf32>, tensor<1x16xf32>) {
  %a = q3.linear %h, %w1 : tensor<1x8xf32>, tensor<16x8xf32>
  %b = q3.linear %h, %w2 : tensor<1x8xf32>, tensor<16x8xbf16>
  // CHECK-COUNT-2: q3.linear %
  // CHECK-NOT: q3.linear_split
  return %a, %b : tensor<1x16xf32>, tensor<1x16xf32>
}
