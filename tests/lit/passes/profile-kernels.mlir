// q3-profile-kernels: each run of a kernel's ops (by q3-kernel-locations'
// number) between qwen3c_profile_begin(N) and qwen3c_profile_end(N). Pure
// ops (the constants here, hoisted or shared) open no run; an op of no
// kernel that has regions (the layer loop) closes the run and its body is
// instrumented in turn; a kernel seen twice (kernel 3, in and after the
// loop) gets two brackets, one table entry. The module's q3.kernel_profile
// names each kernel's function and blocks, by number.
// RUN: qwen3c-opt %s --q3-profile-kernels | FileCheck %s

func.func @step(%m: memref<4xf32>, %n: index) {
  %c0 = arith.constant 0 : index loc(fused<["model.embed_tokens"]>["q3.kernels":1:0])
  %c1 = arith.constant 1 : index loc(fused<["model.layers.{layer}.mlp"]>["q3.kernels":2:0])
  %one = arith.constant 1.0 : f32 loc(fused<["model.embed_tokens"]>["q3.kernels":1:0])
  memref.store %one, %m[%c0] : memref<4xf32> loc(fused<["model.embed_tokens"]>["q3.kernels":1:0])
  memref.store %one, %m[%c1] : memref<4xf32> loc(fused<["model.embed_tokens"]>["q3.kernels":1:0])
  scf.for %i = %c0 to %n step %c1 {
    memref.store %one, %m[%i] : memref<4xf32> loc(fused<["model.layers.{layer}.mlp"]>["q3.kernels":2:0])
    memref.store %one, %m[%c0] : memref<4xf32> loc(fused<["model.norm", "lm_head"]>["q3.kernels":3:0])
  }
  memref.store %one, %m[%c1] : memref<4xf32> loc(fused<["model.norm", "lm_head"]>["q3.kernels":3:0])
  return
}
// CHECK: module attributes {q3.kernel_profile = ["", "step\09model.embed_tokens", "step\09model.layers.{layer}.mlp", "step\09model.norm,lm_head"]}
// CHECK-DAG: func.func private @qwen3c_profile_begin(i64)
// CHECK-DAG: func.func private @qwen3c_profile_end(i64)
// CHECK-LABEL: func.func @step
// CHECK: %[[K1:.*]] = arith.constant 1 : i64
// CHECK-NEXT: call @qwen3c_profile_begin(%[[K1]])
// CHECK-NEXT: memref.store
// CHECK-NEXT: memref.store
// CHECK-NEXT: %[[E1:.*]] = arith.constant 1 : i64
// CHECK-NEXT: call @qwen3c_profile_end(%[[E1]])
// CHECK-NEXT: scf.for
// CHECK-NEXT: arith.constant 2 : i64
// CHECK-NEXT: call @qwen3c_profile_begin
// CHECK-NEXT: memref.store
// CHECK-NEXT: arith.constant 2 : i64
// CHECK-NEXT: call @qwen3c_profile_end
// CHECK-NEXT: arith.constant 3 : i64
// CHECK-NEXT: call @qwen3c_profile_begin
// CHECK-NEXT: memref.store
// CHECK-NEXT: arith.constant 3 : i64
// CHECK-NEXT: call @qwen3c_profile_end
// CHECK-NEXT: }
// CHECK-NEXT: arith.constant 3 : i64
// CHECK-NEXT: call @qwen3c_profile_begin
// CHECK-NEXT: memref.store
// CHECK-NEXT: arith.constant 3 : i64
// CHECK-NEXT: call @qwen3c_profile_end
// CHECK-NEXT: return
