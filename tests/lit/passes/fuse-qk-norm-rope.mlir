// q3-fuse-qk-norm-rope: rms_norm -> rope becomes q3.norm_rope; when the
// rotated rows only go into the KV cache at the same position, the write
// joins them (q3.norm_rope_write).
// RUN: qwen3c-opt %s --q3-fuse-qk-norm-rope -split-input-file | FileCheck %s

// CHECK-LABEL: func @qk
func.func @qk(%q: tensor<4x4x32xf32>, %k: tensor<4x2x32xf32>, %gq: tensor<32xf32>, %gk: tensor<32xf32>,
              %cache: tensor<3x2x32x32xf32>, %l: index, %p: index) -> (tensor<4x4x32xf32>, tensor<3x2x32x32xf32>) {
  %qn = q3.rms_norm %q, %gq {eps = 1.0e-6 : f64} : tensor<4x4x32xf32>, tensor<32xf32>
  %kn = q3.rms_norm %k, %gk {eps = 1.0e-6 : f64} : tensor<4x2x32xf32>, tensor<32xf32>
  %qr = q3.rope %qn at %p {style = #q3.rope_style<split_halves>, theta = 1.0e6 : f64} : tensor<4x4x32xf32>
  %kr = q3.rope %kn at %p {style = #q3.rope_style<split_halves>, theta = 1.0e6 : f64} : tensor<4x2x32xf32>
  %c = q3.kv_write %kr into %cache[%l] at %p : tensor<4x2x32xf32>, tensor<3x2x32x32xf32>
  // CHECK: %[[Q:.*]] = q3.norm_rope %arg0, %arg2 at %arg6 {eps = 9.9999999999999995E-7 : f64, style = #q3.rope_style<split_halves>, theta = 1.000000e+06 : f64} : tensor<4x4x32xf32>, tensor<32xf32>
  // CHECK: %[[C:.*]] = q3.norm_rope_write %arg1, %arg3 into %arg4[%arg5] at %arg6 {{.*}} : tensor<4x2x32xf32>, tensor<32xf32>, tensor<3x2x32x32xf32>
  // CHECK-NOT: q3.rms_norm
  // CHECK-NOT: q3.kv_write
  // CHECK: return %[[Q]], %[[C]]
  return %qr, %c : tensor<4x4x32xf32>, tensor<3x2x32x32xf32>
}

// -----

// Written at another position than it was rotated for: only norm + rope fuse.
// CHECK-LABEL: func @other_position
func.func @other_position(%k: tensor<1x2x32xf32>, %gk: tensor<32xf32>, %cache: tensor<3x2x32x32xf32>,
                          %l: index, %p: index, %p2: index) -> tensor<3x2x32x32xf32> {
  %kn = q3.rms_norm %k, %gk {eps = 1.0e-6 : f64} : tensor<1x2x32xf32>, tensor<32xf32>
  %kr = q3.rope %kn at %p {style = #q3.rope_style<split_halves>, theta = 1.0e6 : f64} : tensor<1x2x32xf32>
  %c = q3.kv_write %kr into %cache[%l] at %p2 : tensor<1x2x32xf32>, tensor<3x2x32x32xf32>
  // CHECK: q3.norm_rope %
  // CHECK: q3.kv_write
  return %c : tensor<3x2x32x32xf32>
}

// -----

// YaRN scaling travels with the rope into both fused forms.
// CHECK-LABEL: func @yarn
func.func @yarn(%q: tensor<1x4x32xf32>, %k: tensor<1x2x32xf32>, %gq: tensor<32xf32>, %gk: tensor<32xf32>,
                %cache: tensor<3x2x32x32xf32>, %l: index, %p: index) -> (tensor<1x4x32xf32>, tensor<3x2x32x32xf32>) {
  %qn = q3.rms_norm %q, %gq {eps = 1.0e-6 : f64} : tensor<1x4x32xf32>, tensor<32xf32>
  %kn = q3.rms_norm %k, %gk {eps = 1.0e-6 : f64} : tensor<1x2x32xf32>, tensor<32xf32>
  %qr = q3.rope %qn at %p {style = #q3.rope_style<split_halves>, theta = 1.0e6 : f64, yarn = #q3.yarn<factor = 4.0 : f64, original_context = 32768, beta_fast = 32.0 : f64, beta_slow = 1.0 : f64, attention_factor = 1.1386 : f64>} : tensor<1x4x32xf32>
  %kr = q3.rope %kn at %p {style = #q3.rope_style<split_halves>, theta = 1.0e6 : f64, yarn = #q3.yarn<factor = 4.0 : f64, original_context = 32768, beta_fast = 32.0 : f64, beta_slow = 1.0 : f64, attention_factor = 1.1386 : f64>} : tensor<1x2x32xf32>
  %c = q3.kv_write %kr into %cache[%l] at %p : tensor<1x2x32xf32>, tensor<3x2x32x32xf32>
  // CHECK: q3.norm_rope {{.*}} yarn = #q3.yarn<factor = 4.000000e+00 : f64, original_context = 32768
  // CHECK: q3.norm_rope_write {{.*}} yarn = #q3.yarn<factor = 4.000000e+00 : f64, original_context = 32768
  return %qr, %c : tensor<1x4x32xf32>, tensor<3x2x32x32xf32>
}
