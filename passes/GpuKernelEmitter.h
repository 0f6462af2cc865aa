//===- GpuKernelEmitter.h - q3 ops as CUDA kernels (gpu.launch) -*- C++ -*-===//
//
// The GPU's kernel families, built as `gpu.launch` regions on the buffers
// FunctionLowering assigned (device memory: the host code around them only
// computes views and launches). gpu-kernel-outlining makes each region a
// kernel of the module's gpu.module; the NVVM lowering and
// gpu-module-to-binary turn those into PTX. Activations are f32, weights
// and caches bf16 or f32, widened in registers; accumulation is f32.
//
// The families and how they use the machine:
//   products   one warp per output column, lanes along k with vector loads
//              of the row-major weight, a block of rows (the rows of one
//              grid row) sharing each weight load, shuffles to reduce;
//              with many rows (prompt chunks, bf16 weights) a warp per
//              tile of outputs on the tensor cores (mma.sync m16n8k16);
//              epilogues: residual add, split outputs, SwiGLU of a
//              [gate; up] pair.
//   norms      one block per row, a block reduction (gpu.all_reduce).
//   rope       one block per (token, head), a thread per rotated pair, the
//              QK-norm folded in, rows written to the cache directly.
//   attention  one block per (query head, token): a warp per key for the
//              scores, block reductions for the softmax, a thread per dim
//              for the values; a decode token's keys split into ranges, a
//              block per (head, range), then a combine (flash-decoding).
//   MoE        a thread per token for the router; a warp per column of
//              each (token, selection) for the experts' gate/up, then a
//              warp per output column of each token over its selections.
//   elementwise, copies and cache writes: a thread per element.
// No libdevice: exp is ex2.approx, sqrt is sqrt.rn, sin/cos are reduced
// to [-pi, pi] in f32 then sin.approx / cos.approx (NVVM intrinsics), so a
// build needs no CUDA toolkit.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_PASSES_GPUKERNELEMITTER_H
#define QWEN3C_PASSES_GPUKERNELEMITTER_H

#include "dialect/Q3Dialect.h"
#include "dialect/RopeFrequencies.h"

#include "passes/FunctionLowering.h" // ElementwiseKind

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <functional>

namespace q3 {

// A run-time index a kernel reads (a chunk's first position): a host value
// passed as a kernel argument, or, with `device` (memref<N x i64>), read
// from device memory inside the kernel, so that a captured CUDA graph of the
// function replays with the next call's value.
struct KernelIndex {
  mlir::Value host, device; // device: memref<N x i64>, the value at [slot]
  int64_t slot = 0;
};

// Launch shapes of the GPU kernel families, as the module's
// #q3.gpu_launch gives them (q3-choose-gpu-launch; the defaults are its
// choice today).
inline constexpr const char *kGpuLaunchAttrName = "q3.gpu_launch";
struct GpuLaunchShapes {
  int64_t threads = 256;         // elementwise, norms, attention
  int64_t productWarps = 4;      // output columns per product block
  int64_t productRows = 8;       // most input rows one block shares a weight load with
  int64_t productVector = 8;     // most weight elements one lane loads at once (16 bytes of bf16)
  int64_t decodeSplits = 32;     // key ranges of one decode token's attention per query head
  int64_t mmaMinRows = 16;       // products of this many rows or more on tensor cores (0: none)
  int64_t mmaWarpRows = 32;      // a warp's output tile on the tensor cores: rows
  int64_t mmaWarpCols = 32;      // and columns
  static GpuLaunchShapes of(GpuLaunchAttr a) {
    return {a.getThreads(),     a.getProductWarps(), a.getProductRows(),  a.getProductVector(), a.getDecodeSplits(),
            a.getMmaMinRows(),  a.getMmaWarpRows(),  a.getMmaWarpCols()};
  }
  // As the attribute, or null after `emitError` said which field is out of range.
  GpuLaunchAttr attr(llvm::function_ref<mlir::InFlightDiagnostic()> emitError, mlir::MLIRContext *context,
                     llvm::StringRef arch) const {
    return GpuLaunchAttr::getChecked(emitError, context, arch, threads, productWarps, productRows, productVector,
                                     decodeSplits, mmaMinRows, mmaWarpRows, mmaWarpCols);
  }
};

// What a product adds to y = x * W^T (row-layout W [N, K]).
struct GpuProduct {
  mlir::Value residual;                // [M, N]: added in the epilogue
  bool gated = false;                  // W = [gate; up]: out = silu(gate row) * up row
  llvm::SmallVector<mlir::Value> outs; // one output, or one per split part (columns in order)
};

class GpuKernelEmitter {
public:
  GpuKernelEmitter(mlir::OpBuilder &b, mlir::Location loc, mlir::ModuleOp module, GpuLaunchShapes shapes)
      : b(b), loc(loc), module(module), shapes(shapes) {}

