// #q3.attention_config's prefetch_values: the vector kernel over a
// key-blocked cache asks for the next key block's V rows while it sums this
// block's, except where the target's hardware prefetchers stream better
// alone (TargetInfo::prefetchesStreams: AMD Zen 4, measured). The strategy
// prints `prefetch_values = false` there, for decode and prompt chunks alike,
// and the lowering then emits no memref.prefetch; elsewhere (Zen 5 here) the
// default is not printed and every V row's cache lines are prefetched.
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config | FileCheck %s --check-prefix=STRATEGY
// RUN: qwen3c-opt %s -split-input-file --q3-choose-weight-layouts --q3-choose-lowering-config --q3-plan-weights --q3-lower-to-loops | FileCheck %s --check-prefix=LOWERED
// RUN: not qwen3c-opt %S/Inputs/attention-value-prefetch-invalid.mlir -split-input-file 2>&1 | FileCheck %s --check-prefix=INVALID

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "znver4", vector_bits = 512, vector_registers = 32, l2_bytes = 1048576, features = "avx,avx2,fma,avx512f,avx512bw,avx512vl,avx512bf16">} {
  func.func @zen4(%q1: tensor<1x4x32xf32>, %q4: tensor<4x4x32xf32>, %k: tensor<1x2x64x32xbf16>, %v: tensor<1x2x64x32xbf16>, %p: index) -> (tensor<1x4x32xf32>, tensor<4x4x32xf32>) {
    %l = arith.constant 0 : index
    %o1 = q3.attention %q1, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64} : tensor<1x4x32xf32>, tensor<1x2x64x32xbf16>
    %o4 = q3.attention %q4, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64} : tensor<4x4x32xf32>, tensor<1x2x64x32xbf16>
    return %o1, %o4 : tensor<1x4x32xf32>, tensor<4x4x32xf32>
  }
}
// STRATEGY-LABEL: func.func @zen4
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, kv_split = 4, value_block = 32, prefetch_values = false>
// STRATEGY: q3.attention_config = #q3.attention_config<{{.*}}prefetch_values = false>
// LOWERED-LABEL: func.func @zen4
// LOWERED-NOT: memref.prefetch
// LOWERED: return

// -----

module attributes {q3.num_layers = 1 : i64, q3.target = #q3.target<cpu = "znver5", vector_bits = 512, vector_registers = 32, l2_bytes = 1048576, features = "avx,avx2,fma,avx512f,avx512bw,avx512vl,avx512bf16">} {
  func.func @zen5(%q1: tensor<1x4x32xf32>, %k: tensor<1x2x64x32xbf16>, %v: tensor<1x2x64x32xbf16>, %p: index) -> tensor<1x4x32xf32> {
    %l = arith.constant 0 : index
    %o1 = q3.attention %q1, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64} : tensor<1x4x32xf32>, tensor<1x2x64x32xbf16>
    return %o1 : tensor<1x4x32xf32>
  }
}
// STRATEGY-LABEL: func.func @zen5
// STRATEGY: q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, kv_split = 4, value_block = 32>
// LOWERED-LABEL: func.func @zen5
// LOWERED: memref.prefetch {{.*}}, read, locality<3>, data
// LOWERED: return

// INVALID: error: prefetch_values is for the fma and bf16 kernels, not dot = amx
// INVALID: error: prefetch_values must be true or false, got 'maybe'
