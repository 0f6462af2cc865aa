// q3-fuse-residual-add: a q3.add whose operand is a single-use q3.linear
// becomes q3.linear_residual; a linear read elsewhere keeps its add.
// RUN: qwen3c-opt %s --q3-fuse-residual-add -split-input-file | FileCheck %s

// CHECK-LABEL: func @o_proj
func.func @o_proj(%x: tensor<4x64xf32>, %a: tensor<4x128xf32>, %l: index) -> tensor<4x64xf32> {
  %w = q3.weight "model.layers.{layer}.self_attn.o_proj.weight" layer %l : tensor<64x128xf32>
  %o = q3.linear %a, %w : tensor<4x128xf32>, tensor<64x128xf32>
  %r = q3.add %x, %o : tensor<4x64xf32>
  // CHECK: %[[W:.*]] = q3.weight "model.layers.{layer}.self_attn.o_proj.weight"
  // CHECK-NEXT: %[[R:.*]] = q3.linear_residual %{{.*}}, %[[W]], %{{.*}} : tensor<4x128xf32>, tensor<64x128xf32>, tensor<4x64xf32>
  // CHECK-NOT: q3.add
  // CHECK: return %[[R]]
  return %r : tensor<4x64xf32>
}

// -----

// The product on the left works too (add is commutative).
// CHECK-LABEL: func @lhs
func.func @lhs(%x: tensor<1x8xf32>, %a: tensor<1x16xf32>, %w: tensor<8x16xf32>) -> tensor<1x8xf32> {
  %o = q3.linear %a, %w : tensor<1x16xf32>, tensor<8x16xf32>
  %r = q3.add %o, %x : tensor<1x8xf32>
  // CHECK: q3.linear_residual %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x16xf32>, tensor<8x16xf32>, tensor<1x8xf32>
  return %r : tensor<1x8xf32>
}

// -----

// CHECK-LABEL: func @product_read_twice
func.func @product_read_twice(%x: tensor<1x8xf32>, %a: tensor<1x16xf32>, %w: tensor<8x16xf32>)
    -> (tensor<1x8xf32>, tensor<1x8xf32>) {
  %o = q3.linear %a, %w : tensor<1x16xf32>, tensor<8x16xf32>
  %r = q3.add %x, %o : tensor<1x8xf32>
  // CHECK: q3.linear %
  // CHECK: q3.add
  // CHECK-NOT: q3.linear_residual
  return %r, %o : tensor<1x8xf32>, tensor<1x8xf32>
}
