// q3-choose-gpu-launch, the CUDA target's strategy: it writes the launch
// shapes on the module (#q3.gpu_launch) and q3-lower-to-gpu builds every
// kernel from them. The defaults; a pinned config that the strategy keeps
// and the lowering follows (8 warps, 2 rows a block, no tensor cores);
// products of 16 rows or more on the tensor cores (mma.sync), none before
// sm_80; the attribute's verifier; the lowering without a config.
// RUN: qwen3c-opt %s --q3-choose-gpu-launch | FileCheck %s --check-prefix=STRATEGY
// RUN: qwen3c-opt %s --q3-choose-gpu-launch=gpu-arch=sm_80 | FileCheck %s --check-prefix=SM80
// RUN: qwen3c-opt %s --q3-choose-gpu-launch --q3-plan-weights --q3-lower-to-gpu | FileCheck %s --check-prefix=DEFAULT
// RUN: sed 's/q3.num_layers = 1 : i64/q3.num_layers = 1 : i64, q3.gpu_launch = #q3.gpu_launch<arch = "sm_90", threads = 128, product_warps = 8, product_rows = 2, product_vector = 1, decode_splits = 4, mma_min_rows = 0, mma_warp_rows = 32, mma_warp_cols = 32>/' %s \
// RUN:   | qwen3c-opt --q3-choose-gpu-launch --q3-plan-weights --q3-lower-to-gpu | FileCheck %s --check-prefix=PINNED
// RUN: not qwen3c-opt %s --q3-plan-weights --q3-lower-to-gpu -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOCONFIG
// RUN: qwen3c-opt %s --q3-choose-gpu-launch=gpu-arch=sm_75 | FileCheck %s --check-prefix=SM75
// RUN: sed 's/q3.num_layers = 1 : i64/q3.num_layers = 1 : i64, q3.gpu_launch = #q3.gpu_launch<arch = "sm_75", threads = 256, product_warps = 4, product_rows = 8, product_vector = 8, decode_splits = 32, mma_min_rows = 16, mma_warp_rows = 32, mma_warp_cols = 32>/' %s \
// RUN:   | not qwen3c-opt -o /dev/null 2>&1 | FileCheck %s --check-prefix=MMAARCH
// RUN: sed 's/q3.num_layers = 1 : i64/q3.num_layers = 1 : i64, q3.gpu_launch = #q3.gpu_launch<arch = "sm_90", threads = 100, product_warps = 4, product_rows = 8, product_vector = 8, decode_splits = 32, mma_min_rows = 16, mma_warp_rows = 32, mma_warp_cols = 32>/' %s \
// RUN:   | not qwen3c-opt -o /dev/null 2>&1 | FileCheck %s --check-prefix=THREADS
// RUN: sed 's/q3.num_layers = 1 : i64/q3.num_layers = 1 : i64, q3.gpu_launch = #q3.gpu_launch<arch = "sm_90", threads = 256, product_warps = 4, product_rows = 6, product_vector = 8, decode_splits = 32, mma_min_rows = 16, mma_warp_rows = 32, mma_warp_cols = 32>/' %s \
// RUN:   | not qwen3c-opt -o /dev/null 2>&1 | FileCheck %s --check-prefix=ROWS
// RUN: sed 's/q3.num_layers = 1 : i64/q3.num_layers = 1 : i64, q3.gpu_launch = #q3.gpu_launch<arch = "gfx90a", threads = 256, product_warps = 4, product_rows = 8, product_vector = 3, decode_splits = 32, mma_min_rows = 16, mma_warp_rows = 32, mma_warp_cols = 32>/' %s \
// RUN:   | not qwen3c-opt -o /dev/null 2>&1 | FileCheck %s --check-prefix=ARCH
// RUN: not qwen3c-opt %s --q3-choose-gpu-launch=gpu-arch=gfx90a -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADOPTION

