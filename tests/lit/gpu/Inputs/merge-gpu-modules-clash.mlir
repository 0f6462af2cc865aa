// Two different globals of one name cannot be merged.
// CHECK: error: q3-merge-gpu-modules: two different kernel symbols named "table"
module attributes {gpu.container_module} {
  gpu.module @a {
    memref.global "private" constant @table : memref<2xf32> = dense<[1.0, 2.0]>
  }
  gpu.module @b {
    memref.global "private" constant @table : memref<2xf32> = dense<[3.0, 4.0]>
  }
}
