// RUN: not qwen3c-opt %s --split-input-file --convert-scf-to-openmp --canonicalize --q3-sliceable-parallel-regions 2>/dev/null | FileCheck %s
// RUN: not qwen3c-opt %s --split-input-file --convert-scf-to-openmp --canonicalize --q3-sliceable-parallel-regions 2>&1 >/dev/null | FileCheck %s --check-prefix=ERR

// An scf.parallel becomes one region holding one static loop; the pass keeps
// it and drops the loop's barrier: the runtime runs the region as slices
// claimed by free threads (runtime/ThreadPool.cpp), one after another on a
// thread, where a barrier could never be met.
// CHECK-LABEL: func.func @one_loop
// CHECK: omp.parallel
// CHECK: omp.wsloop nowait
func.func @one_loop(%m: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %one, %m[%i] : memref<64xf32>
    scf.reduce
  }
  return
}

// -----

// A reduction would be combined once per slice: refused, naming the loop.
// ERR: sliceable-parallel-regions.mlir:[[@LINE+6]]:8: error: a sliced parallel loop cannot carry a reduction (slices would each combine once)
func.func @sum(%m: memref<64xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %s = scf.parallel (%i) = (%c0) to (%c64) step (%c1) init (%zero) -> f32 {
    %x = memref.load %m[%i] : memref<64xf32>
    scf.reduce (%x : f32) {
    ^bb0(%a: f32, %b: f32):
      %r = arith.addf %a, %b : f32
      scf.reduce.return %r : f32
    }
  }
  return %s : f32
}
