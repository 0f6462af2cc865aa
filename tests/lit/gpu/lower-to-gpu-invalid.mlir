// What q3-lower-to-gpu refuses, by name: a scalar the host code would read
// from a kernel's result (device memory), and an op without a GPU kernel.
// RUN: not qwen3c-opt %s --split-input-file --q3-choose-gpu-launch --q3-plan-weights --q3-lower-to-gpu -o /dev/null 2>&1 | FileCheck %s

// CHECK: error: 'tensor.extract' op reads a device buffer on the host: not supported by the GPU code generator
module attributes {q3.num_layers = 1 : i64} {
func.func @host_read(%x: tensor<2x8xf32>, %y: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %s = q3.add %x, %y : tensor<2x8xf32>
  %c0 = arith.constant 0 : index
  %v = tensor.extract %s[%c0, %c0] : tensor<2x8xf32>
  %i = arith.fptosi %v : f32 to i32
  %n = arith.index_cast %i : i32 to index
  %t = q3.add %s, %s : tensor<2x8xf32>
  return %t : tensor<2x8xf32>
}
}

// -----

// CHECK: error: 'q3.argmax' op has no GPU lowering yet
module attributes {q3.num_layers = 1 : i64} {
func.func @argmax(%x: tensor<4x100xf32>) -> tensor<4xi32> {
  %t = q3.argmax %x : tensor<4x100xf32>
  return %t : tensor<4xi32>
}
}
