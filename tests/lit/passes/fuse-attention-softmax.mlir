// q3-fuse-attention-softmax marks attention for the online softmax; the CPU
// lowering then allocates no score rows (see the arena size).
// RUN: qwen3c-opt %s --q3-fuse-attention-softmax | FileCheck %s
// RUN: qwen3c-opt %s --q3-choose-lowering-config --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=EXACT
// RUN: qwen3c-opt %s --q3-fuse-attention-softmax --q3-choose-lowering-config --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=ONLINE

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "x86-64-v4", vector_bits = 512, vector_registers = 32, l2_bytes = 0, features = "avx2,fma,avx512f">} {
  // CHECK-LABEL: func @attend
  func.func @attend(%q: tensor<1x4x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %p: index)
      -> tensor<1x4x32xf32> {
    %l = arith.constant 0 : index
    // CHECK: q3.attention {{.*}} {online_softmax, scale = {{.*}}}
    %o = q3.attention %q, %k, %v[%l] at %p {scale = 0.17677669529663687 : f64} : tensor<1x4x32xf32>, tensor<1x2x64x32xf32>
    return %o : tensor<1x4x32xf32>
  }
}
// (The output goes to an out-parameter.) Exact: 4 score rows of 64 f32.
// EXACT: q3.arena_bytes = 1024
// Online: no score rows; only the split-KV decode's states (2 work items x
// 4 key ranges, 2 heads each, 32 output values + maximum + sum: 2176 bytes).
// ONLINE: q3.arena_bytes = 2176 
