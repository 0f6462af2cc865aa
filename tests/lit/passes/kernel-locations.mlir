// q3-kernel-locations: each kernel op's location becomes kernel N (a
// q3.kernels line) carrying the module names of the ops it was fused from;
// weights and stacks are not kernels. The fusion before it gives the fused
// op the fused location of its parts.
// RUN: qwen3c-opt %s --q3-fuse-qk-norm-rope --q3-kernel-locations --mlir-print-debuginfo | FileCheck %s

// CHECK-LABEL: func @qk
func.func @qk(%q: tensor<4x4x32xf32>, %x: tensor<4x64xf32>, %p: index, %l: index) -> (tensor<4x4x32xf32>, tensor<4x64xf32>) {
  %g = q3.weight "model.layers.{layer}.self_attn.q_norm.weight" layer %l : tensor<32xf32> loc("model.layers.{layer}.self_attn.q_norm.weight")
  %qn = q3.rms_norm %q, %g {eps = 1.0e-6 : f64} : tensor<4x4x32xf32>, tensor<32xf32> loc("model.layers.{layer}.self_attn.q_norm")
  %qr = q3.rope %qn at %p {style = #q3.rope_style<split_halves>, theta = 1.0e6 : f64} : tensor<4x4x32xf32> loc("model.layers.{layer}.self_attn.rotary_emb.q")
  %s = q3.silu %x : tensor<4x64xf32> loc("model.layers.{layer}.mlp.act_fn")
  // CHECK: q3.weight {{.*}} loc([[W:#loc[0-9]*]])
  // CHECK: q3.norm_rope {{.*}} loc([[K1:#loc[0-9]+]])
  // CHECK: q3.silu {{.*}} loc([[K2:#loc[0-9]+]])
  return %qr, %s : tensor<4x4x32xf32>, tensor<4x64xf32>
}
// CHECK-DAG: [[W]] = loc("model.layers.{layer}.self_attn.q_norm.weight")
// CHECK-DAG: [[N1:#loc[0-9]+]] = loc("q3.kernels":1:0)
// CHECK-DAG: [[N2:#loc[0-9]+]] = loc("q3.kernels":2:0)
// CHECK-DAG: [[K1]] = loc(fused<["model.layers.{layer}.self_attn.q_norm", "model.layers.{layer}.self_attn.rotary_emb.q"]>[[[N1]]])
// CHECK-DAG: [[K2]] = loc(fused<["model.layers.{layer}.mlp.act_fn"]>[[[N2]]])