// STRATEGY: q3.gpu_launch = #q3.gpu_launch<arch = "sm_90", threads = 256, product_warps = 4, product_rows = 8, product_vector = 8, decode_splits = 32, mma_min_rows = 16, mma_warp_rows = 32, mma_warp_cols = 32>
// SM75: q3.gpu_launch = #q3.gpu_launch<arch = "sm_75", threads = 256, product_warps = 4, product_rows = 8, product_vector = 8, decode_splits = 32, mma_min_rows = 0, mma_warp_rows = 32, mma_warp_cols = 32>
// SM80: q3.gpu_launch = #q3.gpu_launch<arch = "sm_80", threads = 256, product_warps = 4, product_rows = 8, product_vector = 8, decode_splits = 32, mma_min_rows = 16, mma_warp_rows = 32, mma_warp_cols = 32>

// 128 columns, 4 warps (columns) a block: 32 blocks; the 8 rows in one block;
// k = 64 is whole warps of 2-element lane loads (8 would need k = 256).
// DEFAULT-LABEL: func.func @prefill(
// DEFAULT: gpu.launch blocks({{.*}}) in ({{.*}} = %c32, {{.*}} = %c1, {{.*}}) threads({{.*}}) in ({{.*}} = %c128,
// DEFAULT: vector.load %{{.*}} : memref<128x64xbf16>, vector<2xbf16>
// The pinned shapes: 16 blocks of 8 warps, 4 blocks of 2 rows.
// PINNED-LABEL: func.func @prefill(
// PINNED: gpu.launch blocks({{.*}}) in ({{.*}} = %c16, {{.*}} = %c4, {{.*}}) threads({{.*}}) in ({{.*}} = %c256,

// 32 rows: one warp computes 32 x 32 outputs on the tensor cores, 4 warps
// side by side cover the 128 columns; x rounded to bf16 pairs.
// DEFAULT-LABEL: func.func @prefill32(
// DEFAULT: gpu.launch blocks({{.*}}) in ({{.*}} = %c1, {{.*}} = %c1{{(_[0-9]+)?}}, {{.*}}) threads({{.*}}) in ({{.*}} = %c128,
// DEFAULT: arith.truncf %{{.*}} : vector<2xf32> to vector<2xbf16>
// DEFAULT: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>
// DEFAULT-SAME: shape = #nvvm.shape<m = 16, n = 8, k = 16>
// mma_min_rows = 0: the warp-per-column product, 16 row blocks of 2.
// PINNED-LABEL: func.func @prefill32(
// PINNED: gpu.launch blocks({{.*}}) in ({{.*}} = %c16, {{.*}} = %c16{{(_[0-9]+)?}}, {{.*}}) threads({{.*}}) in ({{.*}} = %c256,
// PINNED-NOT: nvvm.mma.sync

// NOCONFIG: error: q3-lower-to-gpu needs q3.gpu_launch: run q3-choose-gpu-launch first
// THREADS: error: threads must be a multiple of 32 from 32 to 1024, got 100
// ROWS: error: product_rows must be a power of two from 1 to 64, got 6
// ARCH: error: arch must be sm_NN, got 'gfx90a'
// MMAARCH: error: mma_min_rows = 16: bf16 tensor cores (mma.sync m16n8k16) need sm_80 or later, not sm_75
// BADOPTION: error: q3-choose-gpu-launch: arch must be sm_NN, got 'gfx90a'

module attributes {q3.num_layers = 1 : i64} {
  func.func @prefill(%x: tensor<8x64xf32>) -> tensor<8x128xf32> {
    %w = q3.weight "w" : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<8x64xf32>, tensor<128x64xbf16>
    %z = q3.add %y, %y : tensor<8x128xf32>
    return %z : tensor<8x128xf32>
  }
  func.func @prefill32(%x: tensor<32x64xf32>) -> tensor<32x128xf32> {
    %w = q3.weight "w32" : tensor<128x64xbf16>
    %y = q3.linear %x, %w : tensor<32x64xf32>, tensor<128x64xbf16>
    return %y : tensor<32x128xf32>
  }
}
