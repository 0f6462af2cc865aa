// q3-fuse-rms-norm: an RMSNorm read only by linears becomes their `norm`
// operand (normalise on load); a plain linear turns into a one-part
// q3.linear_split. A norm with any other reader stays.
// RUN: qwen3c-opt %s --q3-fuse-rms-norm -split-input-file | FileCheck %s

// CHECK-LABEL: func @into_fused
func.func @into_fused(%x: tensor<4x64xf32>, %g: tensor<64xf32>, %w: tensor<256x64xf32>, %wgu: tensor<320x64xf32>)
    -> (tensor<4x128xf32>, tensor<4x128xf32>, tensor<4x160xf32>) {
  %n = q3.rms_norm %x, %g {eps = 1.0e-6 : f64} : tensor<4x64xf32>, tensor<64xf32>
  %s:2 = q3.linear_split %n, %w : tensor<4x64xf32>, tensor<256x64xf32> -> tensor<4x128xf32>, tensor<4x128xf32>
  %f = q3.linear_swiglu %n, %wgu : tensor<4x64xf32>, tensor<320x64xf32>
  // CHECK-NOT: q3.rms_norm
  // CHECK: q3.linear_split %arg0, %arg2 norm %arg1 : tensor<64xf32> {norm_eps = 9.9999999999999995E-7 : f64} : tensor<4x64xf32>, tensor<256x64xf32> -> tensor<4x128xf32>, tensor<4x128xf32>
  // CHECK: q3.linear_swiglu %arg0, %arg3 norm %arg1 : tensor<64xf32> {norm_eps = 9.9999999999999995E-7 : f64} : tensor<4x64xf32>, tensor<320x64xf32>
  return %s#0, %s#1, %f : tensor<4x128xf32>, tensor<4x128xf32>, tensor<4x160xf32>
}

// -----

// CHECK-LABEL: func @into_plain_linear
func.func @into_plain_linear(%x: tensor<1x64xf32>, %g: tensor<64xf32>, %w: tensor<512x64xbf16>) -> tensor<1x512xf32> {
  %n = q3.rms_norm %x, %g {eps = 1.0e-6 : f64} : tensor<1x64xf32>, tensor<64xf32>
  %y = q3.linear %n, %w : tensor<1x64xf32>, tensor<512x64xbf16>
  // CHECK: q3.linear_split %arg0, %arg2 norm %arg1 : tensor<64xf32> {norm_eps = {{.*}}} : tensor<1x64xf32>, tensor<512x64xbf16> -> tensor<1x512xf32>
  return %y : tensor<1x512xf32>
}

// -----

// The MoE block reads the normalised rows itself: the norm stays.
// CHECK-LABEL: func @other_reader
func.func @other_reader(%x: tensor<1x64xf32>, %g: tensor<64xf32>, %w: tensor<8x64xf32>) -> (tensor<1x8xf32>, tensor<1x64xf32>) {
  %n = q3.rms_norm %x, %g {eps = 1.0e-6 : f64} : tensor<1x64xf32>, tensor<64xf32>
  %y = q3.linear %n, %w : tensor<1x64xf32>, tensor<8x64xf32>
  // CHECK: q3.rms_norm
  // CHECK: q3.linear %
  return %y, %n : tensor<1x8xf32>, tensor<1x64xf32>
}