  void embedding(mlir::Value table, mlir::Value ids, mlir::Value out);
  void rmsNorm(mlir::Value x, mlir::Value w, double eps, mlir::Value out);
  void product(mlir::Value x, mlir::Value w, const GpuProduct &p);
  // RoPE of [T, heads, D] rows, QK-norm first when `norm` is given; rows to
  // `out`, or into cache[layer] at offset + t (dropped past its capacity).
  void rope(mlir::Value x, mlir::Value norm, double eps, const KernelIndex &offset, const RopeSpec &spec, bool splitHalves,
            mlir::Value out, mlir::Value cache, mlir::Value layer);
  void kvWrite(mlir::Value value, mlir::Value cache, mlir::Value layer, const KernelIndex &offset);
  // `scores`: [T, heads, C] f32 scratch. With `partials` ([heads, splits,
  // D + 2] f32 scratch; one token), split-KV: a block per (query head, key
  // range) leaves its unnormalised sum, maximum and exp-sum there, and a
  // second kernel combines the ranges.
  void attention(mlir::Value q, mlir::Value k, mlir::Value v, mlir::Value layer, const KernelIndex &offset, double scale,
                 mlir::Value scores, mlir::Value out, mlir::Value partials = {});
  // Per token (a thread each): softmax over the experts into `probs`
  // ([T, E] f32 scratch), the top_k largest (ties: lower expert first),
  // renormalised when `normalise`: `weights` [T, k] f32, `experts` [T, k] i32.
  void moeRouter(mlir::Value logits, int64_t topK, bool normalise, mlir::Value probs, mlir::Value weights,
                 mlir::Value experts);
  // The selected experts' SwiGLU FFNs (row-layout [E, I, H] / [E, H, I]
  // weights), the expert of each (token, selection) read on the device:
  // silu(gate x) * up x into `act` ([T * k, I] f32 scratch), a warp per
  // column of each (token, selection); then a warp per output column of
  // each token sums its selections' down products times their weights.
  void moeExperts(mlir::Value x, mlir::Value weights, mlir::Value experts, mlir::Value gate, mlir::Value up,
                  mlir::Value down, mlir::Value act, mlir::Value out);
  using Elementwise = ElementwiseKind;
  void elementwise(Elementwise kind, mlir::Value lhs, mlir::Value rhs, mlir::Value out);
  void copy(mlir::Value from, mlir::Value to);

private:
  struct Ids {
    mlir::Value bx, by, tx;
  };
  using Body = std::function<void(const Ids &)>;
  // A gpu.launch of grid (gx, gy) and `threads` threads; `body` builds its region.
  void launch(mlir::Value gx, mlir::Value gy, int64_t threads, const Body &body);
  void launch(int64_t gx, int64_t gy, int64_t threads, const Body &body);

  // Products of many rows on the tensor cores (#q3.gpu_launch's mma_*):
  // bf16 mma.sync tiles, activations rounded to bf16.
  bool onTensorCores(mlir::Value x, mlir::Value w, const GpuProduct &p) const;
  void productMma(mlir::Value x, mlir::Value w, const GpuProduct &p);
  mlir::Value bf16Pair(mlir::Value mem, mlir::ValueRange at); // two elements, bf16, as an i32
  // The epilogue of output (m, n): the residual, then the output (part) holding n.
  void storeProductOutput(const GpuProduct &p, mlir::Value m, mlir::Value n, mlir::Value v);

  mlir::Value idx(int64_t v);
  mlir::Value indexOf(const KernelIndex &i); // inside a kernel
  mlir::Value f32(double v);
  mlir::Value load(mlir::Value mem, mlir::ValueRange at);                 // widened to f32
  void store(mlir::Value v, mlir::Value mem, mlir::ValueRange at);        // rounded to the memref's type
  mlir::Value loadVector(mlir::Value mem, mlir::ValueRange at, int64_t n); // vector<n x f32>
  llvm::SmallVector<mlir::Value> delinearize(mlir::Value linear, llvm::ArrayRef<int64_t> shape);
  void ifThen(mlir::Value cond, const std::function<void()> &then);
  void forLoop(mlir::Value lb, mlir::Value ub, mlir::Value step, const std::function<void(mlir::Value)> &body);
  mlir::Value forReduce(mlir::Value lb, mlir::Value ub, mlir::Value step, mlir::ValueRange init,
                        const std::function<llvm::SmallVector<mlir::Value>(mlir::Value, mlir::ValueRange)> &body,
                        unsigned result = 0, llvm::SmallVector<mlir::Value> *all = nullptr);
  mlir::Value warpSum(mlir::Value v);
  // A warp's dot products along k (K of them, `vw` a lane at a time, lane
  // `lane`): `step` adds one k's vectors to `count` accumulators; returns
  // each accumulator's total, in every lane.
  llvm::SmallVector<mlir::Value> warpDots(mlir::Value lane, int64_t K, int64_t vw, int64_t count,
                                          const std::function<llvm::SmallVector<mlir::Value>(mlir::Value, mlir::ValueRange)> &step);
  int64_t laneVector(int64_t K) const; // the widest lane vector whole warps of which cover K
  mlir::Value blockSum(mlir::Value v);
  mlir::Value blockMax(mlir::Value v);
  mlir::Value exp(mlir::Value x);
  mlir::Value sqrt(mlir::Value x);
  mlir::Value silu(mlir::Value x);
  // sin / cos of an f32 angle of any size: reduced to [-pi, pi] first.
  std::pair<mlir::Value, mlir::Value> cosSin(mlir::Value angle);
  mlir::Value nvvm(llvm::StringRef intrinsic, mlir::Value x);
  mlir::Value ropeFrequencies(int64_t D, const RopeSpec &spec);

  mlir::OpBuilder &b;
  mlir::Location loc;
  mlir::ModuleOp module;
  GpuLaunchShapes shapes;
};

} // namespace q3

#endif
