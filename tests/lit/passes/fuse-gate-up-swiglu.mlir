// q3-fuse-gate-up-swiglu: swiglu(linear(x, Wg), linear(x, Wu)) becomes one
// q3.linear_swiglu over q3.concat(Wg, Wu), gate rows first.
// RUN: qwen3c-opt %s --q3-fuse-gate-up-swiglu -split-input-file | FileCheck %s

// CHECK-LABEL: func @ffn
func.func @ffn(%h: tensor<4x64xf32>, %l: index) -> tensor<4x160xf32> {
  %wg = q3.weight "model.layers.{layer}.mlp.gate_proj.weight" layer %l : tensor<160x64xf32>
  %g = q3.linear %h, %wg : tensor<4x64xf32>, tensor<160x64xf32>
  %wu = q3.weight "model.layers.{layer}.mlp.up_proj.weight" layer %l : tensor<160x64xf32>
  %u = q3.linear %h, %wu : tensor<4x64xf32>, tensor<160x64xf32>
  %s = q3.swiglu %g, %u : tensor<4x160xf32>
  // CHECK: %[[WG:.*]] = q3.weight "model.layers.{layer}.mlp.gate_proj.weight"
  // CHECK: %[[WU:.*]] = q3.weight "model.layers.{layer}.mlp.up_proj.weight"
  // CHECK: %[[W:.*]] = q3.concat %[[WG]], %[[WU]] : tensor<160x64xf32>, tensor<160x64xf32> -> tensor<320x64xf32>
  // CHECK: %[[S:.*]] = q3.linear_swiglu %{{.*}}, %[[W]] : tensor<4x64xf32>, tensor<320x64xf32>
  // CHECK-NOT: q3.swiglu
  // CHECK: return %[[S]]
  return %s : tensor<4x160xf32>
}

// -----

// Different inputs, or a half read elsewhere: nothing to fuse.
// CHECK-LABEL: func @not_siblings
func.func @not_siblings(%a: tensor<1x8xf32>, %b: tensor<1x8xf32>, %w1: tensor<16x8xf32>, %w2: tensor<16x8xf32>)
    -> (tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x16xf32>) {
  %g = q3.linear %a, %w1 : tensor<1x8xf32>, tensor<16x8xf32>
  %u = q3.linear %b, %w2 : tensor<1x8xf32>, tensor<16x8xf32>
  %s = q3.swiglu %g, %u : tensor<1x16xf32>
  %g2 = q3.linear %a, %w1 : tensor<1x8xf32>, tensor<16x8xf32>
  %u2 = q3.linear %a, %w2 : tensor<1x8xf32>, tensor<16x8xf32>
  %s2 = q3.swiglu %g2, %u2 : tensor<1x16xf32>
  // CHECK-COUNT-2: q3.swiglu
  // CHECK-NOT: q3.linear_swiglu
  return %s, %s2, %u2 : tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x16xf32>
}
