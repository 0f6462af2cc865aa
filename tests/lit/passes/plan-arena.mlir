// q3-plan-arena packs the arena slices q3-lower-to-loops made (one each)
// by liveness: a slice lives from its view to the last use of it or of a
// view of it; a use inside a loop counts as the whole loop.
// RUN: qwen3c-opt %s --q3-plan-arena --cse | FileCheck %s

// CHECK: module attributes {q3.arena_bytes = 192 : i64, q3.arena_bytes_unplanned = 256 : i64}
module {
  // CHECK-LABEL: func.func @entry
  func.func @entry(%in: memref<16xf32>, %out: memref<16xf32>, %arena: memref<?xi8>) {
    %c0 = arith.constant 0 : index
    %c64 = arith.constant 64 : index
    %c128 = arith.constant 128 : index
    %c192 = arith.constant 192 : index
    // a: live until b is written from it.
    // CHECK: memref.view %{{.*}}[%c0][] : memref<?xi8> to memref<16xf32>
    %a = memref.view %arena[%c0][] : memref<?xi8> to memref<16xf32>
    memref.copy %in, %a : memref<16xf32> to memref<16xf32>
    // b overlaps a: the next 64 bytes.
    // CHECK: memref.view %{{.*}}[%c64][] : memref<?xi8> to memref<16xf32>
    %b = memref.view %arena[%c64][] : memref<?xi8> to memref<16xf32>
    memref.copy %a, %b : memref<16xf32> to memref<16xf32>
    // c starts after a's last use: a's bytes again. Used in a loop through
    // a view of it (collapse_shape), so it lives across the loop.
    // CHECK: memref.view %{{.*}}[%c0][] : memref<?xi8> to memref<4x4xf32>
    %c = memref.view %arena[%c128][] : memref<?xi8> to memref<4x4xf32>
    %cflat = memref.collapse_shape %c [[0, 1]] : memref<4x4xf32> into memref<16xf32>
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    scf.for %i = %c0 to %c2 step %c1 {
      memref.copy %b, %cflat : memref<16xf32> to memref<16xf32>
      // d is made and dies within an iteration, while b and c (both read in
      // the loop) are live: after them.
      // CHECK: memref.view %{{.*}}[%c128][] : memref<?xi8> to memref<16xf32>
      %d = memref.view %arena[%c192][] : memref<?xi8> to memref<16xf32>
      memref.copy %cflat, %d : memref<16xf32> to memref<16xf32>
      memref.copy %d, %out : memref<16xf32> to memref<16xf32>
    }
    return
  }
}
