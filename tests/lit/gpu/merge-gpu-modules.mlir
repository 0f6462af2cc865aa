// q3-merge-gpu-modules: the kernels gpu-kernel-outlining put in a module
// each go into one, q3_kernels, named after their modules (two launches of
// one function outline to kernels of one name); the table both read is kept
// once; the launches point at the merged kernels.
// RUN: qwen3c-opt %s --q3-merge-gpu-modules | FileCheck %s
// RUN: not qwen3c-opt %S/Inputs/merge-gpu-modules-clash.mlir --q3-merge-gpu-modules 2>&1 | FileCheck %S/Inputs/merge-gpu-modules-clash.mlir

// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: gpu.module @q3_kernels {
// CHECK-NEXT: memref.global "private" constant @table
// CHECK-NOT: memref.global
// CHECK: gpu.func @f_kernel() kernel
// CHECK: gpu.func @f_kernel_0() kernel
// CHECK-NOT: gpu.module
// CHECK: func.func @f()
// CHECK: gpu.launch_func @q3_kernels::@f_kernel blocks
// CHECK: gpu.launch_func @q3_kernels::@f_kernel_0 blocks
module attributes {gpu.container_module} {
  gpu.module @f_kernel {
    memref.global "private" constant @table : memref<2xf32> = dense<[1.0, 2.0]>
    gpu.func @f_kernel() kernel {
      %t = memref.get_global @table : memref<2xf32>
      gpu.return
    }
  }
  gpu.module @f_kernel_0 {
    memref.global "private" constant @table : memref<2xf32> = dense<[1.0, 2.0]>
    gpu.func @f_kernel() kernel {
      %t = memref.get_global @table : memref<2xf32>
      gpu.return
    }
  }
  func.func @f() {
    %c1 = arith.constant 1 : index
    gpu.launch_func @f_kernel::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    gpu.launch_func @f_kernel_0::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    return
  }
}
