// q3-plan-arena keeps a slice marked q3.arena_pinned at its offset for the
// whole function and packs the others around it: here the pinned 16 bytes
// at 0, so the slice that would have gone there starts at 64.
// RUN: qwen3c-opt %s --q3-plan-arena --cse | FileCheck %s

// CHECK: module attributes {q3.arena_bytes = 128 : i64
module {
  // CHECK-LABEL: func.func @entry
  func.func @entry(%in: memref<16xf32>, %out: memref<16xf32>, %arena: memref<?xi8>) {
    %c0 = arith.constant 0 : index
    %c192 = arith.constant 192 : index
    %c256 = arith.constant 256 : index
    // CHECK: memref.view %{{.*}}[%c0][] {q3.arena_pinned} : memref<?xi8> to memref<2xi64>
    %i = memref.view %arena[%c0][] {q3.arena_pinned} : memref<?xi8> to memref<2xi64>
    // CHECK: memref.view %{{.*}}[%c64][] : memref<?xi8> to memref<16xf32>
    %a = memref.view %arena[%c192][] : memref<?xi8> to memref<16xf32>
    memref.copy %in, %a : memref<16xf32> to memref<16xf32>
    memref.copy %a, %out : memref<16xf32> to memref<16xf32>
    // b: a's bytes again once a is dead, never the pinned slice's.
    // CHECK: memref.view %{{.*}}[%c64][] : memref<?xi8> to memref<4x4xf32>
    %b = memref.view %arena[%c256][] : memref<?xi8> to memref<4x4xf32>
    %bflat = memref.collapse_shape %b [[0, 1]] : memref<4x4xf32> into memref<16xf32>
    memref.copy %out, %bflat : memref<16xf32> to memref<16xf32>
    %k = memref.load %i[%c0] : memref<2xi64>
    memref.store %k, %i[%c0] : memref<2xi64>
    return
  }
}
